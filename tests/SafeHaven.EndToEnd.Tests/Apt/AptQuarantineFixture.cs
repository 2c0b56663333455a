using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// A Tier 2 appliance (7-day quarantine) over a distribution archive <c>debian</c> (<c>InRelease</c> only) and its
/// security archive <c>security</c> (<c>Release</c> + <c>Release.gpg</c> only, configured <c>Undelayed</c>). The
/// appliance first sees <c>debian</c> as a <c>Release</c> dated 30 days ago; then upstream publishes a new
/// <c>Release</c> dated now that adds <c>hello</c> 2.0 and <c>libgreet</c> 2.0, and the appliance's own refresh reads it.
/// So <c>hello</c> 1.0 is dated 30 days ago (the earliest verified Release that listed it) and 2.0 today. A third
/// archive, <c>flaky</c>, is broken by a test after it was published once. <c>debian</c>'s <c>Codename</c> is
/// <c>bookworm</c>, and the advisories folder holds a Debian security tracker export (see <see cref="TrackerExport"/>)
/// naming source <c>tracked</c> fixed in bookworm at 1.1-1: the new <c>libtracked1</c> 1.1-1+b1 (built from
/// <c>tracked (1.1-1)</c>) is fast-tracked past the quarantine although it is as new as <c>hello</c> 2.0.
/// </summary>
public sealed class AptQuarantineFixture() : AptApplianceFixture("safehaven-apt-t2-upstream-")
{
    /// <summary>
    /// The Debian security tracker's JSON export (its <c>/tracker/data/json</c>) in its least complete real shape:
    /// keyed by source package; one resolved entry with a <c>fixed_version</c> for bookworm, one <c>open</c> entry
    /// without one, a <c>fixed_version</c> of <c>"0"</c> (not affected), no descriptions. Left out: every other package.
    /// </summary>
    public const string TrackerExport = """
        {
          "tracked": {
            "CVE-2026-0001": { "scope": "remote", "releases": {
              "bookworm": { "status": "resolved", "repositories": { "bookworm": "1.0-1" }, "fixed_version": "1.1-1", "urgency": "high" },
              "sid": { "status": "resolved", "repositories": { "sid": "1.1-1" }, "fixed_version": "1.1-1", "urgency": "high" } } }
          },
          "hello": {
            "TEMP-0000000-000001": { "releases": {
              "bookworm": { "status": "open", "repositories": { "bookworm": "1.0" }, "urgency": "unimportant" } } },
            "CVE-2026-0002": { "releases": {
              "bookworm": { "status": "resolved", "repositories": { "bookworm": "1.0" }, "fixed_version": "0", "urgency": "not yet assigned" } } }
          }
        }
        """;

    public Uri RepositoryUrl(string name) => new(Appliance.BaseUrl, $"apt/{name}/");

    public override async Task InitializeAsync()
    {
        var advisories = CreateFolder("safehaven-apt-t2-advisories-");
        var key = await CreateKeyAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        var debian = new AptUpstreamBuilder(Path.Combine(Root, "debian"), key);
        List<AptFixturePackage> first = [
            new("hello", "1.0", Depends: "libgreet (>= 1.0)"),
            new("libgreet", "1.0"),
            // Needs a libgreet that upstream publishes only later: listed only once that version is out of quarantine.
            new("needsnew", "1.0", Depends: "libgreet (>= 2.0)"),
            new("libtracked1", "1.0-1", Source: "tracked"),
        ];
        await debian.BuildAsync("stable", first, DateTimeOffset.UtcNow.AddDays(-30), AptSigning.InReleaseOnly, codename: "bookworm");
        await File.WriteAllTextAsync(Path.Combine(advisories, "debian-security-tracker.json"), TrackerExport);
        await new AptUpstreamBuilder(Path.Combine(Root, "security"), key).BuildAsync("stable-security", [
            new("hello", "1.0+deb1", Depends: "libgreet (>= 1.0)"),
        ], DateTimeOffset.UtcNow, AptSigning.DetachedOnly);

        await new AptUpstreamBuilder(Path.Combine(Root, "flaky"), key).BuildAsync("stable", [new("steady", "1.0")],
            DateTimeOffset.UtcNow.AddDays(-30), AptSigning.InReleaseOnly);

        await StartUpstreamAsync();
        await StartApplianceAsync(new Dictionary<string, string>
        {
            ["Tier"] = "2",
            ["Policy:MinimumAgeDays"] = "7",
            ["Policy:AdvisoriesDirectory"] = advisories,
            ["Mirrors:pypi:Enabled"] = "false",
            ["Mirrors:apt:IndexTtlSeconds"] = "1",
            ["Mirrors:apt:Repositories:debian:Upstream"] = UpstreamUrl("debian").ToString(),
            ["Mirrors:apt:Repositories:debian:Suites:0"] = "stable",
            ["Mirrors:apt:Repositories:debian:UpstreamKeyring"] = key.KeyringPath,
            ["Mirrors:apt:Repositories:security:Upstream"] = UpstreamUrl("security").ToString(),
            ["Mirrors:apt:Repositories:security:Suites:0"] = "stable-security",
            ["Mirrors:apt:Repositories:security:UpstreamKeyring"] = key.KeyringPath,
            ["Mirrors:apt:Repositories:security:Undelayed"] = "true",
            ["Mirrors:apt:Repositories:flaky:Upstream"] = UpstreamUrl("flaky").ToString(),
            ["Mirrors:apt:Repositories:flaky:Suites:0"] = "stable",
            ["Mirrors:apt:Repositories:flaky:UpstreamKeyring"] = key.KeyringPath,
        });

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        await debian.BuildAsync("stable",
            [.. first, new("hello", "2.0", Depends: "libgreet (>= 2.0)"), new("libgreet", "2.0"), new("libtracked1", "1.1-1+b1", Source: "tracked (1.1-1)")],
            DateTimeOffset.UtcNow, AptSigning.InReleaseOnly, codename: "bookworm");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(Appliance.BaseUrl, "healthz"))).RootElement;
            var suite = health.GetProperty("apt").GetProperty("suites").GetProperty("debian/dists/stable");
            if (suite.GetProperty("publishedUpstreamDate").ValueKind == JsonValueKind.String
                && suite.GetProperty("publishedUpstreamDate").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(-1))
            {
                break;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the appliance did not publish upstream's new Release:\n{health}\n{Appliance.Log}");
            }
            await Task.Delay(250);
        }
    }
}
