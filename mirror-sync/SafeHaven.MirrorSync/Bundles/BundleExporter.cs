using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>What an export wrote.</summary>
public sealed record BundleExportResult(string Target, string Ecosystem, string Snapshot, string? Base, int Members, int MembersResumed, long Bytes, string Signer);

/// <summary>
/// Writes a signed bundle of one snapshot: its manifest and every blob it names (full), or only the blobs its base
/// snapshot does not name (incremental). Blobs are streamed from the blob store and each is checked against its digest
/// as it is written; bundle.json and its detached signature, made with the appliance's key (the one that signs the apt
/// repositories: <see cref="AptArchiveKey"/>), are written last.
/// </summary>
public sealed class BundleExporter(IBlobStore blobs, SnapshotManifests manifests, AptArchiveKey key, TimeProvider time)
{
    public async Task<BundleExportResult> ExportAsync(
        SnapshotRecord snapshot, SnapshotRecord? baseSnapshot, IBundleTarget target, BundleProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(target);
        if (baseSnapshot is not null && baseSnapshot.Ecosystem != snapshot.Ecosystem)
        {
            throw new BundleRefusedException($"--since names a {baseSnapshot.Ecosystem} snapshot ({baseSnapshot.Id}) but the exported snapshot is {snapshot.Ecosystem}.");
        }
        if (baseSnapshot?.Id == snapshot.Id)
        {
            throw new BundleRefusedException($"--since names the exported snapshot itself ({snapshot.Id}); an incremental bundle needs an earlier one.");
        }
        var manifest = await manifests.LoadAsync(snapshot.Id, cancellationToken).ConfigureAwait(false);
        var manifestBytes = manifest.ToCanonicalJson();
        var left = baseSnapshot is null
            ? new HashSet<string>(StringComparer.Ordinal)
            : (await manifests.LoadAsync(baseSnapshot.Id, cancellationToken).ConfigureAwait(false)).Entries.Select(e => e.Sha256).ToHashSet(StringComparer.Ordinal);

        var sizes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in manifest.Entries)
        {
            if (sizes.TryGetValue(entry.Sha256, out var size) && size != entry.Size)
            {
                throw new InvalidDataException($"snapshot {snapshot.Id} names blob {entry.Sha256} with two sizes ({size} and {entry.Size}).");
            }
            if (!left.Contains(entry.Sha256))
            {
                sizes[entry.Sha256] = entry.Size;
            }
        }
        var members = new List<BundleMember>(sizes.Count + 1)
        {
            new(BundleLayout.SnapshotMember, manifestBytes.Length, snapshot.Id),
        };
        members.AddRange(sizes.Select(s => new BundleMember(BundleLayout.BlobPath(s.Key), s.Value, s.Key)));
        var total = members.Sum(m => m.Size);

        progress.Phase($"checking what {target.Description} already holds", members.Count, total);
        var done = await target.BeginAsync(members, progress, cancellationToken).ConfigureAwait(false);
        var todo = members.Where(m => !done.Contains(m.Path)).ToList();
        progress.Phase($"exporting {snapshot.Ecosystem} snapshot {snapshot.Id[..12]}{(baseSnapshot is null ? "" : $" since {baseSnapshot.Id[..12]}")} to {target.Description}",
            members.Count, total);
        foreach (var member in members.Where(m => done.Contains(m.Path)))
        {
            progress.Report(member.Size);
            progress.Member(member, skipped: true);
        }
        foreach (var member in todo)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream content = member.Path == BundleLayout.SnapshotMember
                ? new MemoryStream(manifestBytes, writable: false)
                : await blobs.OpenReadAsync(BlobDigest.Parse(member.Sha256), cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"blob {member.Sha256} of snapshot {snapshot.Id} is missing from the blob store.");
            await using (content.ConfigureAwait(false))
            {
                await target.WriteMemberAsync(member, content, progress, cancellationToken).ConfigureAwait(false);
            }
            progress.Member(member, skipped: false);
        }

        var now = time.GetUtcNow();
        var descriptor = new BundleDescriptor(BundleDescriptor.CurrentFormatVersion, snapshot.Ecosystem, snapshot.Id, baseSnapshot?.Id,
            manifest.Tier, new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero), key.Fingerprint, members).ToJson();
        using var signature = new MemoryStream();
        key.SignDetached(new MemoryStream(descriptor, writable: false), signature, cancellationToken);
        await target.CompleteAsync(descriptor, signature.ToArray(), cancellationToken).ConfigureAwait(false);
        progress.Done($"exported {members.Count} files ({total} bytes; {done.Count} already there) to {target.Description}, signed by {key.Fingerprint}");
        return new BundleExportResult(target.Description, snapshot.Ecosystem, snapshot.Id, baseSnapshot?.Id, members.Count, done.Count, total, key.Fingerprint);
    }
}
