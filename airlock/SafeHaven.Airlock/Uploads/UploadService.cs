using System.Buffers;
using System.Security.Cryptography;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Uploads;

/// <summary>
/// Chunked, resumable uploads into airlock volumes. Each chunk is stored as it arrives (verified against the SHA-256
/// the client sent with it) and recorded in the session store, so after a crash or restart the upload resumes from
/// the next missing chunk. Completion streams the chunks, in order, into one blob in the file store, verifying the
/// whole-file SHA-256 the client declared; only then does the file appear in its volume, atomically.
/// </summary>
/// <remarks>
/// Chunks live in their own blob store (<paramref name="chunks"/>), never the file store: chunk blobs are deleted
/// after completion, and must not take a file (or a mirrored package) with the same content with them.
/// </remarks>
/// <para>
/// Cost is bounded by what was actually sent, never by what was declared: a declaration is checked against the
/// volume quota and the free space of every store (<see cref="UploadLimits"/>) before anything is kept, chunk
/// arithmetic is 64-bit, and completion pages through the received chunks in constant memory.
/// </para>
public sealed class UploadService(
    IUploadSessionStore sessions, IVolumeStore volumes, IBlobStore files, IBlobStore chunks, TimeProvider? time = null, UploadLimits? limits = null)
{
    public const int MinChunkSize = 64 * 1024;
    public const int MaxChunkSize = 256 * 1024 * 1024;

    /// <summary>Chunk rows read per page while joining or releasing.</summary>
    private const int Page = 512;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>
    /// Opens an upload of <paramref name="path"/> (normalised to NFC). Refuses (<see cref="ArgumentException"/>) a
    /// path that is not a trustworthy name or clashes with one already in the volume, (<see cref="AirlockConflictException"/>)
    /// a path already taken, and (<see cref="InsufficientStorageException"/>) a size over the quota or the free space.
    /// </summary>
    public async Task<UploadSession> BeginAsync(
        string volumeId, string path, long size, BlobDigest sha256, int chunkSize, CancellationToken cancellationToken)
    {
        path = VolumePath.Normalise(path);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, MinChunkSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
        var volume = await volumes.GetAsync(volumeId, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No volume '{volumeId}'.");
        if (volume.Mode != VolumeMode.External)
        {
            throw new AirlockConflictException($"Volume '{volumeId}' is in {volume.Mode} mode and takes no deposits.");
        }
        var manifest = await volumes.GetManifestAsync(volumeId, cancellationToken).ConfigureAwait(false);
        if (manifest?.Files.Any(f => f.Path == path) == true)
        {
            throw new AirlockConflictException($"Volume '{volumeId}' already has a file '{path}'.");
        }
        var open = await sessions.OpenPathsAsync(volumeId, cancellationToken).ConfigureAwait(false);
        if (VolumePath.Clash(path, (manifest?.Files.Select(f => f.Path) ?? []).Concat(open)) is { } clash)
        {
            throw new ArgumentException(clash);
        }
        await CheckRoomAsync(volumeId, manifest?.TotalSize ?? 0, size, cancellationToken).ConfigureAwait(false);
        var session = new UploadSession(Guid.NewGuid().ToString("N"), volumeId, path, size, sha256, chunkSize, UploadState.Open, _time.GetUtcNow());
        await sessions.CreateAsync(session, cancellationToken).ConfigureAwait(false);
        return session;
    }

    public async Task<UploadStatus?> GetStatusAsync(string uploadId, CancellationToken cancellationToken)
    {
        var session = await sessions.GetAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            return null;
        }
        var received = (await sessions.ListChunksAsync(uploadId, cancellationToken).ConfigureAwait(false)).Select(c => c.Index).ToList();
        long? next = null;
        if (session.State == UploadState.Open)
        {
            // The first gap in the (sorted) received indexes: linear in what was sent, not in what was declared.
            long expected = 0;
            foreach (var index in received)
            {
                if (index != expected)
                {
                    break;
                }
                expected++;
            }
            next = expected < session.ChunkCount ? expected : null;
        }
        return new UploadStatus(session, received, next);
    }

    /// <summary>
    /// Stores chunk <paramref name="index"/>, which must hash to <paramref name="sha256"/> and have exactly its
    /// length. Sending a chunk again replaces it.
    /// </summary>
    public async Task PutChunkAsync(string uploadId, long index, Stream data, BlobDigest sha256, CancellationToken cancellationToken)
    {
        var session = await OpenSessionAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (index < 0 || index >= session.ChunkCount)
        {
            throw new UploadRejectedException($"Chunk {index} is out of range: the upload has chunks 0 to {session.ChunkCount - 1}.");
        }
        var expectedLength = session.LengthOf(index);
        BlobDigest stored;
        try
        {
            stored = await StoreChunkAsync(index, expectedLength, data, sha256, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            // The writer deleted its temporary file: nothing half-written is kept or recorded.
            throw new InsufficientStorageException($"The disk is full: chunk {index} of upload '{uploadId}' was not stored; free space, or abort the upload.", e);
        }
        try
        {
            await sessions.RecordChunkAsync(uploadId, new UploadChunk(index, stored, expectedLength), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            if (!await sessions.IsChunkHeldElsewhereAsync(stored, exceptUploadId: "", CancellationToken.None).ConfigureAwait(false))
            {
                await chunks.DeleteAsync(stored, CancellationToken.None).ConfigureAwait(false);
            }
            throw new InsufficientStorageException($"The disk is full: chunk {index} of upload '{uploadId}' could not be recorded and was not kept; free space, or abort the upload.", e);
        }
    }

    private async Task<BlobDigest> StoreChunkAsync(long index, long expectedLength, Stream data, BlobDigest sha256, CancellationToken cancellationToken)
    {
        await using (var writer = await chunks.BeginWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                int read;
                while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (writer.Length + read > expectedLength)
                    {
                        throw new UploadRejectedException($"Chunk {index} is longer than its {expectedLength} bytes.");
                    }
                    await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (writer.Length != expectedLength)
            {
                throw new UploadRejectedException($"Chunk {index} has {writer.Length} bytes, not {expectedLength}.");
            }
            try
            {
                return await writer.CommitAsync(sha256, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobDigestMismatchException e)
            {
                throw new UploadRejectedException($"Chunk {index} hashes to {e.Actual}, not the {e.Expected} sent with it.");
            }
        }
    }

    /// <summary>
    /// Joins the chunks into the file, verifies the declared SHA-256 and size, and makes the file visible in its
    /// volume. Idempotent once completed. A chunk found damaged in storage is forgotten and reported, to be resent.
    /// </summary>
    public async Task<VolumeFile> CompleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        var session = await sessions.GetAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No upload '{uploadId}'.");
        if (session.State == UploadState.Completed)
        {
            var manifest = await volumes.GetManifestAsync(session.VolumeId, cancellationToken).ConfigureAwait(false);
            return manifest?.Files.FirstOrDefault(f => f.Path == session.Path)
                ?? throw new AirlockConflictException($"Upload '{uploadId}' completed but its file is gone from the volume.");
        }
        if (session.State != UploadState.Open)
        {
            throw new AirlockConflictException($"Upload '{uploadId}' was {session.State.ToString().ToLowerInvariant()}.");
        }
        var count = await sessions.CountChunksAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (count != session.ChunkCount)
        {
            var missing = await FirstMissingAsync(session, 20, cancellationToken).ConfigureAwait(false);
            throw new UploadRejectedException($"Upload '{uploadId}' is missing {session.ChunkCount - count} of {session.ChunkCount} chunks: missing chunks {string.Join(", ", missing)}{(session.ChunkCount - count > missing.Count ? ", ..." : "")}.");
        }

        BlobDigest digest;
        try
        {
            await using var writer = await files.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
            long expected = 0;
            while (expected < session.ChunkCount)
            {
                var page = await sessions.ListChunksAsync(uploadId, expected, Page, cancellationToken).ConfigureAwait(false);
                foreach (var chunk in page)
                {
                    if (chunk.Index != expected)
                    {
                        throw new UploadRejectedException($"Upload '{uploadId}' is missing chunk {expected}.");
                    }
                    await AppendChunkAsync(session, chunk, writer, cancellationToken).ConfigureAwait(false);
                    expected++;
                }
                if (page.Count == 0)
                {
                    throw new UploadRejectedException($"Upload '{uploadId}' is missing chunk {expected}.");
                }
            }
            if (writer.Length != session.Size)
            {
                throw new UploadRejectedException($"Upload '{uploadId}' joined to {writer.Length} bytes, not the declared {session.Size}.");
            }
            try
            {
                digest = await writer.CommitAsync(session.Sha256, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobDigestMismatchException e)
            {
                throw new UploadRejectedException($"Upload '{uploadId}' hashes to {e.Actual}, not the declared {e.Expected}; nothing was added.");
            }
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            throw new InsufficientStorageException($"The disk is full: upload '{uploadId}' could not be joined into its file; nothing was added. Free space and complete again, or abort the upload.", e);
        }

        // Stored to the millisecond, so the file returned now equals the one listed later.
        var file = new VolumeFile(session.Path, digest, session.Size, DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()));
        await sessions.CompleteAsync(uploadId, file, cancellationToken).ConfigureAwait(false);
        await ReleaseChunksAsync(uploadId, cancellationToken).ConfigureAwait(false);
        await sessions.DeleteChunksAsync(uploadId, cancellationToken).ConfigureAwait(false);
        return file;
    }

    /// <summary>
    /// Ends an open upload and removes its chunks. The chunk blobs go first, so an abort on a full disk frees
    /// space before the database has to write anything.
    /// </summary>
    public async Task AbortAsync(string uploadId, CancellationToken cancellationToken)
    {
        await OpenSessionAsync(uploadId, cancellationToken).ConfigureAwait(false);
        await ReleaseChunksAsync(uploadId, cancellationToken).ConfigureAwait(false);
        await sessions.AbortAsync(uploadId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses (507) a declaration over the volume quota or the free space of any store.</summary>
    private async Task CheckRoomAsync(string volumeId, long stored, long size, CancellationToken cancellationToken)
    {
        if (limits is null)
        {
            return;
        }
        if (limits.MaxVolumeBytes is { } quota)
        {
            var open = await sessions.OpenDeclaredBytesAsync(volumeId, cancellationToken).ConfigureAwait(false);
            var used = stored + open;
            if (size > quota - used)
            {
                throw new InsufficientStorageException(
                    $"Quota exceeded: volume '{volumeId}' holds or expects {used} bytes; {size} more would pass its quota of {quota} bytes (SafeHaven:Airlock:Storage:MaxVolumeBytes).");
            }
        }
        foreach (var path in limits.StorePaths)
        {
            if (DiskFull.FreeBytes(path) is { } free && size > free - limits.MinFreeBytes)
            {
                throw new InsufficientStorageException(
                    $"Not enough free space: the store at '{path}' has {free} bytes free and keeps {limits.MinFreeBytes} in reserve; {size} bytes were declared.");
            }
        }
    }

    /// <summary>The first <paramref name="limit"/> missing chunk indexes, reading received chunks a page at a time.</summary>
    private async Task<IReadOnlyList<long>> FirstMissingAsync(UploadSession session, int limit, CancellationToken cancellationToken)
    {
        var missing = new List<long>(limit);
        long expected = 0;
        while (missing.Count < limit && expected < session.ChunkCount)
        {
            var page = await sessions.ListChunksAsync(session.Id, expected, Page, cancellationToken).ConfigureAwait(false);
            foreach (var chunk in page)
            {
                while (expected < chunk.Index && missing.Count < limit)
                {
                    missing.Add(expected++);
                }
                if (missing.Count == limit)
                {
                    break;
                }
                expected = chunk.Index + 1;
            }
            if (page.Count < Page)
            {
                while (expected < session.ChunkCount && missing.Count < limit)
                {
                    missing.Add(expected++);
                }
            }
        }
        return missing;
    }

    private async Task AppendChunkAsync(UploadSession session, UploadChunk chunk, IBlobWriter writer, CancellationToken cancellationToken)
    {
        await using var stream = await chunks.OpenReadAsync(chunk.Sha256, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            await sessions.ForgetChunkAsync(session.Id, chunk.Index, cancellationToken).ConfigureAwait(false);
            throw new UploadRejectedException($"Chunk {chunk.Index} of upload '{session.Id}' is no longer stored; send it again.");
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (BlobDigest.FromHash(hash.GetHashAndReset()) != chunk.Sha256)
        {
            await sessions.ForgetChunkAsync(session.Id, chunk.Index, cancellationToken).ConfigureAwait(false);
            throw new UploadRejectedException($"Chunk {chunk.Index} of upload '{session.Id}' was damaged in storage; send it again.");
        }
    }

    private async Task<UploadSession> OpenSessionAsync(string uploadId, CancellationToken cancellationToken)
    {
        var session = await sessions.GetAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No upload '{uploadId}'.");
        return session.State == UploadState.Open
            ? session
            : throw new AirlockConflictException($"Upload '{uploadId}' is {session.State.ToString().ToLowerInvariant()}.");
    }

    /// <summary>
    /// Deletes the upload's chunk blobs no other upload holds (chunks are content-addressed, so may be shared),
    /// a page at a time.
    /// </summary>
    private async Task ReleaseChunksAsync(string uploadId, CancellationToken cancellationToken)
    {
        long from = 0;
        while (true)
        {
            var page = await sessions.ListChunksAsync(uploadId, from, Page, cancellationToken).ConfigureAwait(false);
            foreach (var digest in page.Select(c => c.Sha256).Distinct())
            {
                if (!await sessions.IsChunkHeldElsewhereAsync(digest, uploadId, cancellationToken).ConfigureAwait(false))
                {
                    await chunks.DeleteAsync(digest, cancellationToken).ConfigureAwait(false);
                }
            }
            if (page.Count < Page)
            {
                return;
            }
            from = page[^1].Index + 1;
        }
    }
}
