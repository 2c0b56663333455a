using System.Text;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Snapshots;

/// <summary>The snapshot store (SQLite and PostgreSQL), the manifest blobs and the publisher, on a real file system blob store and database file.</summary>
public sealed class SqliteSnapshotStoreTests() : SnapshotStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresSnapshotStoreTests() : SnapshotStoreTests(DatabaseProvider.Postgres);

public abstract class SnapshotStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{

    private static readonly DateTimeOffset Day = new(2026, 11, 28, 2, 0, 0, TimeSpan.Zero);

    private static SnapshotRecord Record(string id, DateTimeOffset createdAt, string ecosystem = "pypi") =>
        new(id, ecosystem, createdAt, "sync", 2, 1, 100);

    private static string Id(char c) => new(c, 64);

    [Fact]
    public async Task Publishing_makes_a_snapshot_current_and_dates_select_the_newest_not_after()
    {
        var store = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        Assert.Null(await store.GetCurrentAsync("pypi", CancellationToken.None));

        await store.PublishAsync(Record(Id('a'), Day), CancellationToken.None);
        await store.PublishAsync(Record(Id('b'), Day.AddDays(1)), CancellationToken.None);
        await store.PublishAsync(Record(Id('c'), Day, "cran"), CancellationToken.None);

        // A reopened store sees the same.
        store = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        Assert.Equal(Id('b'), (await store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
        Assert.Equal(Id('c'), (await store.GetCurrentAsync("cran", CancellationToken.None))!.Id);
        Assert.Equal(Id('a'), (await store.GetAsOfAsync("pypi", Day.AddHours(23), CancellationToken.None))!.Id);
        Assert.Equal(Id('b'), (await store.GetAsOfAsync("pypi", Day.AddDays(1), CancellationToken.None))!.Id);
        Assert.Null(await store.GetAsOfAsync("pypi", Day.AddSeconds(-1), CancellationToken.None));
        Assert.Equal([Id('b'), Id('a')], (await store.ListAsync("pypi", CancellationToken.None)).Select(r => r.Id));
        Assert.Equal(3, (await store.ListAsync(null, CancellationToken.None)).Count);
        var record = (await store.FindAsync("pypi", "AAAAAAAA", CancellationToken.None))!;
        Assert.Equal(Record(Id('a'), Day), record);
        Assert.Null(await store.FindAsync("pypi", "aaaaaaa", CancellationToken.None));
        Assert.Null(await store.FindAsync("pypi", "aaaaaaa%", CancellationToken.None));
        Assert.Null(await store.FindAsync("cran", "aaaaaaaa", CancellationToken.None));

        // Publishing an older snapshot again makes it current again.
        await store.PublishAsync(Record(Id('a'), Day), CancellationToken.None);
        Assert.Equal(Id('a'), (await store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
    }

    [Fact]
    public async Task The_current_snapshot_cannot_be_deleted_and_an_ambiguous_prefix_finds_nothing()
    {
        var store = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        var first = "abcdef01" + new string('1', 56);
        var second = "abcdef01" + new string('2', 56);
        await store.PublishAsync(Record(first, Day), CancellationToken.None);
        await store.PublishAsync(Record(second, Day.AddDays(1)), CancellationToken.None);

        Assert.Null(await store.FindAsync("pypi", "abcdef01", CancellationToken.None));
        Assert.Equal(first, (await store.FindAsync("pypi", "abcdef011", CancellationToken.None))!.Id);
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.DeleteAsync("pypi", second, CancellationToken.None));
        await store.DeleteAsync("pypi", first, CancellationToken.None);
        Assert.Equal([second], (await store.ListAsync("pypi", CancellationToken.None)).Select(r => r.Id));
    }

    [Fact]
    public async Task A_manifest_is_stored_by_its_id_and_an_altered_one_is_refused()
    {
        var blobs = new FileSystemBlobStore(Path.Combine(Directory, "blobs"));
        var manifests = new SnapshotManifests(blobs);
        var content = await blobs.PutAsync(new MemoryStream("<html></html>"u8.ToArray()), null, CancellationToken.None);
        var manifest = new SnapshotManifest(1, "pypi", Day, 3, null, "sync",
            [new SnapshotEntry("simple/", "text/html", content.Hex, 13, SnapshotEntryKind.Document)]);

        var id = await manifests.StoreAsync(manifest, CancellationToken.None);

        Assert.Equal(manifest.ComputeId(), id);
        Assert.Equal(id, (await new SnapshotManifests(blobs).LoadAsync(id, CancellationToken.None)).ComputeId());

        // A manifest file changed on disk no longer hashes to its id.
        var path = blobs.GetLocalPath(BlobDigest.Parse(id))!;
        File.SetAttributes(path, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(path);
        bytes[^3] = (byte)'x';
        File.WriteAllBytes(path, bytes);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new SnapshotManifests(blobs).LoadAsync(id, CancellationToken.None));
        Assert.Contains("altered", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidDataException>(() => manifests.LoadAsync(Id('e'), CancellationToken.None));
    }

    [Fact]
    public async Task The_publisher_refuses_a_missing_or_resized_blob_and_publishes_nothing()
    {
        var blobs = new FileSystemBlobStore(Path.Combine(Directory, "blobs"));
        var store = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        var manifests = new SnapshotManifests(blobs);
        var publisher = new SnapshotPublisher(blobs, manifests, store);
        var page = await blobs.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes("<html>six</html>")), null, CancellationToken.None);
        var good = new SnapshotManifest(1, "pypi", Day, 3, null, "sync",
            [new SnapshotEntry("simple/six/", "text/html", page.Hex, 16, SnapshotEntryKind.Document)]);

        var record = await publisher.PublishAsync(good, CancellationToken.None);
        Assert.Equal(new SnapshotRecord(good.ComputeId(), "pypi", Day, "sync", 1, 0, 16), record);

        var missing = good with
        {
            CreatedAt = Day.AddDays(1), Parent = record.Id,
            Entries = [.. good.Entries, new SnapshotEntry("packages/six/six.whl", "application/octet-stream", Id('f'), 5, SnapshotEntryKind.Artifact)],
        };
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => publisher.PublishAsync(missing, CancellationToken.None));
        Assert.Contains("packages/six/six.whl", error.Message, StringComparison.Ordinal);
        var resized = good with { CreatedAt = Day.AddDays(1), Entries = [good.Entries[0] with { Size = 17 }] };
        error = await Assert.ThrowsAsync<InvalidDataException>(() => publisher.PublishAsync(resized, CancellationToken.None));
        Assert.Contains("16 bytes, the manifest says 17", error.Message, StringComparison.Ordinal);

        Assert.Equal(record.Id, (await store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
        Assert.Single(await store.ListAsync(null, CancellationToken.None));
        Assert.Null(await blobs.GetLengthAsync(BlobDigest.Parse(missing.ComputeId()), CancellationToken.None));
    }

    [Fact]
    public async Task Two_replicas_publishing_at_once_leave_one_current_snapshot_and_share_the_forgotten_list()
    {
        var a = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        var b = await SnapshotStore.OpenAsync(OpenReplica(), CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? a : b).PublishAsync(Record(Id((char)('a' + i % 6)), Day.AddMinutes(i)), CancellationToken.None)));

        var all = await a.ListAsync("pypi", CancellationToken.None);
        Assert.Equal(6, all.Count);
        var current = await b.GetCurrentAsync("pypi", CancellationToken.None);
        Assert.NotNull(current);
        await using (var connection = await Database.OpenAsync(CancellationToken.None))
        {
            Assert.Equal(1L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM snapshots WHERE ecosystem = 'pypi' AND is_current = 1"));
        }

        var stale = all.First(r => r.Id != current!.Id);
        await a.ForgetAsync("pypi", stale.Id, Day, CancellationToken.None);
        await a.ForgetAsync("pypi", stale.Id, Day, CancellationToken.None);
        Assert.Equal([("pypi", stale.Id)], await b.ListForgottenAsync(CancellationToken.None));
        await b.RemoveForgottenAsync([("pypi", stale.Id)], CancellationToken.None);
        Assert.Empty(await a.ListForgottenAsync(CancellationToken.None));
    }
}
