using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Ecosystems.Apt.Selection;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Selection;

/// <summary>The one tier policy applied to apt packages, and the rule that a listed package's dependencies are listed too.</summary>
public sealed class AptSelectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Old = Now.AddDays(-30);

    private static AptRepository Repository(string name, bool undelayed = false) =>
        new(name, new Uri($"http://{name}.upstream.example/debian/"), ["stable"], ["main"], ["amd64"], "/dev/null", undelayed);

    private static DatedPackage Package(string name, string version, DateTimeOffset listed, string? depends = null, string? provides = null, bool essential = false,
        string? source = null)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("Package", name), new("Version", version), new("Architecture", "all"),
            new("Filename", $"pool/main/{name}_{version}_all.deb"), new("Size", "100"), new("SHA256", new string('a', 64)),
        };
        if (depends is not null)
        {
            fields.Add(new("Depends", depends));
        }
        if (provides is not null)
        {
            fields.Add(new("Provides", provides));
        }
        if (essential)
        {
            fields.Add(new("Essential", "yes"));
        }
        if (source is not null)
        {
            fields.Add(new("Source", source));
        }
        return new DatedPackage(AptPackage.FromParagraph(new Deb822Paragraph(fields), "amd64"), listed);
    }

    private static VerifiedSuite Suite(AptRepository repository, params DatedPackage[] packages) => Suite(repository, "stable", packages);

    private static VerifiedSuite Suite(AptRepository repository, string codename, params DatedPackage[] packages) =>
        new(repository, "stable", ReleaseFile.Parse($"Suite: stable\nCodename: {codename}\nVersion: 12.8\nDate: Tue, 01 Sep 2026 00:00:00 UTC\n"), Old, "", "",
            [new VerifiedIndex("main", "amd64", packages)], Now);

    private static TierPolicy Tier(int tier) => new(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty);

    private static IReadOnlyList<string> Listed(AptSelection selection, VerifiedSuite suite) =>
        selection.Suites[suite.Key].SelectMany(i => i.Visible).Select(d => $"{d.Package.Name} {d.Package.Version}").Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Tier0_lists_everything_upstream_verified()
    {
        var suite = Suite(Repository("debian"), Package("hello", "1.0", Old), Package("hello", "2.0", Now), Package("orphan", "1.0", Now, depends: "missing"));

        var selection = AptSelector.Select([suite], Tier(0), closure: null, Now);

        Assert.Equal(["hello 1.0", "hello 2.0", "orphan 1.0"], Listed(selection, suite));
    }

    [Fact]
    public void Tier2_quarantines_by_the_first_listing_date_and_an_undelayed_repository_skips_it()
    {
        var debian = Suite(Repository("debian"), Package("hello", "1.0", Old), Package("hello", "2.0", Now.AddDays(-1)));
        var security = Suite(Repository("security", undelayed: true), Package("hello", "1.0+deb1", Now));

        var selection = AptSelector.Select([debian, security], Tier(2), closure: null, Now);

        Assert.Equal(["hello 1.0"], Listed(selection, debian));
        Assert.Equal(["hello 1.0+deb1"], Listed(selection, security));
        var held = selection.Hidden[AptSelector.FileKey("debian", "pool/main/hello_2.0_all.deb")];
        Assert.Equal(VersionDecision.Quarantined, held.Code);
    }

    [Fact]
    public void Tier2_does_not_list_a_package_whose_dependencies_are_not_all_listed_transitively()
    {
        var suite = Suite(Repository("debian"),
            Package("app", "1.0", Old, depends: "middle"),
            Package("middle", "1.0", Old, depends: "libnew (>= 2)"),
            Package("libnew", "1.0", Old),
            Package("libnew", "2.0", Now),
            Package("viaalt", "1.0", Old, depends: "absent | libnew"),
            Package("viavirtual", "1.0", Old, depends: "mta"),
            Package("postman", "1.0", Old, provides: "mta"));

        var selection = AptSelector.Select([suite], Tier(2), closure: null, Now);

        Assert.Equal(["libnew 1.0", "postman 1.0", "viaalt 1.0", "viavirtual 1.0"], Listed(selection, suite));
        Assert.Equal(AptSelector.DependenciesUnavailable, selection.Hidden[AptSelector.FileKey("debian", "pool/main/middle_1.0_all.deb")].Code);
        Assert.Contains("'middle'", selection.Hidden[AptSelector.FileKey("debian", "pool/main/app_1.0_all.deb")].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dependency_met_by_an_essential_package_counts_as_met()
    {
        // Essential packages are on every Debian system; at Tier 3 the closure serves them (implicit roots), and a
        // dependency on one is met even before that.
        var suite = Suite(Repository("debian"), Package("base-files", "1.0", Old, essential: true), Package("tool", "1.0", Old, depends: "base-files"));
        var closure = new AllowlistClosure("apt", Now, ["tool"], ["tool"], [], new Dictionary<string, IReadOnlySet<string>>());

        var selection = AptSelector.Select([suite], Tier(3), closure, Now);

        Assert.Equal(["tool 1.0"], Listed(selection, suite));
    }

    [Fact]
    public void Tier3_lists_only_the_closure()
    {
        var suite = Suite(Repository("debian"), Package("app", "1.0", Old, depends: "lib"), Package("lib", "1.0", Old), Package("other", "1.0", Old));
        var closure = new AllowlistClosure("apt", Now, ["app"], ["app", "lib"], [], new Dictionary<string, IReadOnlySet<string>>());

        var selection = AptSelector.Select([suite], Tier(3), closure, Now);

        Assert.Equal(["app 1.0", "lib 1.0"], Listed(selection, suite));
        Assert.Equal(VersionDecision.NotAllowlisted, selection.Hidden[AptSelector.FileKey("debian", "pool/main/other_1.0_all.deb")].Code);
    }

    [Fact]
    public void Tier2_fast_tracks_a_version_an_OSV_Debian_advisory_names_as_the_fix()
    {
        var folder = Directory.CreateTempSubdirectory("safehaven-osv-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "DSA-0001-1.json"), """
                {"id": "DSA-0001-1", "modified": "2026-11-30T00:00:00Z",
                 "affected": [{"package": {"ecosystem": "Debian:12", "name": "hello"},
                               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}
                """);
            var advisories = AdvisoryIndex.Load(folder, (_, name) => name);
            var policy = new TierPolicy(2, TimeSpan.FromDays(7), TimeSpan.FromDays(42), advisories);
            var suite = Suite(Repository("debian"), Package("hello", "1.0", Old), Package("hello", "2.0", Now), Package("other", "2.0", Now));

            var selection = AptSelector.Select([suite], policy, closure: null, Now);

            Assert.Equal(["hello 1.0", "hello 2.0"], Listed(selection, suite));
            Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/other_2.0_all.deb")].Code);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// A Debian security tracker JSON export (the tracker's <c>/tracker/data/json</c>) in its least complete real shape:
    /// keyed by <b>source</b> package, entries without description, scope or debianbug, an <c>open</c> entry without
    /// <c>fixed_version</c>, a fix filed only under another codename. Left out: the thousands of other packages.
    /// </summary>
    private const string TrackerExport = """
        {
          "openssl": {
            "CVE-2024-0727": { "releases": {
              "bookworm": { "status": "resolved", "repositories": { "bookworm": "3.0.11-1~deb12u2", "bookworm-security": "3.0.13-1~deb12u1" },
                            "fixed_version": "3.0.13-1~deb12u1", "urgency": "not yet assigned" } } }
          },
          "foo": {
            "CVE-2024-1111": { "scope": "remote", "releases": {
              "bookworm": { "status": "resolved", "repositories": { "bookworm": "2.0-1" }, "fixed_version": "2.0-1", "urgency": "medium" } } }
          },
          "hello": {
            "TEMP-0000000-ABCDEF": { "description": "no fix yet", "releases": {
              "bookworm": { "status": "open", "repositories": { "bookworm": "2.10-3" }, "urgency": "unimportant" } } }
          },
          "zlib": {
            "CVE-2024-2222": { "releases": {
              "trixie": { "status": "resolved", "repositories": { "trixie": "1:1.3.dfsg-1" }, "fixed_version": "1:1.3.dfsg-1", "urgency": "low" } } }
          }
        }
        """;

    private static AptSelection SelectWithTracker(params VerifiedSuite[] suites)
    {
        var folder = Directory.CreateTempSubdirectory("safehaven-tracker-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "json"), "not read: only *.json files are");
            File.WriteAllText(Path.Combine(folder, "debian-security-tracker.json"), TrackerExport);
            var advisories = AdvisoryIndex.Load(folder, (_, name) => name);
            Assert.Empty(advisories.Errors);
            var policy = new TierPolicy(2, TimeSpan.FromDays(7), TimeSpan.FromDays(42), advisories);
            return AptSelector.Select(suites, policy, closure: null, Now);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Tier2_fast_tracks_binaries_whose_source_the_security_tracker_names_fixed_for_the_suites_codename()
    {
        var suite = Suite(Repository("debian"), "bookworm",
            Package("libssl3", "3.0.11-1~deb12u2", Old, source: "openssl"),
            Package("libssl3", "3.0.13-1~deb12u1", Now, source: "openssl"),
            Package("openssl", "3.0.13-1~deb12u1", Now),
            Package("libssl-old", "3.0.12-1", Now, source: "openssl"),
            Package("libssl-next", "3.0.14-1~deb12u1", Now, source: "openssl"),
            Package("hello", "2.10-4", Now),
            Package("zlib1g", "1:1.3.dfsg-1", Now, source: "zlib"));

        var selection = SelectWithTracker(suite);

        // The fixed binaries of the source (named by Source:, or by their own name) skip the quarantine; the old
        // version stays listed (tracker data never blocks); a version below the fix does not skip it.
        Assert.Equal(["libssl3 3.0.11-1~deb12u2", "libssl3 3.0.13-1~deb12u1", "openssl 3.0.13-1~deb12u1"], Listed(selection, suite));
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/libssl-old_3.0.12-1_all.deb")].Code);
        // Only the fixed version itself: a later upload of the same source is new and unreviewed, and waits.
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/libssl-next_3.0.14-1~deb12u1_all.deb")].Code);
        // An open entry names no fix; a fix filed under another codename (trixie) is not this suite's.
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/hello_2.10-4_all.deb")].Code);
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/zlib1g_1:1.3.dfsg-1_all.deb")].Code);
    }

    [Fact]
    public void The_tracker_fix_applies_to_the_updates_suite_of_the_codename_but_not_to_another_codename()
    {
        var updates = Suite(Repository("updates"), "bookworm-updates", Package("libssl3", "3.0.13-1~deb12u1", Now, source: "openssl"));
        var trixie = Suite(Repository("trixie"), "trixie", Package("libssl3", "3.0.13-1~deb12u1", Now, source: "openssl"));

        var selection = SelectWithTracker(updates, trixie);

        Assert.Equal(["libssl3 3.0.13-1~deb12u1"], Listed(selection, updates));
        Assert.Empty(Listed(selection, trixie));
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("trixie", "pool/main/libssl3_3.0.13-1~deb12u1_all.deb")].Code);
    }

    [Fact]
    public void A_source_field_with_a_version_names_the_source_and_its_version_is_compared()
    {
        // A binNMU or a binary versioned apart from its source: "Source: foo (2.0-1)" means source foo at 2.0-1.
        var suite = Suite(Repository("debian"), "bookworm",
            Package("libfoo1", "1:2.0-1+b1", Now, source: "foo (2.0-1)"),
            Package("foo-tools", "9.0-1", Now, source: "foo (1.9-1)"));

        var selection = SelectWithTracker(suite);

        Assert.Equal(["libfoo1 1:2.0-1+b1"], Listed(selection, suite));
        // Its own version (9.0-1) is above the fix but its source (1.9-1) is not: held back.
        Assert.Equal(VersionDecision.Quarantined, selection.Hidden[AptSelector.FileKey("debian", "pool/main/foo-tools_9.0-1_all.deb")].Code);
        Assert.Equal(("foo", DebianVersionOf("2.0-1")), AptSelector.SourceOf(suite.Indexes[0].Packages[0].Package));
        Assert.Equal(("foo-tools", DebianVersionOf("9.0-1")), AptSelector.SourceOf(
            Package("foo-tools", "9.0-1", Now).Package));
    }

    private static SafeHaven.Core.Packages.DebianVersion? DebianVersionOf(string text) => SafeHaven.Core.Packages.DebianVersion.Parse(text);
}
