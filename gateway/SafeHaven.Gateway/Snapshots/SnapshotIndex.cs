using SafeHaven.Core.Snapshots;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>A snapshot's entries by request path (percent-decoded, as the server hands paths to the pipeline).</summary>
public sealed class SnapshotIndex
{
    private readonly Dictionary<string, SnapshotEntry[]> _byPath;

    public SnapshotIndex(string id, SnapshotManifest manifest)
    {
        Id = id;
        Manifest = manifest;
        _byPath = manifest.Entries
            .GroupBy(e => Uri.UnescapeDataString(e.Path), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Order(SnapshotManifest.EntryOrder).ToArray(), StringComparer.Ordinal);
    }

    public string Id { get; }

    public SnapshotManifest Manifest { get; }

    /// <summary>The variants stored at <paramref name="decodedPath"/> (relative to <c>/&lt;eco&gt;/</c>); empty when none.</summary>
    public IReadOnlyList<SnapshotEntry> Find(string decodedPath) =>
        _byPath.TryGetValue(decodedPath, out var entries) ? entries : [];

    /// <summary>A rough memory footprint, for the cache's size limit.</summary>
    public long EstimatedSize => 64L + Manifest.Entries.Count * 400L;
}
