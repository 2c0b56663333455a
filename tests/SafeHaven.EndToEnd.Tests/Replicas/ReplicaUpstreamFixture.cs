using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Replicas;

/// <summary>
/// The upstream every replica test mirrors: a static PEP 691 JSON simple repository (what a bandersnatch or
/// <c>pip download</c>-built mirror holds) of tiny wheels built with <c>pip wheel</c>, plus Debian's own pip and
/// setuptools wheels (1.7 and 1.2 MB) for real-sized downloads, served by a real nginx with an access log.
/// Left out on purpose, as a static mirror of PyPI has none of them: the HTML simple pages (JSON only), PEP 658
/// <c>.metadata</c> files, the JSON API (<c>/pypi/&lt;name&gt;/json</c>), ETags on index pages beyond nginx's own, and
/// any yanked or requires-python data except where the builder writes it.
/// </summary>
public sealed class ReplicaUpstreamFixture : IAsyncLifetime
{
    private NginxServer? _nginx;
    private readonly string _allowlists = Directory.CreateTempSubdirectory("safehaven-replicas-allowlists-").FullName;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-replicas-upstream-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public string UpstreamUrl => new Uri(Nginx.BaseUrl, "simple/").ToString();

    public string FilesDirectory => Path.Combine(Root, "files");

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var builder = new PyPIUpstreamBuilder(Root);
        await builder.AddBuiltProjectsAsync([
            new("shapp", "1.0", now.AddDays(-60), ["shlib>=1.0"]),
            new("shlib", "1.0", now.AddDays(-60)),
            new("shlib", "1.1", now.AddDays(-1)),
            new("shalpha", "1.0", now.AddDays(-90)),
            new("shalpha", "2.0", now.AddDays(-20)),
            new("shother", "1.0", now.AddDays(-60)),
        ]);
        await File.WriteAllTextAsync(AllowlistFile, "# approved by the Referee\nshapp\n");
        builder.AddWheel("pip", "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl", now.AddDays(-60), ">=3.7");
        builder.AddWheel("setuptools", "/usr/share/python-wheels/setuptools-66.1.1-py3-none-any.whl", now.AddDays(-60), ">=3.7");
        await builder.WriteIndexesAsync();
        // Slow enough that two replicas asked for one file at once are both still fetching it.
        _nginx = await NginxServer.StartAsync(Root, "location /files/ { limit_rate 256k; }", accessLog: true);
    }

    /// <summary>How many times upstream was asked for a file (GET requests in its access log).</summary>
    public int UpstreamGets(string filename) =>
        File.ReadAllLines(Nginx.AccessLogPath).Count(l => l.StartsWith("GET ", StringComparison.Ordinal) && l.Contains("/files/" + filename + " ", StringComparison.Ordinal));

    /// <summary>
    /// Tier 3 settings whose PyPI allowlist file (kept outside the served tree) approves shapp; shlib follows as its
    /// dependency. Entries approved through the API go to the shared database, never to this file.
    /// </summary>
    public Dictionary<string, string> Tier3Settings()
    {
        var settings = Settings(tier: 3);
        settings["Policy:AllowlistFiles:pypi"] = AllowlistFile;
        return settings;
    }

    private string AllowlistFile => Path.Combine(_allowlists, "pypi.txt");

    /// <summary>Appliance settings (Tier 2, seven-day quarantine) against this upstream.</summary>
    public Dictionary<string, string> Settings(int tier = 2) => new()
    {
        ["Tier"] = tier.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mirrors:pypi:Enabled"] = "true",
        ["Mirrors:pypi:Upstream"] = UpstreamUrl,
        ["Mirrors:pypi:TargetEnvironment:sys_platform"] = "linux",
        ["Mirrors:pypi:TargetEnvironment:os_name"] = "posix",
        ["Policy:MinimumAgeDays"] = "7",
        ["Policy:MaximumLagDays"] = "42",
    };

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(Root, recursive: true);
        Directory.Delete(_allowlists, recursive: true);
    }
}
