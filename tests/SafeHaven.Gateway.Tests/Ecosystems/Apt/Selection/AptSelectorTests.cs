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

    private static DatedPackage Package(string name, string version, DateTimeOffset listed, string? depends = null, string? provides = null, bool essential = false)
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
        return new DatedPackage(AptPackage.FromParagraph(new Deb822Paragraph(fields), "amd64"), listed);
    }

    private static VerifiedSuite Suite(AptRepository repository, params DatedPackage[] packages) =>
        new(repository, "stable", ReleaseFile.Parse("Suite: stable\nCodename: stable\nVersion: 12.8\nDate: Tue, 01 Sep 2026 00:00:00 UTC\n"), Old, "", "",
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
}
