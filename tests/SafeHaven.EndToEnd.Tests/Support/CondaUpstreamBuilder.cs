using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>The two archive formats a conda channel lists: <c>.conda</c> (under <c>packages.conda</c>) and the older <c>.tar.bz2</c> (under <c>packages</c>).</summary>
public enum CondaFormat
{
    Conda,
    TarBz2,
}

/// <summary>
/// One package of a fixture channel. <see cref="Timestamp"/> is the upload time the index records (written in the
/// channel's unit; none when null, as some old records have). <see cref="WithoutSha256"/> leaves <c>sha256</c> out
/// of the record (old channels have such records; the appliance must not list them).
/// </summary>
public sealed record CondaFixturePackage(
    string Name,
    string Version,
    string Subdir = "noarch",
    string Build = "0",
    int BuildNumber = 0,
    IReadOnlyList<string>? Depends = null,
    DateTimeOffset? Timestamp = null,
    CondaFormat Format = CondaFormat.Conda,
    bool WithoutSha256 = false)
{
    public string FileName => $"{Name}-{Version}-{Build}" + (Format == CondaFormat.Conda ? ".conda" : ".tar.bz2");
}

/// <summary>How a real channel writes its index.</summary>
public enum CondaChannelShape
{
    /// <summary>
    /// Like conda-forge today: <c>packages.conda</c> for <c>.conda</c> files and <c>packages</c> for the old
    /// <c>.tar.bz2</c> ones, <c>timestamp</c> in milliseconds, <c>repodata_version</c> 1 and no <c>base_url</c>.
    /// </summary>
    CondaForge,

    /// <summary>
    /// Like an old defaults-style channel: only <c>packages</c> (no <c>packages.conda</c> key at all), every file a
    /// <c>.tar.bz2</c>, <c>timestamp</c> in seconds (as conda-build wrote it before 2016's switch to milliseconds).
    /// </summary>
    OldDefaults,
}

/// <summary>
/// Builds a conda channel at test time as a channel's own tools make one: each package a real archive made by
/// Debian's <c>conda-package-handling</c> from a small folder with <c>info/index.json</c>, <c>info/files</c> and one
/// file (<c>cph create</c> makes the <c>.tar.bz2</c>, <c>cph transmute</c> turns it into a <c>.conda</c>); then one <c>&lt;subdir&gt;/repodata.json</c> per subdir written by a small indexer
/// here, with <c>sha256</c>, <c>md5</c> and <c>size</c> read from the real files and the chosen timestamps.
/// Left out on purpose, as the least complete real channel has it: no <c>current_repodata.json</c>, no
/// <c>channeldata.json</c>, no sharded repodata (<c>repodata_shards.msgpack.zst</c>), no compressed index
/// (<c>repodata.json.zst</c> or <c>.bz2</c>), no <c>constrains</c>, <c>track_features</c>, <c>license_family</c> or
/// <c>purls</c> in the records, and no <c>base_url</c>. Both <c>noarch</c> and <c>linux-64</c> always have a
/// <c>repodata.json</c>, possibly empty, as every real channel publishes both.
/// </summary>
public sealed class CondaUpstreamBuilder(string root, CondaChannelShape shape)
{
    public static readonly IReadOnlyList<string> Subdirs = ["noarch", "linux-64"];

    private readonly Dictionary<string, (string Sha256, long Size)> _files = [];

    public string Root => root;

    /// <summary>The path of a package file in the channel.</summary>
    public string PathOf(CondaFixturePackage package) => Path.Combine(root, package.Subdir, package.FileName);

    /// <summary>The sha256 (hex) and size the index records for a file, as read from the file when it was indexed.</summary>
    public (string Sha256, long Size) Indexed(CondaFixturePackage package) => Indexed(package.Subdir, package.FileName);

    /// <inheritdoc cref="Indexed(CondaFixturePackage)"/>
    public (string Sha256, long Size) Indexed(string subdir, string fileName) => _files[subdir + "/" + fileName];

    /// <summary>Makes every package with <c>cph</c> (in parallel) and writes each subdir's <c>repodata.json</c>.</summary>
    public async Task BuildAsync(IReadOnlyList<CondaFixturePackage> packages)
    {
        if (shape == CondaChannelShape.OldDefaults && packages.Any(p => p.Format != CondaFormat.TarBz2))
        {
            throw new ArgumentException("an old defaults-style channel has only .tar.bz2 files", nameof(packages));
        }
        // Fixtures that publish the same packages (the same channel under two tiers) share one build per test run.
        var key = shape + JsonSerializer.Serialize(packages);
        var archives = await Archives.GetOrAdd(key, _ => new Lazy<Task<string>>(() => MakeArchivesAsync(packages))).Value;
        foreach (var subdir in Subdirs)
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, subdir)).FullName;
            foreach (var package in packages.Where(p => p.Subdir == subdir))
            {
                File.Copy(Path.Combine(archives, subdir, package.FileName), Path.Combine(folder, package.FileName));
            }
            await WriteRepodataAsync(subdir, packages.Where(p => p.Subdir == subdir).ToList());
        }
    }

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Archives = new();

    private static readonly Lazy<string> ArchiveCache = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("safehaven-conda-archives-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return folder;
    });

    /// <summary>Makes the archives into a new folder of the run's archive cache, one subfolder per subdir.</summary>
    private async Task<string> MakeArchivesAsync(IReadOnlyList<CondaFixturePackage> packages)
    {
        var output = Directory.CreateDirectory(Path.Combine(ArchiveCache.Value, Guid.NewGuid().ToString("n"))).FullName;
        var work = Directory.CreateTempSubdirectory("safehaven-conda-pkg-").FullName;
        try
        {
            // Every package is made as a .tar.bz2 by `cph create`; a .conda is that archive converted by one
            // `cph transmute` per subdir. cph's own `create` compresses a .conda at zstd level 21, which takes
            // seconds per package on a shared machine; transmute takes the level (3 here): the same format.
            await Task.WhenAll(packages.Select(p => MakeAsync(p, work, output)));
            foreach (var subdir in Subdirs)
            {
                var staged = Path.Combine(work, "to-conda", subdir);
                if (Directory.Exists(staged) && Directory.EnumerateFiles(staged).Any())
                {
                    await ProcessRunner.RunCheckedAsync("cph", ["transmute", Path.Combine(staged, "*.tar.bz2"), ".conda",
                        "--out-folder", Directory.CreateDirectory(Path.Combine(output, subdir)).FullName, "--zstd-compression-level", "3"], timeout: TimeSpan.FromMinutes(1));
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        return output;
    }

    private async Task MakeAsync(CondaFixturePackage package, string work, string output)
    {
        var tree = Path.Combine(work, package.Subdir + "-" + Path.GetFileNameWithoutExtension(package.FileName) + "-" + package.Format);
        var payload = Path.Combine("share", package.Name, package.Name + ".txt");
        Directory.CreateDirectory(Path.Combine(tree, "info"));
        Directory.CreateDirectory(Path.Combine(tree, "share", package.Name));
        await File.WriteAllTextAsync(Path.Combine(tree, payload), $"{package.Name} {package.Version} {package.Build}\n");
        await File.WriteAllTextAsync(Path.Combine(tree, "info", "files"), payload + "\n");
        await File.WriteAllTextAsync(Path.Combine(tree, "info", "index.json"), Record(package, null).ToJsonString());
        var folder = Path.Combine(package.Format == CondaFormat.Conda ? Path.Combine(work, "to-conda") : output, package.Subdir);
        Directory.CreateDirectory(folder);
        var tarBz2 = package.Format == CondaFormat.Conda ? Path.ChangeExtension(package.FileName, null) + ".tar.bz2" : package.FileName;
        await ProcessRunner.RunCheckedAsync("cph", ["create", tree, tarBz2, "--out-folder", folder], timeout: TimeSpan.FromMinutes(1));
    }

    private async Task WriteRepodataAsync(string subdir, IReadOnlyList<CondaFixturePackage> packages)
    {
        var tarBz2 = new JsonObject();
        var conda = new JsonObject();
        foreach (var package in packages.OrderBy(p => p.FileName, StringComparer.Ordinal))
        {
            var path = PathOf(package);
            await using var file = File.OpenRead(path);
            var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
            file.Position = 0;
            var md5 = Convert.ToHexStringLower(await MD5.HashDataAsync(file));
            _files[subdir + "/" + package.FileName] = (sha256, file.Length);
            var record = Record(package, (sha256, md5, file.Length));
            (package.Format == CondaFormat.Conda ? conda : tarBz2)[package.FileName] = record;
        }
        var repodata = new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = subdir },
            ["packages"] = tarBz2,
        };
        if (shape == CondaChannelShape.CondaForge)
        {
            repodata["packages.conda"] = conda;
        }
        repodata["removed"] = new JsonArray();
        repodata["repodata_version"] = 1;
        await File.WriteAllTextAsync(Path.Combine(root, subdir, "repodata.json"), repodata.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The package's record: its <c>info/index.json</c>, plus the file's hashes and size in the index.</summary>
    private JsonObject Record(CondaFixturePackage package, (string Sha256, string Md5, long Size)? file)
    {
        var record = new JsonObject
        {
            ["build"] = package.Build,
            ["build_number"] = package.BuildNumber,
            ["depends"] = new JsonArray([.. (package.Depends ?? []).Select(d => (JsonNode)d)]),
            ["license"] = "MIT",
        };
        if (file is { } f)
        {
            record["md5"] = f.Md5;
        }
        record["name"] = package.Name;
        if (package.Subdir == "noarch")
        {
            record["noarch"] = "generic";
        }
        if (file is { } g && !package.WithoutSha256)
        {
            record["sha256"] = g.Sha256;
        }
        if (file is { } h)
        {
            record["size"] = h.Size;
        }
        record["subdir"] = package.Subdir;
        if (package.Timestamp is { } timestamp)
        {
            record["timestamp"] = shape == CondaChannelShape.CondaForge ? timestamp.ToUnixTimeMilliseconds() : timestamp.ToUnixTimeSeconds();
        }
        record["version"] = package.Version;
        return record;
    }

    /// <summary>
    /// Changes bytes of a listed file after it was indexed, keeping its size (a mirror serving a corrupted or replaced
    /// file under the same name); returns the original bytes.
    /// </summary>
    public async Task<byte[]> TamperAsync(CondaFixturePackage package)
    {
        var path = PathOf(package);
        var original = await File.ReadAllBytesAsync(path);
        var changed = (byte[])original.Clone();
        for (var i = changed.Length / 2; i < Math.Min(changed.Length, changed.Length / 2 + 16); i++)
        {
            changed[i] ^= 0x5a;
        }
        await File.WriteAllBytesAsync(path, changed);
        return original;
    }
}
