namespace SafeHaven.Gateway.Snapshots;

/// <summary>One ecosystem's snapshot sync and current snapshot, as <c>/api/sync</c> and <c>/healthz</c> show them.</summary>
public sealed record SnapshotSyncReport(
    string Ecosystem, string? Schedule, bool Running, DateTimeOffset? RunningSince, string? RunningOn, string? Trigger,
    long Documents, long Artifacts, long Bytes,
    DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? LastError, double? LastDurationSeconds,
    CurrentSnapshotReport? Current, IReadOnlyList<string> Problems);

/// <summary>The snapshot a mirror serves now: its id, when it was taken and how old it is, and what it holds.</summary>
public sealed record CurrentSnapshotReport(string Id, DateTimeOffset CreatedAt, double AgeDays, string Origin, int Documents, int Artifacts, long Bytes);

/// <summary>The scheduled sync's reports (registered by the mirror-sync part), for the management API's <c>GET /api/sync</c>.</summary>
public interface ISnapshotSyncReports
{
    /// <summary>Every synced ecosystem, and any other with a current snapshot (an imported, snapshot-only mirror).</summary>
    Task<IReadOnlyList<SnapshotSyncReport>> ListAsync(CancellationToken cancellationToken);
}
