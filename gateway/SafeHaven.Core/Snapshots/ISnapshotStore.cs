namespace SafeHaven.Core.Snapshots;

/// <summary>
/// The records of published snapshots (metadata only; manifests and entries are blobs) and which one is current per
/// ecosystem.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>The ecosystem's current snapshot, or null when none was published.</summary>
    Task<SnapshotRecord?> GetCurrentAsync(string ecosystem, CancellationToken cancellationToken);

    /// <summary>
    /// The snapshot whose id is, or starts with, <paramref name="idOrPrefix"/> (at least 8 hex digits); null when none
    /// or more than one matches, or when the prefix is too short or not hex.
    /// </summary>
    Task<SnapshotRecord?> FindAsync(string ecosystem, string idOrPrefix, CancellationToken cancellationToken);

    /// <summary>The newest snapshot created at or before <paramref name="instant"/>, or null.</summary>
    Task<SnapshotRecord?> GetAsOfAsync(string ecosystem, DateTimeOffset instant, CancellationToken cancellationToken);

    /// <summary>Every recorded snapshot (of one ecosystem, or all when null), newest first.</summary>
    Task<IReadOnlyList<SnapshotRecord>> ListAsync(string? ecosystem, CancellationToken cancellationToken);

    /// <summary>
    /// Records the snapshot and makes it current, in one transaction. Its manifest blob and every entry's blob must
    /// already be stored. Publishing a recorded snapshot again makes it current again.
    /// </summary>
    Task PublishAsync(SnapshotRecord record, CancellationToken cancellationToken);

    /// <summary>Forgets a snapshot (retention). Refuses (<see cref="InvalidOperationException"/>) the current one.</summary>
    Task DeleteAsync(string ecosystem, string id, CancellationToken cancellationToken);
}
