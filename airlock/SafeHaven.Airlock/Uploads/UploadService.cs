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
public sealed class UploadService(
    IUploadSessionStore sessions, IVolumeStore volumes, IBlobStore files, IBlobStore chunks, TimeProvider? time = null)
{
    public const int MinChunkSize = 64 * 1024;
    public const int MaxChunkSize = 256 * 1024 * 1024;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

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
        var received = (await sessions.ListChunksAsync(uploadId, cancellationToken).ConfigureAwait(false)).Select(c => c.Index).ToHashSet();
        int? next = session.State == UploadState.Open
            ? Enumerable.Range(0, session.ChunkCount).Cast<int?>().FirstOrDefault(i => !received.Contains(i!.Value))
            : null;
        return new UploadStatus(session, received.Order().ToList(), next);
    }

    /// <summary>
    /// Stores chunk <paramref name="index"/>, which must hash to <paramref name="sha256"/> and have exactly its
    /// length. Sending a chunk again replaces it.
    /// </summary>
    public async Task PutChunkAsync(string uploadId, int index, Stream data, BlobDigest sha256, CancellationToken cancellationToken)
    {
        var session = await OpenSessionAsync(uploadId, cancellationToken).ConfigureAwait(false);
        if (index < 0 || index >= session.ChunkCount)
        {
            throw new UploadRejectedException($"Chunk {index} is out of range: the upload has chunks 0 to {session.ChunkCount - 1}.");
        }
        var expectedLength = session.LengthOf(index);
        BlobDigest stored;
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
                stored = await writer.CommitAsync(sha256, cancellationToken).ConfigureAwait(false);
            }
            catch (BlobDigestMismatchException e)
            {
                throw new UploadRejectedException($"Chunk {index} hashes to {e.Actual}, not the {e.Expected} sent with it.");
            }
        }
        await sessions.RecordChunkAsync(uploadId, new UploadChunk(index, stored, expectedLength), cancellationToken).ConfigureAwait(false);
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
        var received = (await sessions.ListChunksAsync(uploadId, cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.Index);
        var missing = Enumerable.Range(0, session.ChunkCount).Where(i => !received.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            throw new UploadRejectedException($"Upload '{uploadId}' is missing chunks {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", ..." : "")}.");
        }

        BlobDigest digest;
        await using (var writer = await files.BeginWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < session.ChunkCount; i++)
            {
                await AppendChunkAsync(session, received[i], writer, cancellationToken).ConfigureAwait(false);
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

        // Stored to the millisecond, so the file returned now equals the one listed later.
        var file = new VolumeFile(session.Path, digest, session.Size, DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()));
        await sessions.CompleteAsync(uploadId, file, cancellationToken).ConfigureAwait(false);
        await ReleaseChunksAsync(uploadId, received.Values, cancellationToken).ConfigureAwait(false);
        return file;
    }

    public async Task AbortAsync(string uploadId, CancellationToken cancellationToken)
    {
        var received = await sessions.ListChunksAsync(uploadId, cancellationToken).ConfigureAwait(false);
        await sessions.AbortAsync(uploadId, cancellationToken).ConfigureAwait(false);
        await ReleaseChunksAsync(uploadId, received, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Deletes chunk blobs no other open upload holds (chunks are content-addressed, so may be shared).</summary>
    private async Task ReleaseChunksAsync(string uploadId, IEnumerable<UploadChunk> released, CancellationToken cancellationToken)
    {
        foreach (var digest in released.Select(c => c.Sha256).Distinct())
        {
            if (!await sessions.IsChunkHeldElsewhereAsync(digest, uploadId, cancellationToken).ConfigureAwait(false))
            {
                await chunks.DeleteAsync(digest, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
