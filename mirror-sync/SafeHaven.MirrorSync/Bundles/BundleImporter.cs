using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>What an import published.</summary>
public sealed record BundleImportResult(
    string Source, string Ecosystem, string ExportedSnapshot, string Snapshot, string? Base, string Signer,
    int BlobsCopied, int BlobsAlreadyPresent, long Bytes);

/// <summary>
/// Imports a signed bundle, failing closed: nothing becomes visible unless every check passes. In order: bundle.json
/// and its signature are present and the signature is by a trusted key (<see cref="BundleTrust"/>); the bundle holds
/// exactly the members bundle.json lists; the snapshot manifest hashes to the snapshot id, is of the bundle's
/// ecosystem and of a tier no lower than this appliance's; an incremental bundle's base snapshot is here; every member
/// is copied into the blob store with its size and SHA-256 checked (a blob already stored is verified from the bundle
/// and not written again: this is how an interrupted import resumes); every entry's blob is then present; and only
/// then the snapshot is published, atomically, with origin <c>import</c>. Blobs copied by a refused import are
/// unreferenced (garbage collection reclaims them); the current snapshot stays current.
/// </summary>
/// <remarks>
/// The published manifest is the exported one with origin <c>import</c>, so its local id differs from the exporter's.
/// An incremental bundle names its base by the exporter's id; the base is found here as the local snapshot whose
/// manifest, with the exporter's origin, hashes to that id.
/// </remarks>
public sealed class BundleImporter(
    IBlobStore blobs, SnapshotManifests manifests, ISnapshotStore store, SnapshotPublisher publisher, BundleTrust trust, int localTier, TimeProvider time)
{
    /// <summary>A snapshot manifest is parsed whole; a larger one is refused.</summary>
    public const int MaxManifestBytes = 512 * 1024 * 1024;

    public async Task<BundleImportResult> ImportAsync(IBundleSource source, BundleProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var where = source.Description;
        var files = await source.ListAsync(cancellationToken).ConfigureAwait(false);
        if (!files.ContainsKey(BundleLayout.DescriptorName))
        {
            throw new BundleRefusedException($"{where}: no {BundleLayout.DescriptorName}: this is not a bundle, or its export did not finish (bundle.json is written last).");
        }
        if (!files.ContainsKey(BundleLayout.SignatureName))
        {
            throw new BundleRefusedException($"{where}: the bundle is not signed (no {BundleLayout.SignatureName}).");
        }
        var descriptorBytes = await ReadSmallAsync(source, BundleLayout.DescriptorName, BundleDescriptor.MaxBytes, cancellationToken).ConfigureAwait(false);
        var signatureBytes = await ReadSmallAsync(source, BundleLayout.SignatureName, BundleLayout.MaxSignatureBytes, cancellationToken).ConfigureAwait(false);
        string signer;
        try
        {
            signer = await trust.VerifyAsync(descriptorBytes, signatureBytes, time, cancellationToken).ConfigureAwait(false);
        }
        catch (BundleRefusedException e)
        {
            throw new BundleRefusedException($"{where}: {e.Message}", e);
        }

        BundleDescriptor descriptor;
        try
        {
            descriptor = BundleDescriptor.Parse(descriptorBytes);
        }
        catch (InvalidDataException e)
        {
            throw new BundleRefusedException($"{where}: {e.Message}", e);
        }
        if (!string.Equals(descriptor.Signer, signer, StringComparison.Ordinal))
        {
            throw new BundleRefusedException($"{where}: bundle.json says it was signed by {descriptor.Signer} but the signature is by {signer}.");
        }

        var listed = descriptor.Members.ToDictionary(m => m.Path, StringComparer.Ordinal);
        var extra = files.Keys.Where(f => f is not (BundleLayout.DescriptorName or BundleLayout.SignatureName) && !listed.ContainsKey(f)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            throw new BundleRefusedException($"{where}: {extra.Count} file(s) not listed in bundle.json (first: {extra[0]}); a bundle holds exactly what its signed bundle.json lists.");
        }
        var missing = descriptor.Members.Where(m => !files.ContainsKey(m.Path)).ToList();
        if (missing.Count > 0)
        {
            throw new BundleRefusedException($"{where}: {missing.Count} member(s) listed in bundle.json are missing (first: {missing[0].Path}).");
        }
        var wrongSize = descriptor.Members.FirstOrDefault(m => files[m.Path] != m.Size);
        if (wrongSize is not null)
        {
            throw new BundleRefusedException($"{where}: {wrongSize.Path} holds {files[wrongSize.Path]} bytes, bundle.json says {wrongSize.Size}.");
        }
        if (descriptor.Tier < localTier)
        {
            throw new BundleRefusedException(TierProblem(where, descriptor.Tier));
        }

        // The snapshot manifest: hashed against the signed id before it is parsed.
        var manifestMember = listed[BundleLayout.SnapshotMember];
        if (manifestMember.Sha256 != descriptor.Snapshot)
        {
            throw new BundleRefusedException($"{where}: bundle.json's {BundleLayout.SnapshotMember} has SHA-256 {manifestMember.Sha256}, not the snapshot id {descriptor.Snapshot}.");
        }
        var manifestBytes = await ReadSmallAsync(source, BundleLayout.SnapshotMember, MaxManifestBytes, cancellationToken).ConfigureAwait(false);
        var manifestHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifestBytes));
        if (HashingCopy.Mismatch(manifestMember, manifestBytes.Length, manifestHash) is { } manifestProblem)
        {
            throw new BundleRefusedException($"{where}: {manifestProblem}.");
        }
        SnapshotManifest manifest;
        try
        {
            manifest = SnapshotManifest.Parse(manifestBytes);
        }
        catch (InvalidDataException e)
        {
            throw new BundleRefusedException($"{where}: {e.Message}", e);
        }
        if (manifest.ComputeId() != descriptor.Snapshot)
        {
            throw new BundleRefusedException($"{where}: the snapshot manifest is not in canonical form (it does not re-serialise to snapshot id {descriptor.Snapshot}).");
        }
        if (manifest.Ecosystem != descriptor.Ecosystem || manifest.Tier != descriptor.Tier)
        {
            throw new BundleRefusedException($"{where}: the snapshot manifest is a tier {manifest.Tier} {manifest.Ecosystem} snapshot but bundle.json says tier {descriptor.Tier} {descriptor.Ecosystem}.");
        }
        if (manifest.Tier < localTier)
        {
            throw new BundleRefusedException(TierProblem(where, manifest.Tier));
        }

        var referenced = manifest.Entries.Select(e => e.Sha256).ToHashSet(StringComparer.Ordinal);
        var blobMembers = descriptor.Members.Where(m => m.Path != BundleLayout.SnapshotMember).ToList();
        var unreferenced = blobMembers.FirstOrDefault(m => !referenced.Contains(m.Sha256));
        if (unreferenced is not null)
        {
            throw new BundleRefusedException($"{where}: bundle.json lists {unreferenced.Path}, a blob the snapshot does not name.");
        }
        var carried = blobMembers.Select(m => m.Sha256).ToHashSet(StringComparer.Ordinal);
        var sizeOf = blobMembers.ToDictionary(m => m.Sha256, m => m.Size, StringComparer.Ordinal);
        var conflicting = manifest.Entries.FirstOrDefault(e => sizeOf.TryGetValue(e.Sha256, out var s) && s != e.Size);
        if (conflicting is not null)
        {
            throw new BundleRefusedException($"{where}: the snapshot names {conflicting.Path} with {conflicting.Size} bytes but its blob member holds {sizeOf[conflicting.Sha256]}.");
        }
        string? localBase = null;
        if (descriptor.Base is null)
        {
            var absent = manifest.Entries.FirstOrDefault(e => !carried.Contains(e.Sha256));
            if (absent is not null)
            {
                throw new BundleRefusedException($"{where}: a full bundle must carry every blob of its snapshot, but {absent.Path} ({absent.Sha256}) is not in it.");
            }
        }
        else
        {
            localBase = await FindBaseAsync(descriptor.Ecosystem, descriptor.Base, cancellationToken).ConfigureAwait(false)
                ?? throw new BundleRefusedException(
                    $"{where}: this incremental bundle is based on {descriptor.Ecosystem} snapshot {descriptor.Base}, which this appliance does not have; " +
                    "import that snapshot's bundle (or a full bundle) first.");
        }

        // Copy (or verify) every blob member. Nothing here is visible: blobs are content-addressed and unreferenced until publication.
        var copied = 0;
        var present = 0;
        var total = blobMembers.Sum(m => m.Size);
        progress.Phase($"importing {descriptor.Ecosystem} snapshot {descriptor.Snapshot[..12]} from {where}", blobMembers.Count, total);
        foreach (var member in blobMembers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var digest = BlobDigest.Parse(member.Sha256);
            var stored = await blobs.GetLengthAsync(digest, cancellationToken).ConfigureAwait(false);
            var content = await source.OpenAsync(member.Path, cancellationToken).ConfigureAwait(false)
                ?? throw new BundleRefusedException($"{where}: {member.Path} vanished while importing.");
            await using (content.ConfigureAwait(false))
            {
                if (stored == member.Size)
                {
                    var (length, sha) = await HashingCopy.CopyAsync(content, null, progress, cancellationToken).ConfigureAwait(false);
                    if (HashingCopy.Mismatch(member, length, sha) is { } problem)
                    {
                        throw new BundleRefusedException($"{where}: {problem}.");
                    }
                    present++;
                }
                else
                {
                    await using var writer = await blobs.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
                    var (length, sha) = await HashingCopy.CopyAsync(content, (chunk, ct) => new ValueTask(writer.WriteAsync(chunk, ct)), progress, cancellationToken).ConfigureAwait(false);
                    if (HashingCopy.Mismatch(member, length, sha) is { } problem)
                    {
                        throw new BundleRefusedException($"{where}: {problem}.");
                    }
                    try
                    {
                        await writer.CommitAsync(digest, cancellationToken).ConfigureAwait(false);
                    }
                    catch (BlobDigestMismatchException e)
                    {
                        throw new BundleRefusedException($"{where}: {member.Path}: {e.Message}", e);
                    }
                    copied++;
                }
            }
            progress.Member(member, skipped: stored == member.Size);
        }

        foreach (var entry in manifest.Entries)
        {
            var length = await blobs.GetLengthAsync(BlobDigest.Parse(entry.Sha256), cancellationToken).ConfigureAwait(false);
            if (length != entry.Size)
            {
                throw new BundleRefusedException(length is null
                    ? $"{where}: the blob of {entry.Path} ({entry.Sha256}) is neither in the bundle nor on this appliance (base snapshot {localBase})."
                    : $"{where}: the stored blob of {entry.Path} holds {length} bytes, the snapshot says {entry.Size}.");
            }
        }

        var imported = manifest with { Origin = "import" };
        SnapshotRecord record;
        try
        {
            record = await publisher.PublishAsync(imported, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new BundleRefusedException($"{where}: the snapshot was not published: {e.Message}", e);
        }
        progress.Done($"published {record.Ecosystem} snapshot {record.Id} (exported as {descriptor.Snapshot}): {copied} blobs copied, {present} already here, signed by {signer}");
        return new BundleImportResult(where, record.Ecosystem, descriptor.Snapshot, record.Id, localBase, signer, copied, present, total);
    }

    private string TierProblem(string where, int tier) =>
        $"{where}: the bundle holds a tier {tier} snapshot, but this appliance is tier {localTier}: a tier {tier} snapshot is not filtered for a tier {localTier} site.";

    /// <summary>The local snapshot the exporter called <paramref name="exportedId"/>: the same id, or the same manifest published with origin import.</summary>
    private async Task<string?> FindBaseAsync(string ecosystem, string exportedId, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(ecosystem, exportedId, cancellationToken).ConfigureAwait(false) is { } same && same.Id == exportedId)
        {
            return same.Id;
        }
        foreach (var record in await store.ListAsync(ecosystem, cancellationToken).ConfigureAwait(false))
        {
            var local = await manifests.LoadAsync(record.Id, cancellationToken).ConfigureAwait(false);
            foreach (var origin in SnapshotManifest.Origins)
            {
                if ((local with { Origin = origin }).ComputeId() == exportedId)
                {
                    return record.Id;
                }
            }
        }
        return null;
    }

    private static async Task<byte[]> ReadSmallAsync(IBundleSource source, string path, int max, CancellationToken cancellationToken)
    {
        var stream = await source.OpenAsync(path, cancellationToken).ConfigureAwait(false)
            ?? throw new BundleRefusedException($"{source.Description}: {path} is missing.");
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > max)
                {
                    throw new BundleRefusedException($"{source.Description}: {path} is larger than {max} bytes.");
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }
}
