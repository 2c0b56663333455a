using System.Runtime.CompilerServices;
using SafeHaven.Core.Catalog;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.Conda;

/// <summary>
/// What a conda snapshot holds, per configured channel and subdir: <c>repodata.json</c>, <c>repodata.json.zst</c> and
/// <c>current_repodata.json</c> as the mirror publishes them (after policy), and (prefetching) the <c>.conda</c> and
/// <c>.tar.bz2</c> files the published <c>repodata.json</c> lists. The index is read as a stream of tokens
/// (<see cref="RepodataReader"/>): a 140 MiB repodata costs the records' names, not the document.
/// <see cref="PrepareAsync"/> runs the mirror's repository refresh first and fails if any subdir failed.
/// </summary>
public sealed class CondaSnapshotPlan(CondaMirror mirror, IEnumerable<IRepositoryRefresh> refreshes, TimeProvider time) : ISnapshotPlan
{
    private static readonly string[] Indexes = ["repodata.json", "repodata.json.zst", "current_repodata.json"];

    public string Ecosystem => CondaMirror.Ecosystem;

    public Task PrepareAsync(CancellationToken cancellationToken) =>
        SnapshotPlanRules.RefreshOrThrowAsync(refreshes, Ecosystem, time, mirror.Status, cancellationToken);

    public IEnumerable<SnapshotRequest> Roots(SnapshotScope scope)
    {
        foreach (var (name, access) in mirror.Channels.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            foreach (var subdir in access.Channel.Subdirs)
            {
                foreach (var index in Indexes)
                {
                    yield return SnapshotPlanRules.Document($"{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(subdir)}/{index}");
                }
            }
        }
    }

    public IAsyncEnumerable<SnapshotRequest> LinksAsync(SnapshotRequest captured, Stream document, SnapshotScope scope, CancellationToken cancellationToken) =>
        RepodataLinksAsync(captured, document, scope, cancellationToken);

    /// <summary>The package files a captured <c>repodata.json</c> lists (both <c>packages</c> and <c>packages.conda</c>), in scope.</summary>
    public static async IAsyncEnumerable<SnapshotRequest> RepodataLinksAsync(
        SnapshotRequest captured, Stream document, SnapshotScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // current_repodata.json and the .zst hold the same records as repodata.json, which alone is read.
        if (!captured.Path.EndsWith("/repodata.json", StringComparison.Ordinal) || !scope.Prefetch)
        {
            yield break;
        }
        var directory = captured.Path[..(captured.Path.Length - "repodata.json".Length)];
        // RepodataReader reads synchronously; it runs off the request thread, and yields names once read.
        var repodata = await Task.Run(() => RepodataReader.Read(document, cancellationToken), cancellationToken).ConfigureAwait(false);
        foreach (var record in repodata.Records)
        {
            if (scope.WantsArtifactsOf(record.Name))
            {
                yield return SnapshotPlanRules.Artifact(directory + Uri.EscapeDataString(record.Filename));
            }
        }
    }
}
