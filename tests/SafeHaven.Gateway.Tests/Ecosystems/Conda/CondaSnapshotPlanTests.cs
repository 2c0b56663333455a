using System.Text;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Ecosystems.Conda;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

public sealed class CondaSnapshotPlanTests
{
    // A published repodata.json in conda's shape: .tar.bz2 files under "packages", .conda files under "packages.conda".
    private const string Repodata = """
        {"info": {"subdir": "linux-64"}, "repodata_version": 1,
         "packages": {"zlib-1.2.13-h166bdaf_4.tar.bz2": {"name": "zlib", "version": "1.2.13", "build": "h166bdaf_4", "build_number": 4, "depends": [], "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "size": 10}},
         "packages.conda": {"numpy-1.26.4-py312h+x_0.conda": {"name": "numpy", "version": "1.26.4", "build": "py312h+x_0", "build_number": 0, "depends": ["zlib"], "sha256": "1111111111111111111111111111111111111111111111111111111111111111", "size": 20}},
         "removed": []}
        """;

    private static async Task<List<SnapshotRequest>> LinksAsync(string path, SnapshotScope scope)
    {
        var links = new List<SnapshotRequest>();
        await foreach (var link in CondaSnapshotPlan.RepodataLinksAsync(new SnapshotRequest(path, "*/*", SnapshotEntryKind.Document),
            new MemoryStream(Encoding.UTF8.GetBytes(Repodata)), scope, CancellationToken.None))
        {
            links.Add(link);
        }
        return links;
    }

    [Fact]
    public async Task Tier3PrefetchesEveryListedFileOfBothSectionsEscaped()
    {
        var links = await LinksAsync("conda-forge/linux-64/repodata.json", new SnapshotScope(3, new HashSet<string>(), true, true));
        Assert.Equal(
            ["conda-forge/linux-64/zlib-1.2.13-h166bdaf_4.tar.bz2", "conda-forge/linux-64/numpy-1.26.4-py312h%2Bx_0.conda"],
            links.Select(l => l.Path).Order(StringComparer.Ordinal).Reverse());
        Assert.All(links, l => Assert.Equal(SnapshotEntryKind.Artifact, l.Kind));
    }

    [Fact]
    public async Task OtherIndexesAndNoPrefetchLinkNothingAndNamedSetsFilter()
    {
        Assert.Empty(await LinksAsync("conda-forge/linux-64/current_repodata.json", new SnapshotScope(3, new HashSet<string>(), true, true)));
        Assert.Empty(await LinksAsync("conda-forge/linux-64/repodata.json", new SnapshotScope(2, new HashSet<string>(["numpy"]), false, false)));
        Assert.Equal(["conda-forge/linux-64/numpy-1.26.4-py312h%2Bx_0.conda"],
            (await LinksAsync("conda-forge/linux-64/repodata.json", new SnapshotScope(2, new HashSet<string>(["numpy"]), false, true))).Select(l => l.Path));
    }
}
