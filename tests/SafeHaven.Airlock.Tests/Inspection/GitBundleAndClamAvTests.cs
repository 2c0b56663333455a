using System.Diagnostics;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Tests.Support;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>Bundles made with the real git CLI; ClamAV stood in for by scripts that behave like clamdscan.</summary>
public sealed class GitBundleAndClamAvTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    [Fact]
    public async Task Git_bundle_is_verified_and_every_file_of_every_head_listed()
    {
        var bundle = MakeBundle(repo =>
        {
            System.IO.File.WriteAllText(Path.Combine(repo, "analysis.R"), "x <- 1\n");
            Directory.CreateDirectory(Path.Combine(repo, "src"));
            System.IO.File.WriteAllText(Path.Combine(repo, "src", "model.py"), "print(1)\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(repo, "latest.R"), "analysis.R");
        });

        var result = await InspectFileAsync("code.bundle", bundle);

        Assert.Equal(InspectionVerdict.Clean, result.Verdict);
        Assert.Equal("gitbundle", result.Format);
        var paths = result.Entries.Select(e => e.Path).ToList();
        Assert.Contains("code.bundle!/refs/heads/main/analysis.R", paths);
        Assert.Contains("code.bundle!/refs/heads/main/src/model.py", paths);
        Assert.Equal("analysis.R", Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.SymbolicLink).LinkTarget);
    }

    [Fact]
    public async Task Git_bundle_with_a_symlink_out_of_the_tree_is_blocked()
    {
        var bundle = MakeBundle(repo =>
        {
            System.IO.File.WriteAllText(Path.Combine(repo, "a.txt"), "a\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(repo, "keys"), "../../../root/.ssh/id_rsa");
        });

        var result = await InspectFileAsync("code.bundle", bundle);

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.Equal("code.bundle!/refs/heads/main/keys", finding.Path);
    }

    [Fact]
    public async Task Corrupt_git_bundle_is_blocked_with_gits_reason()
    {
        var bundle = await System.IO.File.ReadAllBytesAsync(MakeBundle(repo => System.IO.File.WriteAllText(Path.Combine(repo, "a.txt"), "a\n")), Ct);
        var cut = Path.Combine(_temp.Path, "cut.bundle");
        await System.IO.File.WriteAllBytesAsync(cut, bundle[..(bundle.Length - 20)], Ct);

        var result = await InspectFileAsync("cut.bundle", cut);

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.Malformed, finding.Kind);
        Assert.Contains("git", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClamAV_that_does_not_answer_in_time_fails_the_scan_without_hanging()
    {
        var script = Script("slow-clamdscan", "#!/bin/sh\nsleep 60\n");
        var inspector = new AirlockInspector(new InspectionOptions { ClamdscanPath = script, ClamAvTimeoutSeconds = 1 });
        var watch = Stopwatch.StartNew();

        var result = await inspector.InspectAsync("big.bin", _ => Task.FromResult<Stream>(new MemoryStream(new byte[4 * 1024 * 1024])), null, Ct);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.CheckFailed, finding.Kind);
        Assert.Equal(InspectionVerdict.Failed, result.Verdict);
        Assert.Contains("did not answer within 1 s", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClamAV_reporting_a_virus_blocks_the_file_and_a_clean_answer_passes()
    {
        var infected = Script("infected-clamdscan", "#!/bin/sh\ncat >/dev/null\necho 'stream: Eicar-Signature FOUND'\nexit 1\n");
        var clean = Script("clean-clamdscan", "#!/bin/sh\ncat >/dev/null\necho 'stream: OK'\nexit 0\n");
        var broken = Script("broken-clamdscan", "#!/bin/sh\ncat >/dev/null\necho 'ERROR: Could not connect to clamd' >&2\nexit 2\n");

        async Task<FileInspection> Scan(string clamdscan) =>
            await new AirlockInspector(new InspectionOptions { ClamdscanPath = clamdscan, ClamAvTimeoutSeconds = 30 })
                .InspectAsync("x.bin", _ => Task.FromResult<Stream>(new MemoryStream(HostileArchives.Text("X5O!P%@AP"))), null, Ct);

        var found = Assert.Single((await Scan(infected)).Findings);
        Assert.Equal(FindingKind.Malware, found.Kind);
        Assert.Contains("Eicar-Signature FOUND", found.Reason, StringComparison.Ordinal);
        Assert.Empty((await Scan(clean)).Findings);
        var failed = Assert.Single((await Scan(broken)).Findings);
        Assert.Equal(FindingKind.CheckFailed, failed.Kind);
        Assert.Contains("Could not connect to clamd", failed.Reason, StringComparison.Ordinal);
    }

    private async Task<FileInspection> InspectFileAsync(string name, string file)
    {
        var spool = Path.Combine(_temp.Path, "spool");
        Directory.CreateDirectory(spool);
        var inspector = new AirlockInspector(new InspectionOptions { TempDirectory = spool });
        var result = await inspector.InspectAsync(name, _ => Task.FromResult<Stream>(System.IO.File.OpenRead(file)), null, Ct);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spool));
        return result;
    }

    private string MakeBundle(Action<string> populate)
    {
        var repo = Path.Combine(_temp.Path, "repo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(repo);
        Git(repo, "init", "-q", "-b", "main");
        populate(repo);
        Git(repo, "add", "-A");
        Git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "fixture");
        var bundle = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + ".bundle");
        Git(repo, "bundle", "create", "-q", bundle, "--all");
        return bundle;
    }

    private static void Git(string repo, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = repo };
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {stderr}");
    }

    private string Script(string name, string body)
    {
        var path = Path.Combine(_temp.Path, name);
        System.IO.File.WriteAllText(path, body);
        if (!OperatingSystem.IsWindows())
        {
            System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    public void Dispose() => _temp.Dispose();
}
