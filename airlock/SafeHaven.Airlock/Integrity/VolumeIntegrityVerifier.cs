using System.Security.Cryptography;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Integrity;

/// <summary>A stored file whose content no longer matches its manifest line (<see cref="ActualSha256"/> null: missing).</summary>
public sealed record IntegrityMismatch(string VolumeId, string Path, BlobDigest ExpectedSha256, long ExpectedSize, BlobDigest? ActualSha256, long? ActualSize)
{
    public string Reason => ActualSha256 is null
        ? $"'{Path}' in volume {VolumeId}: content {ExpectedSha256} is missing from the blob store"
        : $"'{Path}' in volume {VolumeId}: expected {ExpectedSha256} ({ExpectedSize} bytes), stored content hashes to {ActualSha256} ({ActualSize} bytes)";
}

public sealed record IntegrityReport(DateTimeOffset CheckedAt, int VolumesChecked, int FilesChecked, long BytesChecked, IReadOnlyList<IntegrityMismatch> Mismatches)
{
    public bool Intact => Mismatches.Count == 0;
}

/// <summary>Re-hashes every stored file of a set of volumes from the blob store, streaming.</summary>
public sealed class VolumeIntegrityVerifier(IVolumeStore volumes, IBlobStore blobs, TimeProvider? time = null)
{
    public async Task<IntegrityReport> VerifyAsync(IEnumerable<string> volumeIds, CancellationToken cancellationToken)
    {
        var mismatches = new List<IntegrityMismatch>();
        int volumeCount = 0, fileCount = 0;
        long bytes = 0;
        foreach (var volumeId in volumeIds)
        {
            var manifest = await volumes.GetManifestAsync(volumeId, cancellationToken).ConfigureAwait(false);
            if (manifest is null)
            {
                continue;
            }
            volumeCount++;
            foreach (var file in manifest.Files)
            {
                fileCount++;
                await using var stream = await blobs.OpenReadAsync(file.Sha256, cancellationToken).ConfigureAwait(false);
                if (stream is null)
                {
                    mismatches.Add(new IntegrityMismatch(volumeId, file.Path, file.Sha256, file.Size, null, null));
                    continue;
                }
                var (actual, size) = await HashAsync(stream, cancellationToken).ConfigureAwait(false);
                bytes += size;
                if (actual != file.Sha256 || size != file.Size)
                {
                    mismatches.Add(new IntegrityMismatch(volumeId, file.Path, file.Sha256, file.Size, actual, size));
                }
            }
        }
        return new IntegrityReport((time ?? TimeProvider.System).GetUtcNow(), volumeCount, fileCount, bytes, mismatches);
    }

    /// <summary>Every volume the store knows.</summary>
    public async Task<IntegrityReport> VerifyAllAsync(CancellationToken cancellationToken)
    {
        var all = await volumes.ListAsync(cancellationToken).ConfigureAwait(false);
        return await VerifyAsync(all.Select(v => v.Id), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(BlobDigest Digest, long Size)> HashAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        long size = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                size += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return (BlobDigest.FromHash(hash.GetHashAndReset()), size);
    }
}
