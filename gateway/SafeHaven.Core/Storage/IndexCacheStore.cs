using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Core.Storage;

/// <summary>The index cache in the appliance's metadata database (SQLite or PostgreSQL): one row per ecosystem and key.</summary>
public sealed class IndexCacheStore : IIndexCacheStore
{
    /// <summary>
    /// Version 1 is the table SafeHaven created in <c>safehaven.db</c> before versioned migrations (IF NOT EXISTS adopts it).
    /// </summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "index_cache", Table("INTEGER", SqlDialect.Sqlite), Table("BIGINT", SqlDialect.Postgres)),
    ];

    private readonly SafeHavenDatabase _database;

    private IndexCacheStore(SafeHavenDatabase database) => _database = database;

    /// <summary>The store over <paramref name="database"/>, its schema brought up to date first.</summary>
    public static async Task<IndexCacheStore> OpenAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        await SchemaMigrations.ApplyAsync(database, "index-cache", Migrations, cancellationToken).ConfigureAwait(false);
        return new IndexCacheStore(database);
    }

    private static string Table(string integer, SqlDialect dialect) => $"""
        CREATE TABLE IF NOT EXISTS index_cache (
            ecosystem     TEXT    NOT NULL,
            key           TEXT    NOT NULL,
            content       {dialect.Blob} NOT NULL,
            fetched_at    {integer} NOT NULL,
            upstream_etag TEXT    NULL,
            PRIMARY KEY (ecosystem, key)
        );
        """;

    public async Task<CachedIndex?> GetAsync(string ecosystem, string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // Batches well under SQLite's limit on bound parameters.
        foreach (var batch in keys.Distinct(StringComparer.Ordinal).Chunk(500))
        {
            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                "SELECT key AS Key, content AS Content, fetched_at AS FetchedAt, upstream_etag AS UpstreamETag FROM index_cache WHERE ecosystem = @ecosystem AND "
                + _database.Dialect.InList("key", "batch"),
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
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE index_cache SET fetched_at = @fetchedAt WHERE ecosystem = @ecosystem AND key = @key",
            new { ecosystem, key, fetchedAt = fetchedAt.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string ecosystem, string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM index_cache WHERE ecosystem = @ecosystem AND key = @key",
            new { ecosystem, key }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ListFetchedBeforeAsync(string ecosystem, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var keys = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT key FROM index_cache WHERE ecosystem = @ecosystem AND fetched_at < @before AND key NOT LIKE 'metadata-digest:%' ORDER BY fetched_at LIMIT @limit",
            new { ecosystem, before = before.ToUnixTimeMilliseconds(), limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return keys.ToList();
    }

    public async Task<DateTimeOffset?> GetOldestFetchAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var oldest = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(fetched_at) FROM index_cache WHERE ecosystem = @ecosystem AND key NOT LIKE 'metadata-digest:%'",
            new { ecosystem }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return oldest is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(oldest.Value);
    }

    private sealed class Row
    {
        public string Key { get; set; } = "";
        public byte[] Content { get; set; } = [];
        public long FetchedAt { get; set; }
        public string? UpstreamETag { get; set; }
    }
}
