using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Ecosystems.Cran;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Ecosystems.Cran;

public sealed class CranSnapshotPlanTests
{
    // The PACKAGES the mirror renders: records as tools::write_PACKAGES writes them (no Date/Publication), the
    // archived version of a package with "Path: Archive/<name>", continuation lines, and a final record with no
    // trailing blank line.
    private const string Packages = """
        Package: alpha
        Version: 1.2.0
        Depends: R (>= 3.5.0)
        Imports: beta,
                gamma (>= 0.1)
        MD5sum: 0cc175b9c0f1b6a831c399e269772661
        NeedsCompilation: no

        Package: alpha
        Version: 1.1.0
        MD5sum: 92eb5ffee6ae2fec3ad71c777531578f
        Path: Archive/alpha

        Package: beta
        Version: 0.9-1
        MD5sum: 4a8a08f09d37b73795649038408b5f33
        """;

    private static readonly SnapshotScope Tier3 = new(3, new HashSet<string>(), FollowAll: true, Prefetch: true);

    private static Task<List<SnapshotRequest>> LinksAsync(string path, string text, SnapshotScope scope) =>
        SnapshotPlanLinks.OfAsync(new CranSnapshotPlan(), path, text, scope);

    [Fact]
    public void RootsAreThePlainAndGzippedIndexButNotTheRdsR404sOnPurpose()
    {
        var roots = new CranSnapshotPlan().Roots(Tier3).Select(r => r.Path).ToList();
        Assert.Equal(["src/contrib/PACKAGES", "src/contrib/PACKAGES.gz"], roots);
        Assert.All(new CranSnapshotPlan().Roots(Tier3), r => Assert.Equal(SnapshotEntryKind.Document, r.Kind));
    }

    [Fact]
    public async Task Tier3FollowsEveryTarballPackagesNamesIncludingArchivedPaths()
    {
        var links = await LinksAsync(CranSnapshotPlan.PackagesPath, Packages, Tier3);
        Assert.Equal(
            ["src/contrib/alpha_1.2.0.tar.gz", "src/contrib/Archive/alpha/alpha_1.1.0.tar.gz", "src/contrib/beta_0.9-1.tar.gz"],
            links.Select(l => l.Path));
        Assert.All(links, l => Assert.Equal(SnapshotEntryKind.Artifact, l.Kind));
    }

    [Fact]
    public async Task TheGzippedIndexIsNotReadAgain()
    {
        Assert.Empty(await LinksAsync(CranSnapshotPlan.PackagesGzPath, Packages, Tier3));
    }

    [Fact]
    public async Task Tier2PrefetchesOnlyTheNamedSetsAndNothingWithoutPrefetch()
    {
        var named = new SnapshotScope(2, new HashSet<string>(["beta"], StringComparer.OrdinalIgnoreCase), FollowAll: false, Prefetch: true);
        Assert.Equal(["src/contrib/beta_0.9-1.tar.gz"], (await LinksAsync(CranSnapshotPlan.PackagesPath, Packages, named)).Select(l => l.Path));
        var indexesOnly = named with { Prefetch = false };
        Assert.Empty(await LinksAsync(CranSnapshotPlan.PackagesPath, Packages, indexesOnly));
    }

    [Theory]
    [InlineData("Package: x\nVersion: 1.0\nPath: ../../etc\n", "outside src/contrib")]
    [InlineData("Package: x\nMD5sum: 00\n", "no Version field")]
    [InlineData("not a field line\n", "not a 'Field: value' line")]
    public async Task AMalformedIndexFailsTheCapture(string text, string reason)
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => LinksAsync(CranSnapshotPlan.PackagesPath, text, Tier3));
        Assert.Contains(reason, e.Message);
    }
}
