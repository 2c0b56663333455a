using System.Diagnostics;
using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.PyPI;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Bundles;

/// <summary>
/// The air gap, end to end, with the real executables: appliance A (Tier 3, an allowlist, a static PyPI upstream of
/// real wheels) takes a snapshot through its sync API (<c>POST /api/sync/pypi</c>: the in-process capture), and
/// <c>safehaven sync export</c> writes a signed bundle; appliance B, started with NO upstream and A's public key (from
/// <c>safehaven apt key</c>) trusted, runs <c>safehaven sync import</c>, and Debian's pip installs from B. Tampered,
/// truncated and wrongly signed bundles are refused and B keeps serving what it had; <c>kill -9</c> of an import midway
/// leaves B's previous snapshot serving and a second import completes.
/// </summary>
/// <remarks>
/// The upstream imitates a PEP 691 JSON-only static index (no HTML variant, no changelog serials, no XML-RPC), which
/// is the least a real upstream offers. It holds wheels built with <c>pip wheel</c> by Debian's python3: two small
/// projects (one depending on the other) and one with a 48 MiB data file, so that an import of it takes long enough to
/// be killed midway.
/// </remarks>
public sealed class BundleTransferTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private readonly string _upstreamRoot = Directory.CreateTempSubdirectory("safehaven-bundle-upstream-").FullName;
    private readonly string _work = Directory.CreateTempSubdirectory("safehaven-bundle-e2e-").FullName;
    private NginxServer? _nginx;

    public async Task InitializeAsync()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-60);
        var builder = new PyPIUpstreamBuilder(_upstreamRoot);
        await builder.AddBuiltProjectsAsync([
            new("shbundle", "1.0", old, ["shbundledep>=1.0"]),
            new("shbundledep", "1.0", old),
        ]);
        builder.AddWheel("shbig", await BuildBigWheelAsync(), old);
        await builder.WriteIndexesAsync();
        _nginx = await NginxServer.StartAsync(_upstreamRoot);
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(_upstreamRoot, recursive: true);
        Directory.Delete(_work, recursive: true);
    }

    /// <summary>A real wheel carrying 48 MiB of random package data (stored, not compressible).</summary>
    private async Task<string> BuildBigWheelAsync()
    {
        var project = Path.Combine(_work, "shbig-src");
        Directory.CreateDirectory(Path.Combine(project, "shbig"));
        await File.WriteAllTextAsync(Path.Combine(project, "shbig", "__init__.py"), "VERSION = \"1.0\"\n");
        await using (var data = File.Create(Path.Combine(project, "shbig", "data.bin")))
        {
            var chunk = new byte[1 << 20];
            for (var i = 0; i < 48; i++)
            {
                Random.Shared.NextBytes(chunk);
                await data.WriteAsync(chunk);
            }
        }
        await File.WriteAllTextAsync(Path.Combine(project, "pyproject.toml"), """
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "shbig"
            version = "1.0"
            description = "SafeHaven end-to-end fixture: a large wheel"

            [tool.setuptools]
            packages = ["shbig"]

            [tool.setuptools.package-data]
            shbig = ["*.bin"]
            """);
        var output = Path.Combine(_work, "shbig-wheel");
        await ProcessRunner.RunCheckedAsync("/usr/bin/python3",
            ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "-w", output, project],
            environment: PipEnvironment.Isolated(), timeout: TimeSpan.FromMinutes(5));
        return Directory.EnumerateFiles(output, "shbig-1.0-*.whl").Single();
    }

    [Fact]
    public async Task A_bundle_crosses_the_air_gap_and_damaged_bundles_and_a_killed_import_change_nothing()
    {
        var allowlist = Path.Combine(_work, "pypi-allowlist.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nshbundle\n");
        var a = await ApplianceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Tier"] = "3",
            ["Mirrors:pypi:Upstream"] = new Uri(_nginx!.BaseUrl, "simple/").ToString(),
            ["Policy:AllowlistFiles:pypi"] = allowlist,
            ["Policy:MinimumAgeDays"] = "7",
            ["Policy:MaximumLagDays"] = "42",
        });
        var started = new List<ApplianceProcess> { a };
        try
        {
            await TransferAsync(a, allowlist, started);
        }
        finally
        {
            foreach (var process in started)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>The scenario. A is restarted once; every process it started is added to <paramref name="started"/> for disposal.</summary>
    private async Task TransferAsync(ApplianceProcess a, string allowlist, List<ApplianceProcess> started)
    {
        using var manager = await a.CreateManagementClientAsync();

        // A's first snapshot: the allowlist closure (shbundle, shbundledep) with its wheels prefetched.
        var first = await SyncAsync(a, manager, previous: null);
        var fullTar = Path.Combine(_work, "first.tar");
        Expect(await a.RunCliAsync("sync", "export", "--ecosystem", "pypi", "--to", fullTar), 0);
        var keyResult = await a.RunCliAsync("apt", "key");
        Expect(keyResult, 0);
        var keyFile = Path.Combine(_work, "a-key.asc");
        await File.WriteAllTextAsync(keyFile, keyResult.StandardOutput);

        await using var b = await ApplianceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Tier"] = "3",
            // No upstream (the sample safehaven.json names one; emptied here): a snapshot-only mirror, as on a site with no upstream face.
            ["Mirrors:pypi:Enabled"] = "true",
            ["Mirrors:pypi:Upstream"] = "",
            ["Sync:TrustedKeys:0"] = keyFile,
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Http.GetAsync(b.PyPIIndexUrl)).StatusCode);

        var imported = await b.RunCliAsync("sync", "import", fullTar);
        Expect(imported, 0);
        Assert.Contains($"exported as {first}", imported.StandardOutput, StringComparison.Ordinal);
        var install = await Pip.InstallAsync(PipClient.Debian, b.PyPIIndexUrl, "shbundle");
        Assert.True(install.Succeeded, install.Process.Output + b.Log);
        Assert.Equal("1.0", install.Installed["shbundle"]);
        Assert.Equal("1.0", install.Installed["shbundledep"]);
        var servedBefore = await RootPageAsync(b);
        Assert.DoesNotContain("shbig", servedBefore, StringComparison.Ordinal);

        // A's second snapshot adds shbig (48 MiB); its incremental bundle carries only what the first lacks.
        // The allowlist file is read at start, so A restarts with the new list (same data directory, same port).
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nshbundle\nshbig\n");
        a = await a.RestartAsync(TimeSpan.FromSeconds(120));
        started.Add(a);
        await WaitForAsync(async () =>
        {
            using var response = await Http.GetAsync(new Uri(a.BaseUrl, "pypi/simple/shbig/"));
            return response.StatusCode == HttpStatusCode.OK ? "" : null;
        }, "A to serve shbig after the allowlist change", a);
        var second = await SyncAsync(a, manager, previous: first);
        var incrementalTar = Path.Combine(_work, "second-since-first.tar");
        var incrementalDir = Path.Combine(_work, "second-since-first");
        Expect(await a.RunCliAsync("sync", "export", "--since", first[..12], "--to", incrementalTar), 0);
        Expect(await a.RunCliAsync("sync", "export", "--since", first[..12], "--to", incrementalDir), 0);
        Assert.InRange(new FileInfo(incrementalTar).Length, 48L << 20, new FileInfo(fullTar).Length + (50L << 20));

        // Damaged or untrusted bundles: refused with the reason, exit 1, and B still serves the first snapshot.
        var tampered = Path.Combine(_work, "tampered.tar");
        File.Copy(incrementalTar, tampered);
        using (var file = new FileStream(tampered, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2; // inside shbig's wheel, by far the largest member
            var value = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(value ^ 0x01));
        }
        await RefusedAsync(b, servedBefore, "has SHA-256", "sync", "import", tampered);

        var truncated = Path.Combine(_work, "truncated.tar");
        File.Copy(incrementalTar, truncated);
        using (var file = new FileStream(truncated, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length * 2 / 3);
        }
        await RefusedAsync(b, servedBefore, "truncated", "sync", "import", truncated);

        await SignWithAStrangersKeyAsync(Path.Combine(incrementalDir, "bundle.json"));
        await RefusedAsync(b, servedBefore, "not by a trusted key", "sync", "import", incrementalDir);

        // kill -9 midway through the import of the 48 MiB wheel: nothing published, the first snapshot still serves.
        var killed = b.StartCli("sync", "import", incrementalTar);
        var copying = await WaitForLineAsync(killed, "importing pypi snapshot");
        Assert.True(copying, "the import never started copying");
        // Freeze it (SIGSTOP) until a blob is caught half-written in B's blob store, then SIGKILL it: "midway" for certain.
        var temp = Path.Combine(b.DataDirectory, "blobs", "tmp");
        var caught = false;
        for (var attempt = 0; attempt < 2000 && !caught; attempt++)
        {
            await ProcessRunner.RunCheckedAsync("kill", ["-STOP", killed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.False(killed.HasExited, "the import finished before it could be killed");
            caught = Directory.Exists(temp) && Directory.EnumerateFiles(temp).Any(f => new FileInfo(f).Length > 0);
            if (!caught)
            {
                await ProcessRunner.RunCheckedAsync("kill", ["-CONT", killed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }
        }
        Assert.True(caught, "no half-written blob was seen while importing");
        killed.Kill(entireProcessTree: true); // SIGKILL, while stopped mid-copy
        await killed.WaitForExitAsync();
        Assert.Equal(servedBefore, await RootPageAsync(b));
        var afterKill = await Pip.InstallAsync(PipClient.Debian, b.PyPIIndexUrl, "shbundle");
        Assert.True(afterKill.Succeeded, afterKill.Process.Output + b.Log);

        // The second import completes (resuming: blobs the killed run stored are checked, not copied again).
        var resumed = await b.RunCliAsync("sync", "import", incrementalTar);
        Expect(resumed, 0);
        Assert.Contains($"exported as {second}", resumed.StandardOutput, StringComparison.Ordinal);
        // The running appliance remembers which snapshot is current for SnapshotServing.LookupTtl, then serves the import.
        Assert.Contains("shbig", await RootPageOnceItHasAsync(b, "shbig"), StringComparison.Ordinal);
        var final = await Pip.InstallAsync(PipClient.Debian, b.PyPIIndexUrl, "shbundle");
        Assert.True(final.Succeeded, final.Process.Output + b.Log);

        // Both appliances' audit logs hold the transfers and are intact.
        Expect(await a.RunCliAsync("audit", "verify"), 0);
        Expect(await b.RunCliAsync("audit", "verify"), 0);
    }

    private static void Expect(ProcessResult result, int exitCode) =>
        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}, expected {exitCode}:\n{result.Output}");

    private static async Task<string> RootPageAsync(ApplianceProcess appliance)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, appliance.PyPIIndexUrl);
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<string> RootPageOnceItHasAsync(ApplianceProcess appliance, string project)
    {
        var deadline = DateTime.UtcNow + SafeHaven.Gateway.Snapshots.SnapshotServing.LookupTtl + TimeSpan.FromSeconds(10);
        var page = await RootPageAsync(appliance);
        while (!page.Contains(project, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            page = await RootPageAsync(appliance);
        }
        return page;
    }

    private static async Task RefusedAsync(ApplianceProcess b, string servedBefore, string reason, params string[] arguments)
    {
        var result = await b.RunCliAsync(arguments);
        Expect(result, 1);
        Assert.Contains("REFUSED", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(reason, result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Nothing was published", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(servedBefore, await RootPageAsync(b));
    }

    /// <summary>Replaces the bundle's signature with one by a key A never had (real gpg, throwaway home).</summary>
    private async Task SignWithAStrangersKeyAsync(string descriptor)
    {
        var home = Directory.CreateTempSubdirectory("safehaven-gnupg-").FullName;
        try
        {
            var environment = new Dictionary<string, string?> { ["GNUPGHOME"] = home };
            await ProcessRunner.RunCheckedAsync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "Stranger <stranger@example.invalid>", "ed25519", "sign", "never"],
                environment: environment, timeout: TimeSpan.FromMinutes(1));
            await ProcessRunner.RunCheckedAsync("gpg", ["--batch", "--yes", "--armor", "--detach-sign", "--output", descriptor + ".sig", descriptor],
                environment: environment, timeout: TimeSpan.FromMinutes(1));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>Starts a sync of pypi on <paramref name="appliance"/> and waits for a new current snapshot; returns its id.</summary>
    private static async Task<string> SyncAsync(ApplianceProcess appliance, HttpClient manager, string? previous)
    {
        using var started = await manager.PostAsync("api/sync/pypi", null);
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        return await WaitForAsync(async () =>
        {
            var report = JsonDocument.Parse(await manager.GetStringAsync("api/sync/pypi")).RootElement;
            if (report.GetProperty("running").GetBoolean())
            {
                return null;
            }
            if (report.TryGetProperty("lastError", out var error) && error.ValueKind == JsonValueKind.String
                && report.GetProperty("lastFailure").ValueKind == JsonValueKind.String
                && (report.GetProperty("lastSuccess").ValueKind != JsonValueKind.String || report.GetProperty("lastFailure").GetDateTimeOffset() > report.GetProperty("lastSuccess").GetDateTimeOffset()))
            {
                throw new InvalidOperationException($"the sync failed: {error.GetString()}\n{appliance.Log}");
            }
            var id = report.TryGetProperty("current", out var current) && current.ValueKind == JsonValueKind.Object ? current.GetProperty("id").GetString() : null;
            return id is not null && id != previous ? id : null;
        }, "a new pypi snapshot on A", appliance);
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, ApplianceProcess appliance) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited for {what}; appliance log:\n{appliance.Log}");
            }
            await Task.Delay(500);
        }
    }

    private static async Task<bool> WaitForLineAsync(Process process, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        _ = process.StandardError.ReadToEndAsync(timeout.Token);
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
