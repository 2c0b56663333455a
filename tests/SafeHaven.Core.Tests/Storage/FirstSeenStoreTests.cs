using Dapper;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Storage;

public sealed class SqliteFirstSeenStoreTests() : FirstSeenStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresFirstSeenStoreTests() : FirstSeenStoreTests(DatabaseProvider.Postgres);

public abstract class FirstSeenStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{
    [Fact]
    public async Task A_first_seen_time_is_recorded_once_and_never_moved()
    {
        var first = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        var store = await FirstSeenStore.OpenAsync(Database, CancellationToken.None);

        var seen = await store.GetOrRecordAsync("cran", ["abc_1.0.tar.gz"], first, CancellationToken.None);
        Assert.Equal(first, seen["abc_1.0.tar.gz"]);

        // Later reads, earlier clocks and another replica's store all keep the first answer.
        var later = await store.GetOrRecordAsync("cran", ["abc_1.0.tar.gz", "abc_1.1.tar.gz"], first.AddDays(3), CancellationToken.None);
        Assert.Equal(first, later["abc_1.0.tar.gz"]);
        Assert.Equal(first.AddDays(3), later["abc_1.1.tar.gz"]);
        var other = await FirstSeenStore.OpenAsync(OpenReplica(), CancellationToken.None);
        var reopened = await other.GetOrRecordAsync("cran", ["abc_1.1.tar.gz"], first.AddDays(-30), CancellationToken.None);
        Assert.Equal(first.AddDays(3), reopened["abc_1.1.tar.gz"]);
    }

    [Fact]
    public async Task Ecosystems_keep_separate_clocks()
    {
        var store = await FirstSeenStore.OpenAsync(Database, CancellationToken.None);
        var t = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        await store.GetOrRecordAsync("pypi", ["x-1.0.tar.gz"], t, CancellationToken.None);
        var other = await store.GetOrRecordAsync("cran", ["x-1.0.tar.gz", "x-1.0.tar.gz"], t.AddDays(1), CancellationToken.None);
        Assert.Equal(t.AddDays(1), Assert.Single(other).Value);
    }

    [Fact]
    public async Task Replicas_recording_the_same_keys_at_once_agree_on_one_time_for_each()
    {
        var stores = new[]
        {
            await FirstSeenStore.OpenAsync(Database, CancellationToken.None),
            await FirstSeenStore.OpenAsync(OpenReplica(), CancellationToken.None),
        };
        // More keys than one batch (500), every replica with its own clock reading.
        var keys = Enumerable.Range(0, 700).Select(i => $"pkg_{i}.tar.gz").ToList();
        var t = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
            stores[i % 2].GetOrRecordAsync("cran", keys, t.AddMinutes(i), CancellationToken.None))));

        Assert.All(answers, answer => Assert.Equal(700, answer.Count));
        Assert.All(keys, key => Assert.Single(answers.Select(a => a[key]).Distinct()));
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(700, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM first_seen"));
    }
}
