using Dapper;
using Microsoft.Data.Sqlite;
using SafeHaven.Core.Storage;

namespace SafeHaven.Core.Snapshots;

/// <summary>
/// Snapshot records in the embedded SQLite file, table <c>snapshots</c>: one row per snapshot, the current one of
/// each ecosystem flagged. The statements keep to SQL a PostgreSQL port can take unchanged (ON CONFLICT, LIMIT).
/// </summary>
public sealed class SqliteSnapshotStore : ISnapshotStore
{
    private const string Columns = "id AS Id, ecosystem AS Ecosystem, created_at AS CreatedAt, origin AS Origin, documents AS Documents, artifacts AS Artifacts, bytes AS Bytes";

    private readonly string _connectionString;

    public SqliteSnapshotStore(string connectionString)
    {
        SQLitePCL.Batteries_V2.Init();
        _connectionString = connectionString;
        using var connection = Open();
        connection.Execute("PRAGMA journal_mode = WAL;");
        connection.Execute("""
            CREATE TABLE IF NOT EXISTS snapshots (
                ecosystem    TEXT    NOT NULL,
                id           TEXT    NOT NULL,
                created_at   BIGINT  NOT NULL,
                origin       TEXT    NOT NULL,
                documents    INTEGER NOT NULL,
                artifacts    INTEGER NOT NULL,
                bytes        BIGINT  NOT NULL,
                is_current   INTEGER NOT NULL DEFAULT 0,
                published_at BIGINT  NOT NULL,
                PRIMARY KEY (ecosystem, id)
            );
            CREATE INDEX IF NOT EXISTS snapshots_created ON snapshots (ecosystem, created_at);
            """);
    }

    public static SqliteSnapshotStore ForFile(string path) => new(SqliteFiles.ConnectionStringFor(path));

    private SqliteConnection Open() => SqliteFiles.Open(_connectionString);

    private sealed record Row(string Id, string Ecosystem, long CreatedAt, string Origin, long Documents, long Artifacts, long Bytes)
    {
        public SnapshotRecord ToRecord() =>
            new(Id, Ecosystem, DateTimeOffset.FromUnixTimeSeconds(CreatedAt), Origin, (int)Documents, (int)Artifacts, Bytes);
    }

    public async Task<SnapshotRecord?> GetCurrentAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem AND is_current = 1",
            new { ecosystem }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<SnapshotRecord?> FindAsync(string ecosystem, string idOrPrefix, CancellationToken cancellationToken)
    {
        if (idOrPrefix.Length is < 8 or > 64 || idOrPrefix.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF") >= 0)
        {
            return null;
        }
        await using var connection = Open();
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem AND id LIKE @prefix ORDER BY id LIMIT 2",
            new { ecosystem, prefix = idOrPrefix.ToLowerInvariant() + "%" }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        return rows.Count == 1 ? rows[0].ToRecord() : null;
    }

    public async Task<SnapshotRecord?> GetAsOfAsync(string ecosystem, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        var row = await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem AND created_at <= @instant ORDER BY created_at DESC, published_at DESC, id LIMIT 1",
            new { ecosystem, instant = instant.ToUnixTimeSeconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<SnapshotRecord>> ListAsync(string? ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        // Two statements rather than "@ecosystem IS NULL OR ...": a typeless null parameter is an error on PostgreSQL.
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            ecosystem is null
                ? $"SELECT {Columns} FROM snapshots ORDER BY created_at DESC, published_at DESC, id"
                : $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem ORDER BY created_at DESC, published_at DESC, id",
            new { ecosystem }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task PublishAsync(SnapshotRecord record, CancellationToken cancellationToken)
    {
        if (!SnapshotManifest.IsLowerHexDigest(record.Id))
        {
            throw new ArgumentException($"'{record.Id}' is not a snapshot id (64 lower-case hex digits).", nameof(record));
        }
        await using var connection = Open();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE snapshots SET is_current = 0 WHERE ecosystem = @Ecosystem AND is_current = 1",
            new { record.Ecosystem }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO snapshots (ecosystem, id, created_at, origin, documents, artifacts, bytes, is_current, published_at)
            VALUES (@Ecosystem, @Id, @CreatedAt, @Origin, @Documents, @Artifacts, @Bytes, 1, @PublishedAt)
            ON CONFLICT (ecosystem, id) DO UPDATE SET is_current = 1, published_at = excluded.published_at
            """,
            new
            {
                record.Ecosystem, record.Id, CreatedAt = record.CreatedAt.ToUnixTimeSeconds(), record.Origin,
                record.Documents, record.Artifacts, record.Bytes, PublishedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string ecosystem, string id, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var current = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT is_current FROM snapshots WHERE ecosystem = @ecosystem AND id = @id",
            new { ecosystem, id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (current == 1)
        {
            throw new InvalidOperationException($"Snapshot {id} is the current {ecosystem} snapshot and cannot be deleted.");
        }
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM snapshots WHERE ecosystem = @ecosystem AND id = @id",
            new { ecosystem, id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
