using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Artifacts;

namespace SafeHaven.MirrorSync.GarbageCollection;

/// <summary>
/// The read-through artifact cache: every artifact <see cref="ArtifactFetcher"/> stores is pinned (scope
/// <c>&lt;ecosystem&gt;-pins</c> of the index cache, the upstream file name to its first verified SHA-256), and served
/// from the blob store by that pin for as long as the appliance runs. Every pinned digest of every ecosystem (enabled
/// or not) is referenced.
/// </summary>
public sealed class ArtifactCacheReferences(IIndexCacheStore store) : IBlobReferences
{
    private const int Batch = 500;

    public string Name => "read-through artifact cache";

    public async Task<IReadOnlySet<BlobDigest>> FindReferencedAsync(IReadOnlyCollection<BlobDigest> candidates, CancellationToken cancellationToken)
    {
        var wanted = candidates as IReadOnlySet<BlobDigest> ?? candidates.ToHashSet();
        var referenced = new HashSet<BlobDigest>();
        foreach (var ecosystem in SnapshotManifest.Ecosystems)
        {
            var scope = ecosystem + "-pins";
            var keys = await store.ListFetchedBeforeAsync(scope, DateTimeOffset.MaxValue, int.MaxValue, cancellationToken).ConfigureAwait(false);
            foreach (var chunk in keys.Chunk(Batch))
            {
                foreach (var (key, stored) in await store.GetManyAsync(scope, chunk, cancellationToken).ConfigureAwait(false))
                {
                    var pin = ArtifactPin.Decode(stored.Content)
                        ?? throw new InvalidDataException($"the pin of {ecosystem} file {key} cannot be read");
                    if (wanted.Contains(pin.Sha256))
                    {
                        referenced.Add(pin.Sha256);
                    }
                }
            }
        }
        return referenced;
    }
}
