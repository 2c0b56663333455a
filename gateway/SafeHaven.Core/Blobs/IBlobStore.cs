namespace SafeHaven.Core.Blobs;

/// <summary>Content-addressed storage of immutable blobs, keyed by SHA-256.</summary>
public interface IBlobStore
{
    /// <summary>The blob's size, or null when it is not stored.</summary>
    Task<long?> GetLengthAsync(BlobDigest digest, CancellationToken cancellationToken);

    /// <summary>Opens a stored blob for reading, or null when it is not stored.</summary>
    Task<Stream?> OpenReadAsync(BlobDigest digest, CancellationToken cancellationToken);

    /// <summary>Starts writing a new blob. Nothing is visible until <see cref="IBlobWriter.CommitAsync"/> succeeds.</summary>
    Task<IBlobWriter> BeginWriteAsync(CancellationToken cancellationToken);

    Task DeleteAsync(BlobDigest digest, CancellationToken cancellationToken);
}

/// <summary>A blob store whose blobs are files on this machine, so they can be sent with the kernel's help.</summary>
public interface ILocalBlobStore : IBlobStore
{
    /// <summary>The path of a stored blob, or null when it is not stored.</summary>
    string? GetLocalPath(BlobDigest digest);
}

/// <summary>An in-progress blob, hashed while written. Disposing it uncommitted discards it.</summary>
public interface IBlobWriter : IAsyncDisposable
{
    /// <summary>Bytes written so far.</summary>
    long Length { get; }

    Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the blob visible under its digest. When <paramref name="expected"/> is given and differs from
    /// the content's digest, nothing is stored and <see cref="BlobDigestMismatchException"/> is thrown.
    /// </summary>
    Task<BlobDigest> CommitAsync(BlobDigest? expected, CancellationToken cancellationToken);
}

public static class BlobStoreExtensions
{
    /// <summary>Stores the whole stream, verifying it against <paramref name="expected"/> when given.</summary>
    public static async Task<BlobDigest> PutAsync(
        this IBlobStore store, Stream content, BlobDigest? expected, CancellationToken cancellationToken)
    {
        await using var writer = await store.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return await writer.CommitAsync(expected, cancellationToken).ConfigureAwait(false);
    }
}
