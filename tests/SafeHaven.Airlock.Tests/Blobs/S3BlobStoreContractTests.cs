using Amazon.S3;
using Amazon.S3.Model;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Blobs;
using SafeHaven.Storage.S3;

namespace SafeHaven.Airlock.Tests.Blobs;

/// <summary>The shared suite against a real s3rver on loopback; each test gets its own key prefix.</summary>
public sealed class S3BlobStoreContractTests : BlobStoreContractTests, IClassFixture<S3rverFixture>, IDisposable
{
    /// <summary>Small parts so the suite exercises multipart uploads quickly (s3rver does not enforce S3's 5 MiB).</summary>
    private const int TestPartSize = 1024 * 1024;

    private readonly IAmazonS3 _client;
    private readonly S3BlobStore _store;
    private readonly string _prefix = $"t{Guid.NewGuid():N}/";

    public S3BlobStoreContractTests(S3rverFixture s3rver)
    {
        _client = S3BlobStoreFactory.CreateClient(s3rver.Options);
        _store = new S3BlobStore(_client, S3rverFixture.BucketName, _prefix, TestPartSize);
    }

    protected override IBlobStore Store => _store;

    /// <summary>Six full parts and a ragged last one.</summary>
    protected override long LargeBlobSize => 6L * TestPartSize + 12_345;

    protected override async Task<IReadOnlyList<string>> ListStoredAsync()
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = S3rverFixture.BucketName,
                Prefix = _prefix,
                ContinuationToken = token,
            }, TestContext.Token);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    [Fact]
    public async Task Blobs_are_content_addressed_under_sha256_keys()
    {
        var digest = await _store.PutAsync(new MemoryStream("hello"u8.ToArray()), null, TestContext.Token);

        Assert.Equal([$"{_prefix}sha256/{digest.Hex[..2]}/{digest.Hex}"], await ListStoredAsync());
    }

    [Fact]
    public async Task Announced_digest_uploads_straight_to_its_key_and_a_mismatch_leaves_nothing()
    {
        var content = Bytes(3 * TestPartSize + 10, seed: 9);
        var digest = BlobDigest.Compute(content);

        await using (var writer = await _store.BeginWriteAsync(digest, TestContext.Token))
        {
            await writer.WriteAsync(content, TestContext.Token);
            Assert.Equal(digest, await writer.CommitAsync(null, TestContext.Token));
        }
        Assert.Equal(content.Length, await _store.GetLengthAsync(digest, TestContext.Token));

        var other = BlobDigest.Compute("other"u8);
        await using (var writer = await _store.BeginWriteAsync(other, TestContext.Token))
        {
            await writer.WriteAsync(Bytes(2 * TestPartSize + 1, seed: 10), TestContext.Token);
            await Assert.ThrowsAsync<BlobDigestMismatchException>(() => writer.CommitAsync(null, TestContext.Token));
        }
        Assert.Null(await _store.GetLengthAsync(other, TestContext.Token));
        Assert.Single(await ListStoredAsync());
    }

    /// <summary>
    /// Two replicas fetching the same artifact store the same content under one key. s3rver (like some other S3-compatible
    /// stores) rewrites an object in place when it is PUT again, so a replica reading it meanwhile would see it cut
    /// short: a digest key that exists is never written again, whichever way the second copy arrives.
    /// </summary>
    [Theory]
    [InlineData(1000, false)]                      // one PUT
    [InlineData(3 * TestPartSize + 10, true)]      // multipart straight to the announced digest key
    [InlineData(3 * TestPartSize + 10, false)]     // multipart to a staging key, copied on commit
    public async Task A_blob_already_stored_is_not_written_again(int size, bool announce)
    {
        var content = Bytes(size, seed: 11);
        var digest = BlobDigest.Compute(content);
        var key = $"{_prefix}sha256/{digest.Hex[..2]}/{digest.Hex}";
        await _store.PutAsync(new MemoryStream(content), digest, TestContext.Token);
        var first = await _client.GetObjectMetadataAsync(S3rverFixture.BucketName, key, TestContext.Token);
        await Task.Delay(TimeSpan.FromSeconds(1.2)); // s3rver's Last-Modified has one-second resolution

        await using (var writer = await _store.BeginWriteAsync(announce ? digest : null, TestContext.Token))
        {
            await writer.WriteAsync(content, TestContext.Token);
            Assert.Equal(digest, await writer.CommitAsync(digest, TestContext.Token));
        }

        var second = await _client.GetObjectMetadataAsync(S3rverFixture.BucketName, key, TestContext.Token);
        Assert.Equal(first.LastModified, second.LastModified);
        Assert.Equal(size, second.ContentLength);
        Assert.Equal([key], await ListStoredAsync()); // no staging object left behind
    }

    public void Dispose()
    {
        _store.Dispose();
        _client.Dispose();
    }
}
