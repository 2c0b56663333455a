using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// What a run in progress has captured so far (documents, artifacts, bytes), counted as the capture reports each entry;
/// <see cref="SyncRunner"/> writes it to the shared <see cref="SyncStateStore"/> every <see cref="SyncStateStore.ProgressInterval"/>.
/// </summary>
public sealed class SyncProgress : IProgress<SnapshotEntry>
{
    private long _documents;
    private long _artifacts;
    private long _bytes;

    public long Documents => Interlocked.Read(ref _documents);
    public long Artifacts => Interlocked.Read(ref _artifacts);
    public long Bytes => Interlocked.Read(ref _bytes);

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
}
