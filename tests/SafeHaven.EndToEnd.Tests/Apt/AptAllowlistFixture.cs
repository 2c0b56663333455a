using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// A Tier 3 appliance over one archive (<c>InRelease</c> only, a <c>Release</c> dated 30 days ago so nothing is in
/// quarantine), with the allowlist <c>app</c>, <c>broken</c>. <c>app</c> needs, through <c>Pre-Depends</c> and
/// <c>Depends</c>: <c>prelib</c>; the alternative <c>missingalt | altlib</c> (only the second exists); the virtual package
/// <c>mail-transport-agent</c> (provided by <c>postman</c>); and <c>libgreet (&gt;= 1.0)</c>. <c>broken</c> needs a
/// package upstream does not have. <c>unlisted</c> is upstream but approved by nobody.
/// </summary>
public sealed class AptAllowlistFixture() : AptApplianceFixture("safehaven-apt-t3-upstream-")
{
    public Uri RepositoryUrl => new(Appliance.BaseUrl, "apt/debian/");

    public override async Task InitializeAsync()
    {
        var key = await CreateKeyAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        await new AptUpstreamBuilder(Path.Combine(Root, "debian"), key).BuildAsync("stable", [
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

        await StartUpstreamAsync();
        await StartApplianceAsync(new Dictionary<string, string>
        {
            ["Tier"] = "3",
            ["Policy:AllowlistFiles:apt"] = allowlist,
            ["Mirrors:pypi:Enabled"] = "false",
            ["Mirrors:apt:IndexTtlSeconds"] = "3600",
            ["Mirrors:apt:Repositories:debian:Upstream"] = UpstreamUrl("debian").ToString(),
            ["Mirrors:apt:Repositories:debian:Suites:0"] = "stable",
            ["Mirrors:apt:Repositories:debian:UpstreamKeyring"] = key.KeyringPath,
        });
    }
}
