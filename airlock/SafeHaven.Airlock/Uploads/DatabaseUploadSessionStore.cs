using Dapper;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Uploads;

/// <summary>Upload sessions and their received chunks in the airlock tables of the appliance's database.</summary>
public sealed class DatabaseUploadSessionStore(AirlockDatabase database) : IUploadSessionStore
{
    public async Task CreateAsync(UploadSession session, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO airlock_uploads (id, volume_id, path, size, sha256, chunk_size, state, created_at)
                VALUES (@Id, @VolumeId, @Path, @Size, @Sha256, @ChunkSize, @State, @CreatedAt)
                """,
                new
                {
                    session.Id, session.VolumeId, session.Path, session.Size, Sha256 = session.Sha256.Hex, session.ChunkSize,
                    State = session.State.ToString().ToLowerInvariant(), CreatedAt = session.CreatedAt.ToUnixTimeMilliseconds(),
                },
                cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e) when (database.IsConstraintViolation(e))
        {
            throw new AirlockConflictException($"'{session.Path}' is already being uploaded to volume '{session.VolumeId}', or the volume does not exist.");
        }
    }

    public async Task<UploadSession?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition("""
            SELECT id AS Id, volume_id AS VolumeId, path AS Path, size AS Size, sha256 AS Sha256, chunk_size AS ChunkSize,
                   state AS State, created_at AS CreatedAt
            FROM airlock_uploads WHERE id = @uploadId
            """, new { uploadId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null
            ? null
            : new UploadSession(row.Id, row.VolumeId, row.Path, row.Size, BlobDigest.Parse(row.Sha256), (int)row.ChunkSize,
                Enum.Parse<UploadState>(row.State, ignoreCase: true), DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt));
    }

    public async Task RecordChunkAsync(string uploadId, UploadChunk chunk, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO airlock_upload_chunks (upload_id, idx, sha256, length) VALUES (@uploadId, @Index, @Sha256, @Length)
            ON CONFLICT (upload_id, idx) DO UPDATE SET sha256 = excluded.sha256, length = excluded.length
            """, new { uploadId, chunk.Index, Sha256 = chunk.Sha256.Hex, chunk.Length }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task ForgetChunkAsync(string uploadId, long index, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM airlock_upload_chunks WHERE upload_id = @uploadId AND idx = @index", new { uploadId, index },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UploadChunk>> ListChunksAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ChunkRow>(new CommandDefinition(
            "SELECT idx AS Idx, sha256 AS Sha256, length AS Length FROM airlock_upload_chunks WHERE upload_id = @uploadId ORDER BY idx",
            new { uploadId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new UploadChunk(r.Idx, BlobDigest.Parse(r.Sha256), r.Length)).ToList();
    }

    public async Task<IReadOnlyList<UploadChunk>> ListChunksAsync(string uploadId, long fromIndex, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ChunkRow>(new CommandDefinition(
            "SELECT idx AS Idx, sha256 AS Sha256, length AS Length FROM airlock_upload_chunks WHERE upload_id = @uploadId AND idx >= @fromIndex ORDER BY idx LIMIT @limit",
            new { uploadId, fromIndex, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new UploadChunk(r.Idx, BlobDigest.Parse(r.Sha256), r.Length)).ToList();
    }

    public async Task<long> CountChunksAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM airlock_upload_chunks WHERE upload_id = @uploadId", new { uploadId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task DeleteChunksAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM airlock_upload_chunks WHERE upload_id = @uploadId", new { uploadId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> OpenPathsAsync(string volumeId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT path FROM airlock_uploads WHERE volume_id = @volumeId AND state = 'open'",
            new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
    }

    public async Task<long> OpenDeclaredBytesAsync(string volumeId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM airlock_uploads WHERE volume_id = @volumeId AND state = 'open'",
            new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public Task CompleteAsync(string uploadId, VolumeFile file, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var volumeId = await connection.ExecuteScalarAsync<string?>(new CommandDefinition("""
                SELECT u.volume_id FROM airlock_uploads u JOIN airlock_volumes v ON v.id = u.volume_id
                WHERE u.id = @uploadId AND u.state = 'open' AND v.mode = 'External'
                """, new { uploadId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)
                ?? throw new AirlockConflictException($"Upload '{uploadId}' is not open, or its volume no longer takes deposits.");
            try
            {
                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO airlock_volume_files (volume_id, path, sha256, size, added_at) VALUES (@volumeId, @Path, @Sha256, @Size, @AddedAt)
                    """, new { volumeId, file.Path, Sha256 = file.Sha256.Hex, file.Size, AddedAt = file.AddedAt.ToUnixTimeMilliseconds() },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (Exception e) when (database.IsConstraintViolation(e))
            {
                throw new AirlockConflictException($"Volume '{volumeId}' already has a file '{file.Path}'.");
            }
            // Compare-and-set: of two replicas completing the same upload at once, one commits and the other's
            // transaction (waiting on this row) finds it no longer open and rolls back its file row.
            if (await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE airlock_uploads SET state = 'completed' WHERE id = @uploadId AND state = 'open'",
                new { uploadId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) != 1)
            {
                throw new AirlockConflictException($"Upload '{uploadId}' is no longer open.");
            }
            return true;
        }, cancellationToken);

    public Task AbortAsync(string uploadId, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE airlock_uploads SET state = 'aborted' WHERE id = @uploadId AND state = 'open'",
                new { uploadId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM airlock_upload_chunks WHERE upload_id = @uploadId",
                new { uploadId }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public async Task<bool> IsChunkHeldElsewhereAsync(BlobDigest digest, string exceptUploadId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM airlock_upload_chunks WHERE sha256 = @sha256 AND upload_id <> @exceptUploadId",
            new { sha256 = digest.Hex, exceptUploadId }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
    }

    private sealed class SessionRow
    {
        public string Id { get; set; } = "";
        public string VolumeId { get; set; } = "";
        public string Path { get; set; } = "";
        public long Size { get; set; }
        public string Sha256 { get; set; } = "";
        public long ChunkSize { get; set; }
        public string State { get; set; } = "";
        public long CreatedAt { get; set; }
    }

    private sealed class ChunkRow
    {
        public long Idx { get; set; }
        public string Sha256 { get; set; } = "";
        public long Length { get; set; }
    }
}
