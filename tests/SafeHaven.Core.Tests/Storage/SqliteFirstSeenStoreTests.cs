using SafeHaven.Core.Storage;

namespace SafeHaven.Core.Tests.Storage;

public sealed class SqliteFirstSeenStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-firstseen-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_first_seen_time_is_recorded_once_and_never_moved()
    {
        var path = Path.Combine(_directory, "safehaven.db");
        var first = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        var store = SqliteFirstSeenStore.ForFile(path);

        var seen = await store.GetOrRecordAsync("cran", ["abc_1.0.tar.gz"], first, CancellationToken.None);
        Assert.Equal(first, seen["abc_1.0.tar.gz"]);

        // Later reads, earlier clocks and a reopened store all keep the first answer.
        var later = await store.GetOrRecordAsync("cran", ["abc_1.0.tar.gz", "abc_1.1.tar.gz"], first.AddDays(3), CancellationToken.None);
        Assert.Equal(first, later["abc_1.0.tar.gz"]);
        Assert.Equal(first.AddDays(3), later["abc_1.1.tar.gz"]);
        var reopened = await SqliteFirstSeenStore.ForFile(path).GetOrRecordAsync("cran", ["abc_1.1.tar.gz"], first.AddDays(-30), CancellationToken.None);
        Assert.Equal(first.AddDays(3), reopened["abc_1.1.tar.gz"]);
    }

    [Fact]
    public async Task Ecosystems_keep_separate_clocks()
    {
        var store = SqliteFirstSeenStore.ForFile(Path.Combine(_directory, "safehaven.db"));
        var t = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        await store.GetOrRecordAsync("pypi", ["x-1.0.tar.gz"], t, CancellationToken.None);
        var other = await store.GetOrRecordAsync("cran", ["x-1.0.tar.gz", "x-1.0.tar.gz"], t.AddDays(1), CancellationToken.None);
        Assert.Equal(t.AddDays(1), Assert.Single(other).Value);
    }
}
