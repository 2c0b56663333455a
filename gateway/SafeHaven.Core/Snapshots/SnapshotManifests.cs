using Microsoft.Extensions.Caching.Memory;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Core.Snapshots;

/// <summary>
/// Manifests in the blob store: a manifest is the blob of its canonical JSON, so its digest is the snapshot id.
/// Loaded manifests are cached by id; a blob whose bytes do not hash to the id asked for is refused.
/// </summary>
public sealed class SnapshotManifests
{
    /// <summary>The largest manifest read (a snapshot of hundreds of thousands of entries stays well below).</summary>
    public const long MaximumManifestBytes = 1L << 30;

    private readonly IBlobStore _blobs;
    private readonly IMemoryCache? _cache;

    public SnapshotManifests(IBlobStore blobs, IMemoryCache? cache = null)
    {
        _blobs = blobs;
        _cache = cache;
    }

    private static string CacheKey(string id) => $"snapshot-manifest:{id}";

    /// <summary>
    /// The manifest of snapshot <paramref name="id"/>. Throws <see cref="InvalidDataException"/> when it is not stored,
    /// does not hash to the id, or is not a valid manifest.
    /// </summary>
    public async Task<SnapshotManifest> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (!SnapshotManifest.IsLowerHexDigest(id))
        {
            throw new InvalidDataException($"'{id}' is not a snapshot id (64 lower-case hex digits).");
        }
        if (_cache is not null && _cache.TryGetValue(CacheKey(id), out SnapshotManifest? cached) && cached is not null)
        {
            return cached;
        }
        var digest = BlobDigest.Parse(id);
        var length = await _blobs.GetLengthAsync(digest, cancellationToken).ConfigureAwait(false);
        if (length is null)
        {
            throw new InvalidDataException($"The manifest of snapshot {id} is not in the blob store.");
        }
        if (length > MaximumManifestBytes)
        {
            throw new InvalidDataException($"The manifest of snapshot {id} is {length} bytes, more than the {MaximumManifestBytes} accepted.");
        }
        var bytes = new byte[length.Value];
        await using (var stream = await _blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"The manifest of snapshot {id} is not in the blob store."))
        {
            try
            {
                await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException($"The manifest of snapshot {id} is shorter than its recorded length.", e);
            }
        }
        var actual = BlobDigest.Compute(bytes);
        if (actual.Hex != id)
        {
            throw new InvalidDataException($"The manifest stored for snapshot {id} hashes to {actual.Hex}; it was altered and is refused.");
        }
        var manifest = SnapshotManifest.Parse(bytes);
        _cache?.Set(CacheKey(id), manifest, new MemoryCacheEntryOptions { Size = Math.Max(1, bytes.Length * 3L), SlidingExpiration = TimeSpan.FromHours(1) });
        return manifest;
    }

    /// <summary>Stores the manifest's canonical JSON as a blob and returns the snapshot id.</summary>
    public async Task<string> StoreAsync(SnapshotManifest manifest, CancellationToken cancellationToken)
    {
        var bytes = manifest.ToCanonicalJson();
        var expected = BlobDigest.Compute(bytes);
        await using var writer = await _blobs.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        var digest = await writer.CommitAsync(expected, cancellationToken).ConfigureAwait(false);
        return digest.Hex;
    }
}
