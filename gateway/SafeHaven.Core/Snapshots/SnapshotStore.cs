using System.Data.Common;
using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Core.Snapshots;

/// <summary>
/// Snapshot records in the appliance's metadata database (SQLite or PostgreSQL), table <c>snapshots</c>: one row per
/// snapshot, the current one of each ecosystem flagged; and <c>snapshots_forgotten</c>, the snapshots retention forgot
/// whose blobs the garbage collector has yet to reclaim (shared by every replica, like the records).
/// </summary>
public sealed class SnapshotStore : ISnapshotStore
{
    /// <summary>Schema area of the snapshot tables.</summary>
    public const string Area = "snapshots";

    /// <summary>Version 1 is the table this build's predecessor created in <c>safehaven.db</c> (IF NOT EXISTS adopts it).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        // PostgreSQL's INTEGER is 32 bits (SQLite's 64): its counts are BIGINT, as the records read them.
        new(1, "snapshots", Snapshots, Snapshots.Replace("INTEGER", "BIGINT", StringComparison.Ordinal)),
        Migration.Portable(2, "snapshots_forgotten", """
            CREATE TABLE IF NOT EXISTS snapshots_forgotten (
                ecosystem    TEXT    NOT NULL,
                id           TEXT    NOT NULL,
                forgotten_at BIGINT  NOT NULL,
                PRIMARY KEY (ecosystem, id)
            );
            """),
    ];

    private const string Snapshots = """
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
            """;

    private const string Columns = "id AS Id, ecosystem AS Ecosystem, created_at AS CreatedAt, origin AS Origin, documents AS Documents, artifacts AS Artifacts, bytes AS Bytes";

    private readonly SafeHavenDatabase _database;

    private SnapshotStore(SafeHavenDatabase database) => _database = database;

    /// <summary>The store over <paramref name="database"/>, its schema brought up to date first.</summary>
    public static async Task<SnapshotStore> OpenAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        await SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken).ConfigureAwait(false);
        return new SnapshotStore(database);
    }

    /// <summary>The store in a SQLite file of its own (tests and tools).</summary>
    public static SnapshotStore ForFile(string path) =>
        OpenAsync(SafeHavenDatabase.ForSqliteFile(path), CancellationToken.None).GetAwaiter().GetResult();

    private ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => _database.OpenAsync(cancellationToken);

    private sealed record Row(string Id, string Ecosystem, long CreatedAt, string Origin, long Documents, long Artifacts, long Bytes)
    {
        public SnapshotRecord ToRecord() =>
            new(Id, Ecosystem, DateTimeOffset.FromUnixTimeSeconds(CreatedAt), Origin, (int)Documents, (int)Artifacts, Bytes);
    }

    public async Task<SnapshotRecord?> GetCurrentAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem AND id LIKE @prefix ORDER BY id LIMIT 2",
            new { ecosystem, prefix = idOrPrefix.ToLowerInvariant() + "%" }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        return rows.Count == 1 ? rows[0].ToRecord() : null;
    }

    public async Task<SnapshotRecord?> GetAsOfAsync(string ecosystem, DateTimeOffset instant, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM snapshots WHERE ecosystem = @ecosystem AND created_at <= @instant ORDER BY created_at DESC, published_at DESC, id LIMIT 1",
            new { ecosystem, instant = instant.ToUnixTimeSeconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<SnapshotRecord>> ListAsync(string? ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
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
        // One writer at a time (BEGIN IMMEDIATE; an advisory lock on PostgreSQL): two replicas publishing at once
        // still leave exactly one current snapshot.
        await _database.WriteAsync(async (connection, transaction) =>
        {
        await LockAsync(connection, transaction, record.Ecosystem, cancellationToken).ConfigureAwait(false);
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
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string ecosystem, string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(async (connection, transaction) =>
        {
        await LockAsync(connection, transaction, ecosystem, cancellationToken).ConfigureAwait(false);
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
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a forgotten snapshot, whose blobs the collector may reclaim (before its record is deleted).</summary>
    public Task ForgetAsync(string ecosystem, string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO snapshots_forgotten (ecosystem, id, forgotten_at) VALUES (@ecosystem, @id, @at) ON CONFLICT (ecosystem, id) DO NOTHING",
                new { ecosystem, id, at = now.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false),
            cancellationToken);

    /// <summary>The forgotten snapshots whose blobs are not yet reclaimed, oldest first.</summary>
    public async Task<IReadOnlyList<(string Ecosystem, string Id)>> ListForgottenAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT ecosystem, id FROM snapshots_forgotten ORDER BY forgotten_at, ecosystem, id", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>Drops reclaimed snapshots from the forgotten list.</summary>
    public Task RemoveForgottenAsync(IReadOnlyCollection<(string Ecosystem, string Id)> done, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) =>
        {
            foreach (var (ecosystem, id) in done)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM snapshots_forgotten WHERE ecosystem = @ecosystem AND id = @id",
                    new { ecosystem, id }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }, cancellationToken);

    private Task LockAsync(DbConnection connection, DbTransaction transaction, string ecosystem, CancellationToken cancellationToken) =>
        _database.Dialect.LockSql("snapshots:" + ecosystem) is { } sql
            ? connection.ExecuteAsync(new CommandDefinition(sql, new { name = "snapshots:" + ecosystem }, transaction, cancellationToken: cancellationToken))
            : Task.CompletedTask;
}
