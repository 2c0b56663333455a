using System.Text;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Cran;

namespace SafeHaven.Gateway.Tests.Ecosystems.Cran;

public sealed class CranViewTests
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static string Date(int daysAgo) => Now.AddDays(-daysAgo).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    private static string Record(string name, string version, int? daysAgo, string? imports = null, bool md5 = true) =>
        $"Package: {name}\nVersion: {version}\n" + (imports is null ? "" : $"Imports: {imports}\n")
        + (md5 ? "MD5sum: 0123456789abcdef0123456789abcdef\n" : "") + (daysAgo is null ? "" : $"Date/Publication: {Date(daysAgo.Value)}\n");

    private static CranIndexState State(params string[] records) =>
        new(CranIndexParser.ParsePackages(Encoding.UTF8.GetBytes(string.Join("\n", records))), Now);

    private static PolicySnapshot Policy(int tier) =>
        new(1, new TierPolicy(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty), new Dictionary<string, Allowlist>());

    private static CranView View(CranIndexState state, int tier, Func<string, IReadOnlyList<CranPackage>?>? archive = null)
    {
        var policy = Policy(tier);
        var choices = state.ByName.Select(p => CranChoice.Choose(p.Key, p.Value, archive?.Invoke(p.Key), policy.Policy, Now)).ToList();
        return new CranView(state, policy, null, choices, Now);
    }

    private static CranPackage Archived(string name, string version, int? daysAgo) =>
        new(Dcf.Parse(Record(name, version, daysAgo, md5: false))[0], archived: true, md5: "00112233445566778899aabbccddeeff");

    [Fact]
    public void Tier0_lists_the_newest_of_several_current_versions()
    {
        var view = View(State(Record("a", "1.9", 1), Record("a", "1.10", 1)), 0);
        Assert.Equal("1.10", view.ListedByName["a"].VersionText);
    }

    [Fact]
    public void Tier2_falls_back_to_the_newest_archived_version_past_the_quarantine_with_a_Path()
    {
        var state = State(Record("a", "2.0", 1));
        var policy = Policy(2).Policy;
        Assert.True(CranChoice.NeedsArchive(state.ByName["a"], policy, Now));

        var view = View(state, 2, _ => [Archived("a", "1.5", 3), Archived("a", "1.2", 30), Archived("a", "1.0", 90)]);

        var listed = view.ListedByName["a"];
        Assert.Equal("1.2", listed.VersionText);
        var record = CranView.IndexRecord(listed);
        Assert.Equal("Archive/a", record["Path"]);
        Assert.Equal("00112233445566778899aabbccddeeff", record["MD5sum"]);
        Assert.Contains("Path: Archive/a\n", Encoding.UTF8.GetString(view.Packages), StringComparison.Ordinal);
        // The view changes by itself when 1.5 leaves the quarantine.
        Assert.Equal(Now.AddDays(4), view.ValidUntil);
    }

    [Fact]
    public void Tier2_hides_versions_without_a_publication_date_or_MD5()
    {
        var view = View(State(Record("nodate", "1.0", null), Record("nomd5", "1.0", 30, md5: false)), 2);
        Assert.Empty(view.Listed);
        Assert.Equal(VersionDecision.NoUploadDate, CranChoice.Decide(view.State.ByName["nodate"][0], Policy(2).Policy, Now).Code);
        Assert.Equal(VersionDecision.Unverifiable, CranChoice.Decide(view.State.ByName["nomd5"][0], Policy(2).Policy, Now).Code);
        // Tier 0 passes an undated version through, but never an unverifiable one.
        Assert.Equal(["nodate"], View(view.State, 0).Listed.Select(p => p.Name));
    }

    [Fact]
    public void Tier2_leaves_out_a_package_whose_dependency_is_not_served_in_a_satisfying_version()
    {
        var state = State(
            Record("app", "1.0", 30, imports: "lib (>= 2.0), stats"),
            Record("lib", "1.0", 30),
            Record("lib2user", "1.0", 30, imports: "app"),
            Record("fine", "1.0", 30, imports: "lib (>= 0.5), MASS"),
            Record("needsnew", "1.0", 30, imports: "fresh"),
            Record("fresh", "1.0", 1));

        var view = View(state, 2);

        Assert.Equal(["lib", "fine"], view.Listed.Select(p => p.Name));
        Assert.Contains("the version served at this tier is 1.0", view.Excluded["app"], StringComparison.Ordinal);
        Assert.Contains("which is not listed because", view.Excluded["lib2user"], StringComparison.Ordinal);
        Assert.Contains("quarantined", view.Excluded["needsnew"], StringComparison.Ordinal);
        // Tier 0 passes upstream through as it is.
        Assert.Equal(6, View(state, 0).Listed.Count);
    }
}
