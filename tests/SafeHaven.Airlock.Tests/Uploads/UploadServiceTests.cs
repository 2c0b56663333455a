using System.Security.Cryptography;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Uploads;

/// <summary>The upload path over the airlock tables, once per database provider (the subclasses below).</summary>
public abstract class UploadServiceTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private const int ChunkSize = UploadService.MinChunkSize;

    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    /// <summary>A fresh service over the same database and blob directories: what a restarted appliance builds.</summary>
    private async Task<(UploadService Uploads, IVolumeStore Volumes, IBlobStore Files)> StartAsync()
    {
        var database = await AirlockDatabase.OpenAsync(OpenReplica(), null, Ct);
        var volumes = new DatabaseVolumeStore(database);
        var files = new FileSystemBlobStore(_temp.Combine("blobs"));
        var chunks = new FileSystemBlobStore(_temp.Combine("chunks"));
        return (new UploadService(new DatabaseUploadSessionStore(database), volumes, files, chunks), volumes, files);
    }

    private static byte[] Chunk(byte[] content, int index) =>
        content.AsSpan(index * ChunkSize, Math.Min(ChunkSize, content.Length - (index * ChunkSize))).ToArray();

    private static Task PutAsync(UploadService uploads, string id, byte[] content, int index)
    {
        var chunk = Chunk(content, index);
        return uploads.PutChunkAsync(id, index, new MemoryStream(chunk), BlobDigest.Compute(chunk), Ct);
    }

    [Fact]
    public async Task Upload_survives_a_restart_resumes_from_the_next_missing_chunk_and_appears_only_when_complete()
    {
        var content = BlobStoreContractTests.Bytes((4 * ChunkSize) + 1234, seed: 11);
        var sha = BlobDigest.Compute(content);
        string volumeId, uploadId;

        // Before the "crash": two of five chunks arrive, out of order.
        {
            var (uploads, volumes, _) = await StartAsync();
            volumeId = (await volumes.CreateAsync("wp-17", "ingress", Ct)).Id;
            var session = await uploads.BeginAsync(volumeId, "data/cohort.csv", content.Length, sha, ChunkSize, Ct);
            uploadId = session.Id;
            Assert.Equal(5, session.ChunkCount);
            await PutAsync(uploads, uploadId, content, 0);
            await PutAsync(uploads, uploadId, content, 2);
            Assert.Empty((await volumes.GetManifestAsync(volumeId, Ct))!.Files);
        }
        // After the restart: the received chunks are still there; the client resumes from chunk 1.
        {
            var (uploads, volumes, files) = await StartAsync();
            var status = (await uploads.GetStatusAsync(uploadId, Ct))!;
            Assert.Equal([0, 2], status.ReceivedChunks);
            Assert.Equal(1, status.NextMissingChunk);
            await PutAsync(uploads, uploadId, content, 1);
            await PutAsync(uploads, uploadId, content, 3);
            Assert.Equal(4, (await uploads.GetStatusAsync(uploadId, Ct))!.NextMissingChunk);

            var early = await Assert.ThrowsAsync<UploadRejectedException>(() => uploads.CompleteAsync(uploadId, Ct));
            Assert.Contains("missing chunks 4", early.Message, StringComparison.Ordinal);
            Assert.Empty((await volumes.GetManifestAsync(volumeId, Ct))!.Files);

            await PutAsync(uploads, uploadId, content, 4);
            var file = await uploads.CompleteAsync(uploadId, Ct);

            Assert.Equal(sha, file.Sha256);
            var manifest = (await volumes.GetManifestAsync(volumeId, Ct))!;
            var listed = Assert.Single(manifest.Files);
            Assert.Equal(("data/cohort.csv", sha, (long)content.Length), (listed.Path, listed.Sha256, listed.Size));
            await using var stored = await files.OpenReadAsync(sha, Ct);
            Assert.Equal(sha, BlobDigest.FromHash(await SHA256.HashDataAsync(stored!, Ct)));
            Assert.Empty(System.IO.Directory.EnumerateFiles(_temp.Combine("chunks", "sha256"), "*", SearchOption.AllDirectories));
            Assert.Equal(file, await uploads.CompleteAsync(uploadId, Ct));
        }
    }

    [Fact]
    public async Task Chunk_that_does_not_match_its_hash_or_length_is_rejected_and_not_recorded()
    {
        var (uploads, volumes, _) = await StartAsync();
        var content = BlobStoreContractTests.Bytes(2 * ChunkSize, seed: 12);
        var volume = await volumes.CreateAsync("wp-1", "in", Ct);
        var session = await uploads.BeginAsync(volume.Id, "a.bin", content.Length, BlobDigest.Compute(content), ChunkSize, Ct);

        var chunk = Chunk(content, 0);
        var bad = await Assert.ThrowsAsync<UploadRejectedException>(() =>
            uploads.PutChunkAsync(session.Id, 0, new MemoryStream(chunk), BlobDigest.Compute("other"u8), Ct));
        Assert.Contains("not the", bad.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<UploadRejectedException>(() =>
            uploads.PutChunkAsync(session.Id, 1, new MemoryStream(chunk[..100]), BlobDigest.Compute(chunk[..100]), Ct));
        await Assert.ThrowsAsync<UploadRejectedException>(() =>
            uploads.PutChunkAsync(session.Id, 2, new MemoryStream(chunk), BlobDigest.Compute(chunk), Ct));

        Assert.Empty((await uploads.GetStatusAsync(session.Id, Ct))!.ReceivedChunks);
    }

    [Fact]
    public async Task Wrong_declared_file_hash_adds_nothing_to_the_volume()
    {
        var (uploads, volumes, files) = await StartAsync();
        var content = BlobStoreContractTests.Bytes(ChunkSize + 10, seed: 13);
        var volume = await volumes.CreateAsync("wp-1", "in", Ct);
        var declared = BlobDigest.Compute("not this file"u8);
        var session = await uploads.BeginAsync(volume.Id, "a.bin", content.Length, declared, ChunkSize, Ct);
        await PutAsync(uploads, session.Id, content, 0);
        await PutAsync(uploads, session.Id, content, 1);

        var error = await Assert.ThrowsAsync<UploadRejectedException>(() => uploads.CompleteAsync(session.Id, Ct));

        Assert.Contains("nothing was added", error.Message, StringComparison.Ordinal);
        Assert.Empty((await volumes.GetManifestAsync(volume.Id, Ct))!.Files);
        Assert.Null(await files.GetLengthAsync(BlobDigest.Compute(content), Ct));
    }

    [Fact]
    public async Task Volumes_take_deposits_only_in_external_mode_and_paths_are_checked()
    {
        var (uploads, volumes, _) = await StartAsync();
        var volume = await volumes.CreateAsync("wp-2", "in", Ct);
        var empty = BlobDigest.Compute([]);

        await Assert.ThrowsAsync<ArgumentException>(() => uploads.BeginAsync(volume.Id, "../escape", 0, empty, ChunkSize, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => uploads.BeginAsync(volume.Id, "/abs", 0, empty, ChunkSize, Ct));
        var open = await uploads.BeginAsync(volume.Id, "empty.txt", 0, empty, ChunkSize, Ct);
        await Assert.ThrowsAsync<AirlockConflictException>(() => uploads.BeginAsync(volume.Id, "empty.txt", 0, empty, ChunkSize, Ct));

        await volumes.SetModeAsync(volume.Id, VolumeMode.Review, Ct);

        await Assert.ThrowsAsync<AirlockConflictException>(() => uploads.CompleteAsync(open.Id, Ct));
        await Assert.ThrowsAsync<AirlockConflictException>(() => uploads.BeginAsync(volume.Id, "late.txt", 0, empty, ChunkSize, Ct));
        Assert.Empty((await volumes.GetManifestAsync(volume.Id, Ct))!.Files);
    }

    [Fact]
    public void Manifest_digest_is_over_the_sorted_canonical_lines()
    {
        var a = new VolumeFile("b.txt", BlobDigest.Compute("b"u8), 1, DateTimeOffset.UnixEpoch);
        var b = new VolumeFile("a.txt", BlobDigest.Compute("a"u8), 1, DateTimeOffset.UnixEpoch);

        var manifest = new VolumeManifest("v", [a, b]);

        Assert.Equal($"{b.Sha256} 1 a.txt\n{a.Sha256} 1 b.txt\n", manifest.Render());
        Assert.Equal(BlobDigest.Compute(System.Text.Encoding.UTF8.GetBytes(manifest.Render())), manifest.VolumeDigest);
        Assert.Equal(manifest.VolumeDigest, new VolumeManifest("v", [b, a]).VolumeDigest);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _temp.Dispose();
    }
}

public sealed class SqliteUploadServiceTests() : UploadServiceTests(DatabaseProvider.Sqlite);

public sealed class PostgresUploadServiceTests() : UploadServiceTests(DatabaseProvider.Postgres);
