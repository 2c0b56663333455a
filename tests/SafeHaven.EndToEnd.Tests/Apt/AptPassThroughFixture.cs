using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// A Tier 0 appliance mirroring four upstream archives (see <see cref="AptUpstreamBuilder"/> for their shape), served
/// by one nginx: <c>main</c> (good, <c>InRelease</c> only; <c>hello</c> 1.0 and 2.0 with a dependency),
/// <c>tampereddeb</c> (a <c>.deb</c> changed after indexing; its index only as <c>Packages.xz</c>), <c>tamperedindex</c> (its <c>Packages.gz</c> changed after the
/// <c>Release</c> was signed) and <c>foreign</c> (signed by a key the appliance was not given; <c>Release.gpg</c> only).
/// </summary>
public sealed class AptPassThroughFixture() : AptApplianceFixture("safehaven-apt-upstream-")
{
    public const string Suite = "stable";

    /// <summary>A key that is not the appliance's (the test's upstream signing key, armored).</summary>
    public string OtherKeyPath => Path.Combine(Root, "other-key.asc");

    public const string TamperedDeb = "payload_1.0_all.deb";

    public override async Task InitializeAsync()
    {
        var upstreamKey = await CreateKeyAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        var otherKey = await CreateKeyAsync("Someone Else <else@example.invalid>");
        var date = DateTimeOffset.UtcNow.AddDays(-30);
        await new AptUpstreamBuilder(Path.Combine(Root, "main"), upstreamKey).BuildAsync(Suite, [
            new("hello", "1.0", Depends: "libgreet (>= 1.0)"),
            new("hello", "2.0", Depends: "libgreet (>= 1.2)"),
            new("libgreet", "1.2"),
        ], date, AptSigning.InReleaseOnly);

        var tamperedDeb = new AptUpstreamBuilder(Path.Combine(Root, "tampereddeb"), upstreamKey);
        await tamperedDeb.BuildAsync(Suite, [new("payload", "1.0")], date, AptSigning.InReleaseOnly, xz: true);
        tamperedDeb.TamperDeb(TamperedDeb);

        var tamperedIndex = new AptUpstreamBuilder(Path.Combine(Root, "tamperedindex"), upstreamKey);
        await tamperedIndex.BuildAsync(Suite, [new("indexed", "1.0")], date, AptSigning.InReleaseOnly);
        await tamperedIndex.TamperPackagesAsync(Suite,
            "Package: smuggled\nVersion: 6.6.6\nArchitecture: all\nFilename: pool/main/indexed_1.0_all.deb\nSize: 1\nSHA256: " + new string('0', 64) + "\nDescription: not in the signed Release\n\n");

        await new AptUpstreamBuilder(Path.Combine(Root, "foreign"), otherKey).BuildAsync(Suite, [new("stranger", "1.0")], date, AptSigning.DetachedOnly);

        await StartUpstreamAsync();
        var settings = new Dictionary<string, string>
        {
            ["Tier"] = "0",
            ["Mirrors:pypi:Enabled"] = "false",
            ["Mirrors:apt:IndexTtlSeconds"] = "3600",
        };
        foreach (var name in new[] { "main", "tampereddeb", "tamperedindex", "foreign" })
        {
            settings[$"Mirrors:apt:Repositories:{name}:Upstream"] = UpstreamUrl(name).ToString();
            settings[$"Mirrors:apt:Repositories:{name}:Suites:0"] = Suite;
            settings[$"Mirrors:apt:Repositories:{name}:UpstreamKeyring"] = upstreamKey.KeyringPath;
        }
        await StartApplianceAsync(settings);
        var other = await ProcessRunner.RunAsync("gpg", ["--batch", "--armor", "--export"], Root, new Dictionary<string, string?> { ["GNUPGHOME"] = upstreamKey.Home });
        await File.WriteAllTextAsync(OtherKeyPath, other.StandardOutput);
    }

    public Uri RepositoryUrl(string name) => new(Appliance.BaseUrl, $"apt/{name}/");
}
