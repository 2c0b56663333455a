using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Uploads;

public enum UploadState
{
    Open,
    Completed,
    Aborted,
}

/// <summary>
/// One file being uploaded in chunks: chunk <c>i</c> covers bytes <c>[i*ChunkSize, min((i+1)*ChunkSize, Size))</c>.
/// The client declares the whole file's SHA-256 up front and each chunk's as it sends it.
/// </summary>
public sealed record UploadSession(
    string Id, string VolumeId, string Path, long Size, BlobDigest Sha256, int ChunkSize, UploadState State, DateTimeOffset CreatedAt)
{
    /// <summary>64-bit: a declaration of 2^31 chunks or more never overflows.</summary>
    public long ChunkCount => Size == 0 ? 0 : ((Size - 1) / ChunkSize) + 1;

    public long LengthOf(long index) => index == ChunkCount - 1 ? Size - (index * ChunkSize) : ChunkSize;
}

/// <summary>A received chunk, stored as a blob in the chunk store.</summary>
public sealed record UploadChunk(long Index, BlobDigest Sha256, long Length);

/// <summary>Where an upload stands: which chunks are stored and which one to send next (null when all are).</summary>
public sealed record UploadStatus(UploadSession Session, IReadOnlyList<long> ReceivedChunks, long? NextMissingChunk);

/// <summary>Upload sessions and their received chunks; completion makes the file visible in its volume atomically.</summary>
public interface IUploadSessionStore
{
    Task CreateAsync(UploadSession session, CancellationToken cancellationToken);

    Task<UploadSession?> GetAsync(string uploadId, CancellationToken cancellationToken);

    Task RecordChunkAsync(string uploadId, UploadChunk chunk, CancellationToken cancellationToken);

    Task ForgetChunkAsync(string uploadId, long index, CancellationToken cancellationToken);

    Task<IReadOnlyList<UploadChunk>> ListChunksAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="limit"/> received chunks with index at least <paramref name="fromIndex"/>, in order.</summary>
    Task<IReadOnlyList<UploadChunk>> ListChunksAsync(string uploadId, long fromIndex, int limit, CancellationToken cancellationToken);

    Task<long> CountChunksAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Forgets every chunk row of the upload (after their blobs were released).</summary>
    Task DeleteChunksAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Paths of the open uploads into the volume.</summary>
    Task<IReadOnlyList<string>> OpenPathsAsync(string volumeId, CancellationToken cancellationToken);

    /// <summary>The bytes still declared by open uploads into the volume (counted against its quota).</summary>
    Task<long> OpenDeclaredBytesAsync(string volumeId, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: adds <paramref name="file"/> to the session's volume (which must still take deposits)
    /// and marks the session completed. Its chunk rows stay until <see cref="DeleteChunksAsync"/>.
    /// </summary>
    Task CompleteAsync(string uploadId, VolumeFile file, CancellationToken cancellationToken);

    Task AbortAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Whether any other session still holds a chunk with this digest (chunks are content-addressed).</summary>
    Task<bool> IsChunkHeldElsewhereAsync(BlobDigest digest, string exceptUploadId, CancellationToken cancellationToken);
}

/// <summary>A chunk or upload that does not match what the client declared for it.</summary>
public sealed class UploadRejectedException(string message) : Exception(message);

/// <summary>
/// A declaration over a quota, or a store without the room for it (the disk is full): HTTP 507 with the reason.
/// </summary>
public sealed class InsufficientStorageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Limits on what uploads may declare; null members are unbounded.</summary>
/// <param name="MaxVolumeBytes">Everything one volume may hold: its files plus what open uploads into it declare.</param>
/// <param name="MinFreeBytes">Free space every store keeps: a declaration that would leave less is refused.</param>
public sealed record UploadLimits(long? MaxVolumeBytes, long MinFreeBytes, IReadOnlyList<string> StorePaths);

/// <summary>The airlock's view of storage space; "the disk is full" is recognised by the one rule in Core.</summary>
public static class DiskFull
{
    public static bool Is(Exception? e) => SafeHaven.Core.Storage.StorageFull.Is(e);

    /// <summary>Free bytes on the file system holding <paramref name="path"/> (the nearest existing ancestor), or null.</summary>
    public static long? FreeBytes(string path) => Space(path)?.Free;

    public static (long Free, long Total)? Space(string path)
    {
        try
        {
            var existing = Path.GetFullPath(path);
            while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
            {
                existing = parent;
            }
            var drive = new DriveInfo(existing);
            return (drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
