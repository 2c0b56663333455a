using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Storage.S3;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Uploads;

/// <summary>
/// Two appliance replicas, each composed exactly as the appliance composes the airlock (<c>AddSafeHavenBlobStore</c> +
/// <c>AddSafeHavenAirlock</c>) over a data directory of its own, sharing one real PostgreSQL database and one real
/// s3rver bucket (<c>Database:Provider=postgres</c>, <c>BlobStore:Provider=s3</c>). Nothing the upload needs may be on
/// either replica's disk: an upload begun on one is finished on the other after the first is gone.
/// </summary>
public sealed class ReplicaUploadTests(S3rverFixture s3rver) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const int ChunkSize = UploadService.MinChunkSize;

    private readonly TempDirectory _dataA = new();
    private readonly TempDirectory _dataB = new();
    private string _connectionString = "";

    private static CancellationToken Ct => TestContext.Token;

    public async Task InitializeAsync() => _connectionString = await PostgresServer.CreateDatabaseAsync();

    private ServiceProvider Replica(TempDirectory data)
    {
        var options = new SafeHavenOptions
        {
            DataDirectory = data.Path,
            Database = new DatabaseOptions { Provider = "postgres", ConnectionString = _connectionString },
            BlobStore = new BlobStoreOptions { Provider = "s3", S3 = s3rver.Options },
        };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSafeHavenBlobStore(options);
        services.AddSafeHavenAirlock(options, new ConfigurationBuilder().Build());
        return services.BuildServiceProvider();
    }

    /// <summary>The keys under the bucket's <c>airlock-chunks/</c> prefix: the in-flight chunks every replica sees.</summary>
    private async Task<IReadOnlyList<string>> ChunkKeysAsync()
    {
        using var client = S3BlobStoreFactory.CreateClient(s3rver.Options);
        var listed = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverFixture.BucketName, Prefix = "airlock-chunks/" }, Ct);
        return (listed.S3Objects ?? []).Select(o => o.Key).ToList();
    }

    private static Task PutAsync(UploadService uploads, string uploadId, byte[] content, int index)
    {
        var chunk = content.AsSpan(index * ChunkSize, Math.Min(ChunkSize, content.Length - (index * ChunkSize))).ToArray();
        return uploads.PutChunkAsync(uploadId, index, new MemoryStream(chunk), BlobDigest.Compute(chunk), Ct);
    }

    [Fact]
    public async Task An_upload_sent_through_one_replica_is_completed_through_another_and_its_chunks_are_released()
    {
        var content = BlobStoreContractTests.Bytes((3 * ChunkSize) + 999, seed: 41);
        var sha = BlobDigest.Compute(content);
        // A second upload whose first chunk is byte for byte the first chunk of the file: chunks are content-addressed,
        // so that chunk blob must survive the first upload's completion while the second still holds it.
        var sharing = content.AsSpan(0, ChunkSize + 10).ToArray();
        string volumeId, uploadId, sharingId;

        await using (var a = Replica(_dataA))
        {
            var volumes = a.GetRequiredService<IVolumeStore>();
            var uploads = a.GetRequiredService<UploadService>();
            volumeId = (await volumes.CreateAsync("proj/wp", "ingress", Ct)).Id;
            uploadId = (await uploads.BeginAsync(volumeId, "data/cohort.bin", content.Length, sha, ChunkSize, Ct)).Id;
            foreach (var index in new[] { 2, 0, 1 })
            {
                await PutAsync(uploads, uploadId, content, index);
            }
            sharingId = (await uploads.BeginAsync(volumeId, "data/other.bin", sharing.Length, BlobDigest.Compute(sharing), ChunkSize, Ct)).Id;
            await PutAsync(uploads, sharingId, sharing, 0);
        }
        Assert.Equal(3, (await ChunkKeysAsync()).Count);

        // Replica A is gone. Replica B sees what A received, takes the last chunk and joins the file.
        await using (var b = Replica(_dataB))
        {
            var uploads = b.GetRequiredService<UploadService>();
            var status = (await uploads.GetStatusAsync(uploadId, Ct))!;
            Assert.Equal([0L, 1L, 2L], status.ReceivedChunks);
            Assert.Equal(3, status.NextMissingChunk);
            await PutAsync(uploads, uploadId, content, 3);
            Assert.Equal(4, (await ChunkKeysAsync()).Count);

            var file = await uploads.CompleteAsync(uploadId, Ct);

            Assert.Equal((sha, (long)content.Length), (file.Sha256, file.Size));
            Assert.Equal(content.Length, await b.GetRequiredService<IBlobStore>().GetLengthAsync(sha, Ct));
            var chunks = b.GetRequiredKeyedService<IBlobStore>(AirlockServiceCollectionExtensions.ChunkStoreKey);
            // Released: every chunk of the file but the one the open upload still holds.
            var held = BlobDigest.Compute(content.AsSpan(0, ChunkSize));
            Assert.Equal([$"airlock-chunks/sha256/{held.Hex[..2]}/{held.Hex}"], await ChunkKeysAsync());
            Assert.NotNull(await chunks.GetLengthAsync(held, Ct));

            await uploads.AbortAsync(sharingId, Ct);
            Assert.Empty(await ChunkKeysAsync());
        }

        // A third replica lists the file; neither replica left anything on its own disk.
        using var dataC = new TempDirectory();
        await using (var c = Replica(dataC))
        {
            Assert.Equal(sha, Assert.Single((await c.GetRequiredService<IVolumeStore>().GetManifestAsync(volumeId, Ct))!.Files).Sha256);
        }
        Assert.Empty(Directory.EnumerateFiles(_dataA.Path, "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(_dataB.Path, "*", SearchOption.AllDirectories));
    }

    public Task DisposeAsync()
    {
        _dataA.Dispose();
        _dataB.Dispose();
        return Task.CompletedTask;
    }
}
