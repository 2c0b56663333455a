using System.Text;
using SafeHaven.Core.Storage;

namespace SafeHaven.Core.Tests.Storage;

public sealed class SqliteIndexCacheStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-indexcache-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Many_keys_are_read_at_once_across_batches_missing_ones_left_out_and_ecosystems_kept_apart()
    {
        var store = SqliteIndexCacheStore.ForFile(Path.Combine(_directory, "safehaven.db"));
        var at = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        // More keys than one batch (500) holds, every third one stored.
        var keys = Enumerable.Range(0, 1_200).Select(i => $"file-{i}.whl").ToList();
        foreach (var key in keys.Where((_, i) => i % 3 == 0))
        {
            await store.PutAsync("pypi-pins", key, new CachedIndex(Encoding.ASCII.GetBytes(key), at, "\"e\""), CancellationToken.None);
        }
        await store.PutAsync("cran-pins", "file-1.whl", new CachedIndex([1], at, null), CancellationToken.None);

        var found = await store.GetManyAsync("pypi-pins", [.. keys, "file-0.whl"], CancellationToken.None);

        Assert.Equal(400, found.Count);
        Assert.All(found, pair => Assert.Equal(pair.Key, Encoding.ASCII.GetString(pair.Value.Content)));
        Assert.Equal(at, found["file-1197.whl"].FetchedAt);
        Assert.Equal("\"e\"", found["file-0.whl"].UpstreamETag);
        Assert.False(found.ContainsKey("file-1.whl"));
        Assert.Empty(await store.GetManyAsync("pypi-pins", [], CancellationToken.None));
    }
}
