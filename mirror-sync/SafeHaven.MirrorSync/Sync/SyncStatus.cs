using System.Collections.Concurrent;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>What <c>/api/sync</c> and <c>/healthz</c> say of each ecosystem's sync: the run in progress, the last outcomes.</summary>
public sealed class SyncStatus
{
    private readonly ConcurrentDictionary<string, EcosystemSyncState> _states = new(StringComparer.Ordinal);

    public EcosystemSyncState Get(string ecosystem) => _states.GetOrAdd(ecosystem, e => new EcosystemSyncState(e));
}

/// <summary>
/// One ecosystem's sync state. While a run is in progress the counts (documents, artifacts, bytes) are what it has
/// captured so far (its progress); otherwise they are those of the last published snapshot.
/// </summary>
public sealed class EcosystemSyncState(string ecosystem) : IProgress<SnapshotEntry>
{
    private readonly Lock _lock = new();
    private long _documents;
    private long _artifacts;
    private long _bytes;

    public string Ecosystem => ecosystem;

    /// <summary>When the run in progress started, or null when none runs.</summary>
    public DateTimeOffset? RunningSince { get; private set; }

    /// <summary>What started the run in progress or the last one: <c>schedule</c> or <c>api</c>.</summary>
    public string? Trigger { get; private set; }

    public long Documents => Interlocked.Read(ref _documents);
    public long Artifacts => Interlocked.Read(ref _artifacts);
    public long Bytes => Interlocked.Read(ref _bytes);

    public DateTimeOffset? LastSuccess { get; private set; }
    public DateTimeOffset? LastFailure { get; private set; }
    public string? LastError { get; private set; }
    public TimeSpan? LastDuration { get; private set; }

    /// <summary>The snapshot the last successful run published.</summary>
    public SnapshotRecord? LastPublished { get; private set; }

    internal void Start(DateTimeOffset at, string trigger)
    {
        lock (_lock)
        {
            RunningSince = at;
            Trigger = trigger;
            Interlocked.Exchange(ref _documents, 0);
            Interlocked.Exchange(ref _artifacts, 0);
            Interlocked.Exchange(ref _bytes, 0);
        }
    }

    /// <summary>One more document or artifact captured by the run in progress.</summary>
    public void Report(SnapshotEntry value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Kind == SnapshotEntryKind.Document)
        {
            Interlocked.Increment(ref _documents);
        }
        else
        {
            Interlocked.Increment(ref _artifacts);
        }
        Interlocked.Add(ref _bytes, value.Size);
    }

    internal void Succeed(DateTimeOffset at, SnapshotRecord published)
    {
        lock (_lock)
        {
            LastDuration = RunningSince is { } started ? at - started : null;
            RunningSince = null;
            LastSuccess = at;
            LastPublished = published;
            Interlocked.Exchange(ref _documents, published.Documents);
            Interlocked.Exchange(ref _artifacts, published.Artifacts);
            Interlocked.Exchange(ref _bytes, published.Bytes);
        }
    }

    internal void Fail(DateTimeOffset at, string error)
    {
        lock (_lock)
        {
            LastDuration = RunningSince is { } started ? at - started : null;
            RunningSince = null;
            LastFailure = at;
            LastError = error;
        }
    }
}
