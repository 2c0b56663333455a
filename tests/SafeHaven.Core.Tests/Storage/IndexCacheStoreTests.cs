using System.Text;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Storage;

public sealed class SqliteIndexCacheStoreTests() : IndexCacheStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresIndexCacheStoreTests() : IndexCacheStoreTests(DatabaseProvider.Postgres);

public abstract class IndexCacheStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private static readonly DateTimeOffset At = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Many_keys_are_read_at_once_across_batches_missing_ones_left_out_and_ecosystems_kept_apart()
    {
        var store = await IndexCacheStore.OpenAsync(Database, CancellationToken.None);
        // More keys than one batch (500) holds, every third one stored.
        var keys = Enumerable.Range(0, 1_200).Select(i => $"file-{i}.whl").ToList();
        foreach (var key in keys.Where((_, i) => i % 3 == 0))
        {
            await store.PutAsync("pypi-pins", key, new CachedIndex(Encoding.ASCII.GetBytes(key), At, "\"e\""), CancellationToken.None);
        }
        await store.PutAsync("cran-pins", "file-1.whl", new CachedIndex([1], At, null), CancellationToken.None);

        var found = await store.GetManyAsync("pypi-pins", [.. keys, "file-0.whl"], CancellationToken.None);

        Assert.Equal(400, found.Count);
        Assert.All(found, pair => Assert.Equal(pair.Key, Encoding.ASCII.GetString(pair.Value.Content)));
        Assert.Equal(At, found["file-1197.whl"].FetchedAt);
        Assert.Equal("\"e\"", found["file-0.whl"].UpstreamETag);
        Assert.False(found.ContainsKey("file-1.whl"));
        Assert.Empty(await store.GetManyAsync("pypi-pins", [], CancellationToken.None));
    }

    [Fact]
    public async Task A_document_is_replaced_whole_touched_listed_by_age_and_deleted_as_another_replica_sees_it()
    {
        var store = await IndexCacheStore.OpenAsync(Database, CancellationToken.None);
        var other = await IndexCacheStore.OpenAsync(OpenReplica(), CancellationToken.None);
        byte[] large = [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)];
        await store.PutAsync("pypi", "simple/a/", new CachedIndex([1, 2, 3], At, "\"1\""), CancellationToken.None);
        await store.PutAsync("pypi", "simple/a/", new CachedIndex(large, At.AddHours(1), null), CancellationToken.None);
        await store.PutAsync("pypi", "simple/b/", new CachedIndex([9], At.AddHours(2), "\"b\""), CancellationToken.None);
        await store.PutAsync("pypi", "metadata-digest:x", new CachedIndex([0], At.AddDays(-9), null), CancellationToken.None);

        var replaced = await other.GetAsync("pypi", "simple/a/", CancellationToken.None);
        Assert.Equal(large, replaced!.Content);
        Assert.Null(replaced.UpstreamETag);
        Assert.Equal(At.AddHours(1), replaced.FetchedAt);
        // Digest entries are not pages: left out of the age listing and the oldest fetch.
        Assert.Equal(At.AddHours(1), await other.GetOldestFetchAsync("pypi", CancellationToken.None));
        Assert.Equal(["simple/a/", "simple/b/"], await other.ListFetchedBeforeAsync("pypi", At.AddDays(1), 10, CancellationToken.None));
        Assert.Equal(["simple/a/"], await other.ListFetchedBeforeAsync("pypi", At.AddDays(1), 1, CancellationToken.None));

        await other.TouchAsync("pypi", "simple/a/", At.AddDays(2), CancellationToken.None);
        Assert.Equal(["simple/b/"], await store.ListFetchedBeforeAsync("pypi", At.AddDays(1), 10, CancellationToken.None));
        await other.DeleteAsync("pypi", "simple/b/", CancellationToken.None);
        Assert.Null(await store.GetAsync("pypi", "simple/b/", CancellationToken.None));
        Assert.Null(await store.GetOldestFetchAsync("cran", CancellationToken.None));
    }
}

/// <summary>A <c>safehaven.db</c> written before versioned migrations is adopted as it is, its rows kept.</summary>
public sealed class IndexCacheAdoptionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-adopt-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task An_existing_safehaven_db_keeps_its_cached_pages_and_first_seen_dates()
    {
        var path = Path.Combine(_directory, "safehaven.db");
        // The exact tables (and a row in each) SafeHaven created before issue 16.
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS index_cache (
                    ecosystem TEXT NOT NULL, key TEXT NOT NULL, content BLOB NOT NULL, fetched_at INTEGER NOT NULL,
                    upstream_etag TEXT NULL, PRIMARY KEY (ecosystem, key));
                CREATE TABLE IF NOT EXISTS first_seen (
                    ecosystem TEXT NOT NULL, key TEXT NOT NULL, first_seen_at INTEGER NOT NULL, PRIMARY KEY (ecosystem, key));
                INSERT INTO index_cache VALUES ('pypi', 'simple/a/', x'2a', 1790000000000, '"old"');
                INSERT INTO first_seen VALUES ('cran', 'a_1.0.tar.gz', 1780000000000);
                """;
            await create.ExecuteNonQueryAsync();
        }

        await using var database = SafeHavenDatabase.ForSqliteFile(path);
        var cache = await IndexCacheStore.OpenAsync(database, CancellationToken.None);
        var firstSeen = await FirstSeenStore.OpenAsync(database, CancellationToken.None);

        var page = await cache.GetAsync("pypi", "simple/a/", CancellationToken.None);
        Assert.Equal([0x2a], page!.Content);
        Assert.Equal("\"old\"", page.UpstreamETag);
        var seen = await firstSeen.GetOrRecordAsync("cran", ["a_1.0.tar.gz"], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1780000000000), seen["a_1.0.tar.gz"]);
    }
}
