using SafeHaven.Airlock.Storage;
using SafeHaven.Core.Storage.Database;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SafeHaven.Airlock;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.MirrorSync.GarbageCollection;
using SafeHaven.MirrorSync.Sync;

namespace SafeHaven.MirrorSync.Tests.GarbageCollection;

/// <summary>
/// The collector over the real stores it runs against: a filesystem blob store, the SQLite snapshot tables (records and the forgotten list), the SQLite
/// index cache holding the artifact pins, and the airlock's SQLite file with a completed upload in a volume.
/// </summary>
public sealed class SnapshotGarbageCollectorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("safehaven-gc-").FullName;
    private readonly FileSystemBlobStore _blobs;
    private readonly SnapshotStore _store;
    private readonly SnapshotManifests _manifests;
    private readonly IndexCacheStore _cache;
    private readonly AirlockDatabase _airlock;
    private readonly ForgottenSnapshots _forgotten;

    public SnapshotGarbageCollectorTests()
    {
        _blobs = new FileSystemBlobStore(Path.Combine(_root, "blobs"));
        _store = SnapshotStore.ForFile(Path.Combine(_root, "safehaven.db"));
        _cache = IndexCacheStore.OpenAsync(SafeHavenDatabase.ForSqliteFile(Path.Combine(_root, "safehaven.db")), CancellationToken.None).GetAwaiter().GetResult();
        _manifests = new SnapshotManifests(_blobs);
        _airlock = AirlockDatabase.ForFile(Path.Combine(_root, "airlock.db"));
        _forgotten = new ForgottenSnapshots(_store, TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<SnapshotEntry> PutAsync(string path, string content, SnapshotEntryKind kind = SnapshotEntryKind.Document)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var digest = await _blobs.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        return new SnapshotEntry(path, "text/plain", digest.Hex, bytes.Length, kind);
    }

    private static SnapshotManifest Manifest(DateTimeOffset createdAt, params SnapshotEntry[] entries) =>
        new(1, "cran", new DateTimeOffset(createdAt.UtcTicks - createdAt.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero), 3, null, "sync", entries);

    private SnapshotGarbageCollector Collector(IEnumerable<IBlobReferences> references) =>
        new(_store, _manifests, _blobs, _forgotten, references, NullLogger<SnapshotGarbageCollector>.Instance);

    private IBlobReferences[] References() => [new ArtifactCacheReferences(_cache), new AirlockBlobReferences(_airlock)];

    private async Task<bool> ExistsAsync(string hex) => await _blobs.GetLengthAsync(BlobDigest.Parse(hex), CancellationToken.None) is not null;

    /// <summary>
    /// An old snapshot (2 days) with four blobs: one only it names, one the new snapshot names too, one pinned by the
    /// read-through cache, one deposited in an airlock volume. Retention (0 days, keep 1) forgets the old snapshot.
    /// </summary>
    private async Task<(SnapshotEntry Only, SnapshotEntry Shared, SnapshotEntry Pinned, SnapshotEntry Deposited, string OldId, string NewId)> ArrangeAsync()
    {
        var only = await PutAsync("src/contrib/PACKAGES", "Package: old\nVersion: 1.0\n");
        var shared = await PutAsync("src/contrib/PACKAGES.gz", "same bytes in both snapshots");
        var pinned = await PutAsync("src/contrib/old_1.0.tar.gz", "a cached tarball", SnapshotEntryKind.Artifact);
        var deposited = await PutAsync("src/contrib/dep_1.0.tar.gz", "a file also deposited through the airlock", SnapshotEntryKind.Artifact);

        await _cache.PutAsync("cran-pins", "old_1.0.tar.gz", new CachedIndex(new ArtifactPin(BlobDigest.Parse(pinned.Sha256), null).Encode(), DateTimeOffset.UtcNow, null), CancellationToken.None);
        var volume = await new DatabaseVolumeStore(_airlock, null).CreateAsync("wp1", "inbound", CancellationToken.None);
        var uploads = new DatabaseUploadSessionStore(_airlock);
        await uploads.CreateAsync(new UploadSession("u1", volume.Id, "dep.tar.gz", deposited.Size, BlobDigest.Parse(deposited.Sha256), 1024, UploadState.Open, DateTimeOffset.UtcNow), CancellationToken.None);
        await uploads.CompleteAsync("u1", new VolumeFile("dep.tar.gz", BlobDigest.Parse(deposited.Sha256), deposited.Size, DateTimeOffset.UtcNow), CancellationToken.None);

        var publisher = new SnapshotPublisher(_blobs, _manifests, _store);
        var old = await publisher.PublishAsync(Manifest(DateTimeOffset.UtcNow.AddDays(-2), only, shared, pinned, deposited), CancellationToken.None);
        var current = await publisher.PublishAsync(Manifest(DateTimeOffset.UtcNow, shared), CancellationToken.None);

        var options = new SafeHavenOptions { Snapshots = new SnapshotOptions { RetentionDays = 0, KeepAtLeast = 1 } };
        var retention = new SnapshotRetention(_store, _forgotten, new StaticOptions(options), TimeProvider.System, NullLogger<SnapshotRetention>.Instance);
        var forgotten = await retention.ApplyAsync("cran", CancellationToken.None);
        Assert.Equal([old.Id], forgotten.Select(r => r.Id));
        Assert.Null(await _store.FindAsync("cran", old.Id, CancellationToken.None));
        return (only, shared, pinned, deposited, old.Id, current.Id);
    }

    [Fact]
    public async Task DryRunReportsOnlyTheUnreferencedBlobsAndDeletesNothing()
    {
        var (only, shared, pinned, deposited, oldId, _) = await ArrangeAsync();

        var report = await Collector(References()).CollectAsync(dryRun: true, CancellationToken.None);

        Assert.True(report.DryRun);
        Assert.Equal(1, report.ForgottenSnapshots);
        Assert.Equal(5, report.Candidates); // four entries and the old manifest
        Assert.Equal(2, report.Deleted); // the old manifest and the blob only it named
        Assert.Equal(only.Size + new FileInfo(_blobs.GetLocalPath(BlobDigest.Parse(oldId))!).Length, report.BytesFreed);
        Assert.Equal(1, report.KeptBy[SnapshotGarbageCollector.RetainedSnapshots]);
        Assert.Equal(1, report.KeptBy["read-through artifact cache"]);
        Assert.Equal(1, report.KeptBy["airlock volumes and uploads"]);
        foreach (var hex in new[] { only.Sha256, shared.Sha256, pinned.Sha256, deposited.Sha256, oldId })
        {
            Assert.True(await ExistsAsync(hex));
        }
        Assert.Single(await _forgotten.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task CollectionDeletesOnlyUnreferencedBlobsAndEmptiesTheList()
    {
        var (only, shared, pinned, deposited, oldId, newId) = await ArrangeAsync();

        var report = await Collector(References()).CollectAsync(dryRun: false, CancellationToken.None);

        Assert.Equal(2, report.Deleted);
        Assert.False(await ExistsAsync(only.Sha256));
        Assert.False(await ExistsAsync(oldId));
        Assert.True(await ExistsAsync(shared.Sha256));
        Assert.True(await ExistsAsync(pinned.Sha256));
        Assert.True(await ExistsAsync(deposited.Sha256));
        Assert.True(await ExistsAsync(newId));
        Assert.Empty(await _forgotten.ListAsync(CancellationToken.None));
        // The current snapshot is whole: its manifest loads and every blob is there.
        var manifest = await _manifests.LoadAsync(newId, CancellationToken.None);
        Assert.All(manifest.Entries, e => Assert.True(File.Exists(_blobs.GetLocalPath(BlobDigest.Parse(e.Sha256)))));

        var again = await Collector(References()).CollectAsync(dryRun: false, CancellationToken.None);
        Assert.Equal(0, again.Candidates);
    }

    [Fact]
    public async Task AReferenceSourceThatFailsFailsTheCollectionBeforeAnythingIsDeleted()
    {
        var (only, _, _, _, oldId, _) = await ArrangeAsync();
        // The airlock's database lost a table it answers from: it cannot say what it references.
        var damaged = Path.Combine(_root, "airlock-damaged.db");
        var unreadable = new AirlockBlobReferences(AirlockDatabase.ForFile(damaged));
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(SqliteFiles.ConnectionStringFor(damaged)))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE airlock_upload_chunks";
            drop.ExecuteNonQuery();
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Collector([new ArtifactCacheReferences(_cache), unreadable]).CollectAsync(dryRun: false, CancellationToken.None));

        Assert.StartsWith("airlock volumes and uploads could not say which blobs it references, so nothing was deleted", e.Message, StringComparison.Ordinal);
        Assert.True(await ExistsAsync(only.Sha256));
        Assert.True(await ExistsAsync(oldId));
        Assert.Single(await _forgotten.ListAsync(CancellationToken.None));
    }

    private sealed class StaticOptions(SafeHavenOptions value) : IOptionsMonitor<SafeHavenOptions>
    {
        public SafeHavenOptions CurrentValue => value;
        public SafeHavenOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<SafeHavenOptions, string?> listener) => null;
    }
}
