using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Storage.S3;

namespace SafeHaven.Airlock.Tests.Uploads;

/// <summary>The same upload path with both the file store and the chunk store in a real s3rver bucket.</summary>
public sealed class S3UploadServiceTests(S3rverFixture s3rver) : IClassFixture<S3rverFixture>, IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    public async Task Chunked_upload_completes_into_the_S3_store()
    {
        var client = S3BlobStoreFactory.CreateClient(s3rver.Options);
        var prefix = $"u{Guid.NewGuid():N}/";
        using var files = new S3BlobStore(client, S3rverFixture.BucketName, prefix + "files", partSize: 256 * 1024, ownsClient: true);
        using var chunks = new S3BlobStore(client, S3rverFixture.BucketName, prefix + "chunks");
        var database = AirlockDatabase.ForFile(_temp.Combine("airlock.db"));
        var volumes = new DatabaseVolumeStore(database);
        var uploads = new UploadService(new DatabaseUploadSessionStore(database), volumes, files, chunks);
        var content = BlobStoreContractTests.Bytes((3 * UploadService.MinChunkSize * 4) + 77, seed: 31);
        var sha = BlobDigest.Compute(content);
        var volume = await volumes.CreateAsync("wp-s3", "ingress", TestContext.Token);
        var session = await uploads.BeginAsync(volume.Id, "big.bin", content.Length, sha, UploadService.MinChunkSize * 4, TestContext.Token);

        for (var i = session.ChunkCount - 1; i >= 0; i--)
        {
            var chunk = content.AsSpan((int)(i * session.ChunkSize), (int)session.LengthOf(i)).ToArray();
            await uploads.PutChunkAsync(session.Id, i, new MemoryStream(chunk), BlobDigest.Compute(chunk), TestContext.Token);
        }
        var file = await uploads.CompleteAsync(session.Id, TestContext.Token);

        Assert.Equal(sha, file.Sha256);
        Assert.Equal(content.Length, await files.GetLengthAsync(sha, TestContext.Token));
        Assert.Equal(file, Assert.Single((await volumes.GetManifestAsync(volume.Id, TestContext.Token))!.Files));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }
}
