using SafeHaven.Core.Catalog;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>The scope rules every ecosystem's <see cref="ISnapshotPlan"/> applies the same way.</summary>
public static class SnapshotPlanRules
{
    /// <summary>
    /// Whether the artifacts of <paramref name="normalizedName"/> are captured: only when prefetching, and then every
    /// package the (Tier 3/4, closure-filtered) roots list, or at Tier 0-2 only the named sets of <c>Sync:Packages</c>.
    /// </summary>
    public static bool WantsArtifactsOf(this SnapshotScope scope, string normalizedName) =>
        scope.Prefetch && (scope.FollowAll || scope.Packages.Contains(normalizedName));

    /// <summary>A document request (no content negotiation).</summary>
    public static SnapshotRequest Document(string path) => new(path, "*/*", SnapshotEntryKind.Document);

    /// <summary>An artifact request.</summary>
    public static SnapshotRequest Artifact(string path) => new(path, "*/*", SnapshotEntryKind.Artifact);

    /// <summary>A relative path with each segment percent-encoded, as a client puts it on the wire.</summary>
    public static string EscapePath(string relativePath) =>
        string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString));

    /// <summary>
    /// Runs an ecosystem's repository refresh (<see cref="IRepositoryRefresh"/>) now, for <see cref="ISnapshotPlan.PrepareAsync"/>.
    /// Those refreshes record failures per index (<paramref name="status"/>) instead of throwing; any index that failed
    /// during this refresh fails the preparation, naming each (a snapshot never captures a half-refreshed mirror).
    /// </summary>
    public static async Task RefreshOrThrowAsync<TStatus>(
        IEnumerable<IRepositoryRefresh> refreshes, string ecosystem, TimeProvider time,
        IEnumerable<KeyValuePair<string, TStatus>> status, CancellationToken cancellationToken) where TStatus : RefreshStatus
    {
        var refresh = refreshes.FirstOrDefault(r => string.Equals(r.Ecosystem, ecosystem, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{ecosystem} has no repository refresh registered");
        var started = time.GetUtcNow();
        await refresh.RefreshAllAsync(cancellationToken).ConfigureAwait(false);
        var failed = status.Where(s => s.Value.LastFailure >= started && s.Value.Failing).Select(s => $"{s.Key}: {s.Value.LastError}").ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"{ecosystem} refresh failed, so no snapshot is taken: {string.Join("; ", failed)}");
        }
    }
}
