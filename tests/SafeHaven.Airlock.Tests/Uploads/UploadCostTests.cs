using System.Diagnostics;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Tests.Uploads;

/// <summary>What a deposit token can make the appliance spend: bounded by what was sent, never by what was declared.</summary>
public sealed class UploadCostTests : IDisposable
{
    private const int ChunkSize = UploadService.MinChunkSize;
    private const long TwentySixTerabytes = 26_000_000_000_000;

    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    private (UploadService Uploads, IVolumeStore Volumes) Start(UploadLimits? limits = null)
    {
        var database = AirlockDatabase.ForFile(_temp.Combine("airlock.db"));
        var volumes = new DatabaseVolumeStore(database);
        return (new UploadService(new DatabaseUploadSessionStore(database), volumes, new FileSystemBlobStore(_temp.Combine("blobs")),
            new FileSystemBlobStore(_temp.Combine("chunks")), limits: limits), volumes);
    }

    private IEnumerable<string> StoredChunks() =>
        Directory.EnumerateFiles(_temp.Combine("chunks"), "*", SearchOption.AllDirectories);

    [Fact]
    public async Task A_26_TB_declaration_completes_to_a_refusal_at_once_in_flat_memory()
    {
        var (uploads, volumes) = Start();
        var volume = await volumes.CreateAsync("wp", "in", Ct);
        var first = new byte[ChunkSize];
        var session = await uploads.BeginAsync(volume.Id, "huge.bin", TwentySixTerabytes, BlobDigest.Compute("x"u8), ChunkSize, Ct);
        await uploads.PutChunkAsync(session.Id, 0, new MemoryStream(first), BlobDigest.Compute(first), Ct);
        Assert.Equal(396_728_516L, session.ChunkCount);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heldBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        var status = (await uploads.GetStatusAsync(session.Id, Ct))!;
        var refused = await Assert.ThrowsAsync<UploadRejectedException>(() => uploads.CompleteAsync(session.Id, Ct));

        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var held = GC.GetTotalMemory(forceFullCollection: true) - heldBefore;
        Assert.Equal(1, status.NextMissingChunk);
        Assert.Contains("missing 396728515 of 396728516 chunks: missing chunks 1, 2, 3", refused.Message, StringComparison.Ordinal);
        // The old code took 97 s and 3.2 GiB here; the bounds are generous for a loaded CI machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"complete took {clock.Elapsed}");
        Assert.True(allocated < 32L * 1024 * 1024, $"complete allocated {allocated} bytes");
        Assert.True(held < 8L * 1024 * 1024, $"complete kept {held} bytes");
    }

    [Fact]
    public async Task Two_to_the_31_chunks_do_not_overflow_and_the_upload_can_be_aborted()
    {
        var (uploads, volumes) = Start();
        var volume = await volumes.CreateAsync("wp", "in", Ct);
        var size = ((long)int.MaxValue + 1) * ChunkSize + 1; // 2^31 full chunks and one more byte
        var session = await uploads.BeginAsync(volume.Id, "wide.bin", size, BlobDigest.Compute("x"u8), ChunkSize, Ct);
        Assert.Equal((1L << 31) + 1, session.ChunkCount);
        var last = 1L << 31;
        Assert.Equal(1, session.LengthOf(last));

        byte[] tail = [42];
        await uploads.PutChunkAsync(session.Id, last, new MemoryStream(tail), BlobDigest.Compute(tail), Ct);
        var outOfRange = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            uploads.PutChunkAsync(session.Id, last + 1, new MemoryStream(tail), BlobDigest.Compute(tail), Ct));
        Assert.Contains("out of range: the upload has chunks 0 to 2147483648", outOfRange.Message, StringComparison.Ordinal);

        var status = (await uploads.GetStatusAsync(session.Id, Ct))!;
        Assert.Equal([last], status.ReceivedChunks);
        Assert.Equal(0, status.NextMissingChunk);
        var refused = await Assert.ThrowsAsync<UploadRejectedException>(() => uploads.CompleteAsync(session.Id, Ct));
        Assert.Contains("missing 2147483648 of 2147483649 chunks", refused.Message, StringComparison.Ordinal);
        Assert.Single(StoredChunks());

        await uploads.AbortAsync(session.Id, Ct);

        Assert.Empty(StoredChunks());
        Assert.Equal(UploadState.Aborted, (await uploads.GetStatusAsync(session.Id, Ct))!.Session.State);
        Assert.Empty((await uploads.GetStatusAsync(session.Id, Ct))!.ReceivedChunks);
        await Assert.ThrowsAsync<AirlockConflictException>(() =>
            uploads.PutChunkAsync(session.Id, last, new MemoryStream(tail), BlobDigest.Compute(tail), Ct));
        await Assert.ThrowsAsync<AirlockConflictException>(() => uploads.AbortAsync(session.Id, Ct));
    }

    [Fact]
    public async Task Declarations_over_the_volume_quota_or_the_free_space_are_refused_with_the_reason()
    {
        var (uploads, volumes) = Start(new UploadLimits(MaxVolumeBytes: 1_000_000, MinFreeBytes: 0, StorePaths: [_temp.Path]));
        var volume = await volumes.CreateAsync("wp", "in", Ct);
        var sha = BlobDigest.Compute("x"u8);

        var huge = await Assert.ThrowsAsync<InsufficientStorageException>(() => uploads.BeginAsync(volume.Id, "huge.bin", TwentySixTerabytes, sha, ChunkSize, Ct));
        Assert.Contains("Quota exceeded", huge.Message, StringComparison.Ordinal);
        Assert.Contains("quota of 1000000 bytes", huge.Message, StringComparison.Ordinal);
        var overflow = await Assert.ThrowsAsync<InsufficientStorageException>(() => uploads.BeginAsync(volume.Id, "max.bin", long.MaxValue, sha, ChunkSize, Ct));
        Assert.Contains("Quota exceeded", overflow.Message, StringComparison.Ordinal);

        // Open uploads count against the quota with what they declare.
        await uploads.BeginAsync(volume.Id, "a.bin", 600_000, sha, ChunkSize, Ct);
        var second = await Assert.ThrowsAsync<InsufficientStorageException>(() => uploads.BeginAsync(volume.Id, "b.bin", 600_000, sha, ChunkSize, Ct));
        Assert.Contains("holds or expects 600000 bytes", second.Message, StringComparison.Ordinal);
        await uploads.BeginAsync(volume.Id, "b.bin", 400_000, sha, ChunkSize, Ct);

        // Without a quota, the free space of the stores still bounds a declaration.
        var (unbounded, _) = Start(new UploadLimits(MaxVolumeBytes: null, MinFreeBytes: 0, StorePaths: [_temp.Path]));
        var disk = await Assert.ThrowsAsync<InsufficientStorageException>(() => unbounded.BeginAsync(volume.Id, "c.bin", 1L << 60, sha, ChunkSize, Ct));
        Assert.Contains("Not enough free space", disk.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }
}
