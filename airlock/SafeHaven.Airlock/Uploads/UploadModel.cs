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
    public int ChunkCount => (int)((Size + ChunkSize - 1) / ChunkSize);

    public long LengthOf(int index) => index == ChunkCount - 1 ? Size - ((long)index * ChunkSize) : ChunkSize;
}

/// <summary>A received chunk, stored as a blob in the chunk store.</summary>
public sealed record UploadChunk(int Index, BlobDigest Sha256, long Length);

/// <summary>Where an upload stands: which chunks are stored and which one to send next (null when all are).</summary>
public sealed record UploadStatus(UploadSession Session, IReadOnlyList<int> ReceivedChunks, int? NextMissingChunk);

/// <summary>Upload sessions and their received chunks; completion makes the file visible in its volume atomically.</summary>
public interface IUploadSessionStore
{
    Task CreateAsync(UploadSession session, CancellationToken cancellationToken);

    Task<UploadSession?> GetAsync(string uploadId, CancellationToken cancellationToken);

    Task RecordChunkAsync(string uploadId, UploadChunk chunk, CancellationToken cancellationToken);

    Task ForgetChunkAsync(string uploadId, int index, CancellationToken cancellationToken);

    Task<IReadOnlyList<UploadChunk>> ListChunksAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: adds <paramref name="file"/> to the session's volume (which must still take deposits),
    /// marks the session completed and forgets its chunks.
    /// </summary>
    Task CompleteAsync(string uploadId, VolumeFile file, CancellationToken cancellationToken);

    Task AbortAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Whether any other session still holds a chunk with this digest (chunks are content-addressed).</summary>
    Task<bool> IsChunkHeldElsewhereAsync(BlobDigest digest, string exceptUploadId, CancellationToken cancellationToken);
}

/// <summary>A chunk or upload that does not match what the client declared for it.</summary>
public sealed class UploadRejectedException(string message) : Exception(message);
