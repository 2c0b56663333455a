using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// A Tier 3 appliance over one archive (<c>InRelease</c> only, a <c>Release</c> dated 30 days ago so nothing is in
/// quarantine), with the allowlist <c>app</c>, <c>broken</c>. <c>app</c> needs, through <c>Pre-Depends</c> and
/// <c>Depends</c>: <c>prelib</c>; the alternative <c>missingalt | altlib</c> (only the second exists); the virtual package
/// <c>mail-transport-agent</c> (provided by <c>postman</c>); and <c>libgreet (&gt;= 1.0)</c>. <c>broken</c> needs a
/// package upstream does not have. <c>unlisted</c> is upstream but approved by nobody.
/// </summary>
public sealed class AptAllowlistFixture : IAsyncLifetime
{
    private NginxServer? _nginx;
    private ApplianceProcess? _appliance;
    private AptSigningKey? _key;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-apt-t3-upstream-").FullName;

    public ApplianceProcess Appliance => _appliance ?? throw new InvalidOperationException("not started");

    public string ApplianceKeyPath => Path.Combine(Root, "safehaven-archive-key.asc");

    public Uri RepositoryUrl => new(Appliance.BaseUrl, "apt/debian/");

    public async Task InitializeAsync()
    {
        _key = await AptSigningKey.CreateAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        await new AptUpstreamBuilder(Path.Combine(Root, "debian"), _key).BuildAsync("stable", [
            new("app", "1.0", PreDepends: "prelib", Depends: "missingalt | altlib, mail-transport-agent, libgreet (>= 1.0)"),
            new("prelib", "1.0"),
            new("altlib", "1.0"),
            new("postman", "1.0", Provides: "mail-transport-agent"),
            new("libgreet", "1.0"),
            new("broken", "1.0", Depends: "nonexistent (>= 1)"),
            new("unlisted", "1.0"),
        ], DateTimeOffset.UtcNow.AddDays(-30), AptSigning.InReleaseOnly);
        var allowlist = Path.Combine(Root, "apt-allowlist.txt");
        await File.WriteAllTextAsync(allowlist, "# approved Debian binary packages\napp\nbroken\n");

        _nginx = await NginxServer.StartAsync(Root);
        _appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Tier"] = "3",
            ["Policy:AllowlistFiles:apt"] = allowlist,
            ["Mirrors:pypi:Enabled"] = "false",
            ["Mirrors:apt:IndexTtlSeconds"] = "3600",
            ["Mirrors:apt:Repositories:debian:Upstream"] = new Uri(_nginx.BaseUrl, "debian/").ToString(),
            ["Mirrors:apt:Repositories:debian:Suites:0"] = "stable",
            ["Mirrors:apt:Repositories:debian:UpstreamKeyring"] = _key.KeyringPath,
        });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await File.WriteAllTextAsync(ApplianceKeyPath, await http.GetStringAsync(new Uri(_appliance.BaseUrl, "apt/safehaven-archive-key.asc")));
    }

    public async Task DisposeAsync()
    {
        if (_appliance is not null)
        {
            await _appliance.DisposeAsync();
        }
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        _key?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
