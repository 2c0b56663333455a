using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// The real <c>apt-get</c> in a scratch root of its own (<c>Dir</c>, an empty <c>Dir::State::status</c>, no system
/// sources or keyrings), with one deb822 <c>sources</c> entry that pins the repository to a key with <c>Signed-By</c>,
/// exactly as the README tells clients to write it.
/// </summary>
public sealed class AptClient : IDisposable
{
    private readonly string _config;

    private AptClient(string root, string config)
    {
        Root = root;
        _config = config;
    }

    public string Root { get; }

    /// <summary>Where <c>install --download-only</c> leaves the <c>.deb</c>s it fetched.</summary>
    public string Archives => Path.Combine(Root, "cache", "archives");

    public static Task<AptClient> CreateAsync(Uri repository, string suite, string signedByKey) =>
        CreateAsync([(repository, suite)], signedByKey);

    /// <summary>A client with one deb822 entry per repository (e.g. a distribution and its security repository).</summary>
    public static async Task<AptClient> CreateAsync(IReadOnlyList<(Uri Repository, string Suite)> sources, string signedByKey)
    {
        var root = Directory.CreateTempSubdirectory("safehaven-apt-client-").FullName;
        foreach (var folder in new[] { "etc/sources.list.d", "etc/preferences.d", "etc/apt.conf.d", "etc/trusted.gpg.d", "state/lists/partial", "cache/archives/partial", "downloads" })
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
        }
        await File.WriteAllTextAsync(Path.Combine(root, "status"), "");
        var key = Path.Combine(root, "signed-by.asc");
        File.Copy(signedByKey, key);
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "sources.list.d", "safehaven.sources"), string.Join("\n", sources.Select(s => $"""
            Types: deb
            URIs: {s.Repository}
            Suites: {s.Suite}
            Components: main
            Signed-By: {key}

            """)));
        var config = Path.Combine(root, "apt.conf");
        await File.WriteAllTextAsync(config, $"""
            Dir "{root}/";
            Dir::State "{root}/state/";
            Dir::State::status "{root}/status";
            Dir::Cache "{root}/cache/";
            Dir::Etc "{root}/etc/";
            Dir::Etc::sourcelist "/dev/null";
            Dir::Etc::sourceparts "{root}/etc/sources.list.d/";
            Dir::Etc::main "/dev/null";
            Dir::Etc::parts "{root}/etc/apt.conf.d/";
            Dir::Etc::preferences "/dev/null";
            Dir::Etc::preferencesparts "{root}/etc/preferences.d/";
            Dir::Etc::Trusted "/dev/null";
            Dir::Etc::TrustedParts "{root}/etc/trusted.gpg.d/";
            Debug::NoLocking "true";
            APT::Sandbox::User "root";
            APT::Architecture "amd64";
            APT::Architectures:: "amd64";
            Acquire::Languages "none";
            Acquire::http::Proxy "DIRECT";
            Acquire::Retries "0";

            """);
        return new AptClient(root, config);
    }

    private Task<ProcessResult> RunAsync(string directory, params string[] arguments) =>
        ProcessRunner.RunAsync("apt-get", arguments, directory,
            new Dictionary<string, string?> { ["APT_CONFIG"] = _config, ["LC_ALL"] = "C", ["DEBIAN_FRONTEND"] = "noninteractive", ["http_proxy"] = null, ["HTTP_PROXY"] = null },
            TimeSpan.FromMinutes(3));

    /// <summary><c>apt-get update</c>; apt exits 0 even when a source failed, so callers also read the output.</summary>
    public Task<ProcessResult> UpdateAsync() => RunAsync(Root, "-q", "update");

    /// <summary><c>apt-get install --download-only -y</c>: resolves dependencies as for an install and fetches every <c>.deb</c>.</summary>
    public Task<ProcessResult> InstallDownloadOnlyAsync(params string[] packages) =>
        RunAsync(Root, ["-q", "-y", "install", "--download-only", "--no-install-recommends", .. packages]);

    /// <summary><c>apt-get download</c> into <see cref="DownloadsDirectory"/>.</summary>
    public Task<ProcessResult> DownloadAsync(params string[] packages) => RunAsync(DownloadsDirectory, ["-q", "download", .. packages]);

    public string DownloadsDirectory => Path.Combine(Root, "downloads");

    /// <summary>The <c>.deb</c> files fetched by install (the archive cache).</summary>
    public IReadOnlyList<string> Fetched() =>
        Directory.GetFiles(Archives, "*.deb").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
