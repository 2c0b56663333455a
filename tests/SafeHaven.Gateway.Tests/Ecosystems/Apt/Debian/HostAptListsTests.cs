using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

/// <summary>
/// A real-world smoke test: the indexes this machine's own apt downloaded (<c>/var/lib/apt/lists</c>, whatever
/// repositories it is configured with) are read entry by entry. Skipped, saying so, where apt has no lists.
/// </summary>
public sealed partial class HostAptListsTests
{
    private const string Lists = "/var/lib/apt/lists";

    internal static IReadOnlyList<string> Files(string suffixPattern) =>
        Directory.Exists(Lists)
            ? Directory.EnumerateFiles(Lists).Where(f => Regex.IsMatch(Path.GetFileName(f), suffixPattern)).Order(StringComparer.Ordinal).ToList()
            : [];

    internal const string PackagesPattern = @"_binary-([a-z0-9-]+)_Packages(\.lz4|\.gz|\.xz)?$";

    [GeneratedRegex(PackagesPattern)]
    private static partial Regex PackagesName();

    [HostAptListsFact("_Packages")]
    public async Task Reads_every_entry_of_the_hosts_Packages_indexes()
    {
        var total = 0;
        foreach (var file in Files(PackagesPattern))
        {
            var architecture = PackagesName().Match(Path.GetFileName(file)).Groups[1].Value;
            var (stream, process) = Open(file);
            var count = 0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                await foreach (var paragraph in Deb822Reader.ReadAsync(stream, new Deb822Limits(), CancellationToken.None))
                {
                    var package = AptPackage.FromParagraph(paragraph, architecture);
                    names.Add(package.Name);
                    count++;
                }
            }
            finally
            {
                await stream.DisposeAsync();
                if (process is not null)
                {
                    await process.WaitForExitAsync();
                    Assert.True(process.ExitCode == 0, $"{Path.GetFileName(file)}: the decompressor failed ({process.ExitCode})");
                    process.Dispose();
                }
            }
            Assert.True(count > 0, $"{Path.GetFileName(file)} has no entries");
            Assert.True(names.Count > 0);
            total += count;
        }
        Assert.True(total > 0);
    }

    [HostAptListsFact("_InRelease")]
    public void Reads_the_hosts_InRelease_files()
    {
        foreach (var file in Files("_InRelease$"))
        {
            // The clear-signed text, dash-escaping undone; verifying the signature is the OpenPGP layer's job, not this test's.
            var lines = File.ReadAllLines(file);
            var start = Array.IndexOf(lines, "") + 1;
            var end = Array.IndexOf(lines, "-----BEGIN PGP SIGNATURE-----");
            Assert.True(lines[0] == "-----BEGIN PGP SIGNED MESSAGE-----" && start > 0 && end > start, $"{Path.GetFileName(file)} is not clear-signed");
            var text = new StringBuilder();
            foreach (var line in lines[start..end])
            {
                text.Append(line.StartsWith("- ", StringComparison.Ordinal) ? line[2..] : line).Append('\n');
            }

            var release = ReleaseFile.Parse(text.ToString());

            Assert.NotNull(release.Suite);
            Assert.NotNull(release.Date);
            Assert.NotEmpty(release.Architectures);
            Assert.NotEmpty(release.Components);
            Assert.NotEmpty(release.Sha256);
            Assert.Contains(release.Sha256, e => e.Path.EndsWith("/Packages", StringComparison.Ordinal) || e.Path.EndsWith("/Packages.xz", StringComparison.Ordinal));
        }
    }

    internal static (Stream Stream, Process? Process) Open(string file)
    {
        if (file.EndsWith(".gz", StringComparison.Ordinal))
        {
            return (new GZipStream(File.OpenRead(file), CompressionMode.Decompress), null);
        }
        var tool = file.EndsWith(".lz4", StringComparison.Ordinal) ? "lz4" : file.EndsWith(".xz", StringComparison.Ordinal) ? "xz" : null;
        if (tool is null)
        {
            return (File.OpenRead(file), null);
        }
        var process = Process.Start(new ProcessStartInfo(tool, ["-dc", file]) { RedirectStandardOutput = true })
            ?? throw new InvalidOperationException($"cannot start {tool}");
        return (process.StandardOutput.BaseStream, process);
    }
}

/// <summary>A fact skipped, with the reason, when this machine's apt has no lists of the kind it reads.</summary>
internal sealed class HostAptListsFactAttribute : FactAttribute
{
    public HostAptListsFactAttribute(string kind)
    {
        if (HostAptListsTests.Files(kind == "_Packages" ? HostAptListsTests.PackagesPattern : kind + "$").Count == 0)
        {
            Skip = $"this machine's apt has no *{kind} files in /var/lib/apt/lists (run apt-get update to have them)";
        }
    }
}
