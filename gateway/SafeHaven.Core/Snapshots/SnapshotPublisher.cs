using SafeHaven.Core.Blobs;

namespace SafeHaven.Core.Snapshots;

/// <summary>
/// Publishes a snapshot whose entries' blobs are already stored: verifies every one, stores the manifest, then records
/// it as current in one transaction. Fails closed: nothing is published when any blob is missing or has another size.
/// </summary>
public sealed class SnapshotPublisher(IBlobStore blobs, SnapshotManifests manifests, ISnapshotStore store)
{
    /// <summary>
    /// Publishes <paramref name="manifest"/> and returns its record. Throws <see cref="InvalidDataException"/> naming
    /// the first entry whose blob is missing or of another size (nothing is published then).
    /// </summary>
    public async Task<SnapshotRecord> PublishAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        // Validates the manifest (throws InvalidDataException) before any blob is looked at.
        manifest.ToCanonicalJson();
        var checkedDigests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in manifest.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!checkedDigests.Add(entry.Sha256 + ":" + entry.Size))
            {
                continue;
            }
            var length = await blobs.GetLengthAsync(BlobDigest.Parse(entry.Sha256), cancellationToken).ConfigureAwait(false);
            if (length is null)
            {
                throw new InvalidDataException($"Snapshot entry {entry.Path} ({entry.MediaType}): blob {entry.Sha256} is not stored; nothing was published.");
            }
            if (length != entry.Size)
            {
                throw new InvalidDataException($"Snapshot entry {entry.Path} ({entry.MediaType}): blob {entry.Sha256} is {length} bytes, the manifest says {entry.Size}; nothing was published.");
            }
        }
        var id = await manifests.StoreAsync(manifest, cancellationToken).ConfigureAwait(false);
        var record = SnapshotRecord.For(id, manifest);
        await store.PublishAsync(record, cancellationToken).ConfigureAwait(false);
        return record;
    }
}
