using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.GarbageCollection;

/// <summary>What a collection found and (unless a dry run) freed.</summary>
public sealed record GarbageCollectionReport(
    bool DryRun, int ForgottenSnapshots, int Candidates, IReadOnlyDictionary<string, int> KeptBy, int Deleted, long BytesFreed, int AlreadyGone);

/// <summary>
/// Reclaims the blobs of snapshots retention forgot (<see cref="ForgottenSnapshots"/>): the candidates are their
/// manifests and entries; a candidate is kept when any retained snapshot (every snapshot still in the store, whatever
/// its ecosystem) or any other <see cref="IBlobReferences"/> source (airlock volume files and uploads, the read-through
/// artifact cache) still references it. Any source that fails fails the whole collection before anything is deleted.
/// Run it while no sync of the same appliance runs: a sync that captures a document with a candidate's content
/// between the reference check and the deletion would publish a snapshot missing that blob.
/// </summary>
public sealed class SnapshotGarbageCollector(
    ISnapshotStore store, SnapshotManifests manifests, IBlobStore blobs, ForgottenSnapshots forgotten,
    IEnumerable<IBlobReferences> references, ILogger<SnapshotGarbageCollector> logger)
{
    public const string RetainedSnapshots = "retained snapshots";

    public async Task<GarbageCollectionReport> CollectAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var pending = await forgotten.ListAsync(cancellationToken).ConfigureAwait(false);
        var candidates = new HashSet<BlobDigest>();
        var alreadyGone = 0;
        foreach (var (_, id) in pending)
        {
            var digest = BlobDigest.Parse(id);
            if (await blobs.GetLengthAsync(digest, cancellationToken).ConfigureAwait(false) is null)
            {
                // Collected by an earlier run that stopped before rewriting the list.
                alreadyGone++;
                continue;
            }
            var manifest = await manifests.LoadAsync(id, cancellationToken).ConfigureAwait(false);
            candidates.Add(digest);
            foreach (var entry in manifest.Entries)
            {
                candidates.Add(BlobDigest.Parse(entry.Sha256));
            }
        }
        var total = candidates.Count;
        var keptBy = new Dictionary<string, int>(StringComparer.Ordinal);

        // Retained snapshots: a manifest that cannot be read throws, and nothing is deleted.
        var retainedKept = 0;
        foreach (var record in await store.ListAsync(null, cancellationToken).ConfigureAwait(false))
        {
            retainedKept += candidates.Remove(BlobDigest.Parse(record.Id)) ? 1 : 0;
            var manifest = await manifests.LoadAsync(record.Id, cancellationToken).ConfigureAwait(false);
            foreach (var entry in manifest.Entries)
            {
                retainedKept += candidates.Remove(BlobDigest.Parse(entry.Sha256)) ? 1 : 0;
            }
        }
        keptBy[RetainedSnapshots] = retainedKept;

        foreach (var source in references)
        {
            if (candidates.Count == 0)
            {
                keptBy[source.Name] = 0;
                continue;
            }
            IReadOnlySet<BlobDigest> referenced;
            try
            {
                referenced = await source.FindReferencedAsync(candidates, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidOperationException($"{source.Name} could not say which blobs it references, so nothing was deleted: {e.Message}", e);
            }
            var kept = 0;
            foreach (var digest in referenced)
            {
                kept += candidates.Remove(digest) ? 1 : 0;
            }
            keptBy[source.Name] = kept;
        }

        var deleted = 0;
        long bytes = 0;
        foreach (var digest in candidates.OrderBy(d => d.Hex, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await blobs.GetLengthAsync(digest, cancellationToken).ConfigureAwait(false) is not { } length)
            {
                continue;
            }
            if (!dryRun)
            {
                await blobs.DeleteAsync(digest, cancellationToken).ConfigureAwait(false);
            }
            deleted++;
            bytes += length;
        }
        if (!dryRun)
        {
            await forgotten.RemoveAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        logger.LogInformation("Snapshot garbage collection{DryRun}: {Forgotten} forgotten snapshots, {Candidates} candidate blobs, {Deleted} {Verb} ({Bytes} bytes)",
            dryRun ? " (dry run)" : "", pending.Count, total, deleted, dryRun ? "would be deleted" : "deleted", bytes);
        return new GarbageCollectionReport(dryRun, pending.Count, total, keptBy, deleted, bytes, alreadyGone);
    }
}
