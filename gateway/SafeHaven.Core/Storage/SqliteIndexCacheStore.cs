using Dapper;
using Microsoft.Data.Sqlite;

namespace SafeHaven.Core.Storage;

/// <summary>The embedded metadata store: one SQLite file in WAL mode.</summary>
public sealed class SqliteIndexCacheStore : IIndexCacheStore
{
    private readonly string _connectionString;

    public SqliteIndexCacheStore(string connectionString)
    {
        SQLitePCL.Batteries_V2.Init();
        _connectionString = connectionString;
        using var connection = Open();
        connection.Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS index_cache (
                ecosystem     TEXT    NOT NULL,
                key           TEXT    NOT NULL,
                content       BLOB    NOT NULL,
                fetched_at    INTEGER NOT NULL,
                upstream_etag TEXT    NULL,
                PRIMARY KEY (ecosystem, key)
            );
            """);
    }

    public static SqliteIndexCacheStore ForFile(string path)
    {
        return new SqliteIndexCacheStore(SqliteFiles.ConnectionStringFor(path));
    }

    private SqliteConnection Open()
    {
        return SqliteFiles.Open(_connectionString);
    }

    public async Task<CachedIndex?> GetAsync(string ecosystem, string key, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT content AS Content, fetched_at AS FetchedAt, upstream_etag AS UpstreamETag FROM index_cache WHERE ecosystem = @ecosystem AND key = @key",
            new { ecosystem, key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new CachedIndex(row.Content, DateTimeOffset.FromUnixTimeMilliseconds(row.FetchedAt), row.UpstreamETag);
    }

    public async Task<IReadOnlyDictionary<string, CachedIndex>> GetManyAsync(string ecosystem, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, CachedIndex>(StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return result;
        }
        await using var connection = Open();
        // Batches well under SQLite's limit on bound parameters.
        foreach (var batch in keys.Distinct(StringComparer.Ordinal).Chunk(500))
        {
            var rows = await connection.QueryAsync<KeyedRow>(new CommandDefinition(
                "SELECT key AS Key, content AS Content, fetched_at AS FetchedAt, upstream_etag AS UpstreamETag FROM index_cache WHERE ecosystem = @ecosystem AND key IN @batch",
                new { ecosystem, batch }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                result[row.Key] = new CachedIndex(row.Content, DateTimeOffset.FromUnixTimeMilliseconds(row.FetchedAt), row.UpstreamETag);
            }
        }
        return result;
    }

    public async Task PutAsync(string ecosystem, string key, CachedIndex index, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO index_cache (ecosystem, key, content, fetched_at, upstream_etag)
            VALUES (@ecosystem, @key, @content, @fetchedAt, @etag)
            ON CONFLICT (ecosystem, key) DO UPDATE SET
                content = excluded.content, fetched_at = excluded.fetched_at, upstream_etag = excluded.upstream_etag
            """,
            new { ecosystem, key, content = index.Content, fetchedAt = index.FetchedAt.ToUnixTimeMilliseconds(), etag = index.UpstreamETag },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task TouchAsync(string ecosystem, string key, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE index_cache SET fetched_at = @fetchedAt WHERE ecosystem = @ecosystem AND key = @key",
            new { ecosystem, key, fetchedAt = fetchedAt.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string ecosystem, string key, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM index_cache WHERE ecosystem = @ecosystem AND key = @key",
            new { ecosystem, key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ListFetchedBeforeAsync(string ecosystem, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        var keys = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT key FROM index_cache WHERE ecosystem = @ecosystem AND fetched_at < @before AND key NOT LIKE 'metadata-digest:%' ORDER BY fetched_at LIMIT @limit",
            new { ecosystem, before = before.ToUnixTimeMilliseconds(), limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return keys.ToList();
    }

    public async Task<DateTimeOffset?> GetOldestFetchAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        var oldest = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(fetched_at) FROM index_cache WHERE ecosystem = @ecosystem AND key NOT LIKE 'metadata-digest:%'",
            new { ecosystem }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return oldest is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(oldest.Value);
    }

    private sealed class Row
    {
        public byte[] Content { get; set; } = [];
        public long FetchedAt { get; set; }
        public string? UpstreamETag { get; set; }
    }

    private sealed class KeyedRow
    {
        public string Key { get; set; } = "";
        public byte[] Content { get; set; } = [];
        public long FetchedAt { get; set; }
        public string? UpstreamETag { get; set; }
    }
}
