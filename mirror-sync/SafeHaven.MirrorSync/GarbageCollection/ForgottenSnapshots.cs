using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.GarbageCollection;

/// <summary>
/// The snapshots retention forgot whose blobs the garbage collector has not yet reclaimed, kept in the metadata
/// database beside the snapshot records (<c>snapshots_forgotten</c>), so every replica and the <c>safehaven sync gc</c>
/// command beside them see one list. Written before a snapshot's record is deleted, so a crash in between leaves a
/// candidate, never an unreachable blob.
/// </summary>
public sealed class ForgottenSnapshots(SnapshotStore store, TimeProvider time)
{
    public Task AddAsync(string ecosystem, string id, CancellationToken cancellationToken)
    {
        if (!SnapshotManifest.Ecosystems.Contains(ecosystem) || !SnapshotManifest.IsLowerHexDigest(id))
        {
            throw new ArgumentException($"not a snapshot: {ecosystem} {id}");
        }
        return store.ForgetAsync(ecosystem, id, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>The forgotten snapshots, oldest first.</summary>
    public Task<IReadOnlyList<(string Ecosystem, string Id)>> ListAsync(CancellationToken cancellationToken) =>
        store.ListForgottenAsync(cancellationToken);

    /// <summary>Drops the given snapshots from the list (after their blobs were reclaimed).</summary>
    public Task RemoveAsync(IReadOnlyCollection<(string Ecosystem, string Id)> done, CancellationToken cancellationToken) =>
        store.RemoveForgottenAsync(done, cancellationToken);
}
