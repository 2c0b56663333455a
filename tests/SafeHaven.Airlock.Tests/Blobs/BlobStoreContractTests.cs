using System.Security.Cryptography;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Tests.Blobs;

/// <summary>
/// What every <see cref="IBlobStore"/> must do, run against each backend by a subclass. <see cref="ListStoredAsync"/>
/// shows everything the backend holds (blobs, staging leftovers), so "nothing visible" is checked on the backend
/// itself, not only through the interface.
/// </summary>
public abstract class BlobStoreContractTests
{
    protected abstract IBlobStore Store { get; }

    /// <summary>Larger than several parts of a backend that uploads in parts.</summary>
    protected abstract long LargeBlobSize { get; }

    /// <summary>Every object or file the backend holds, by its key or relative path.</summary>
    protected abstract Task<IReadOnlyList<string>> ListStoredAsync();

    private static CancellationToken Ct => TestContext.Token;

    [Fact]
    public async Task Put_then_read_back_length_and_content()
    {
        var content = Bytes(1000, seed: 1);
        var digest = await Store.PutAsync(new MemoryStream(content), null, Ct);

        Assert.Equal(BlobDigest.Compute(content), digest);
        Assert.Equal(1000, await Store.GetLengthAsync(digest, Ct));
        await using var read = await Store.OpenReadAsync(digest, Ct);
        Assert.NotNull(read);
        Assert.Equal(content, await ReadAllAsync(read));
    }

    [Fact]
    public async Task Empty_blob_is_stored()
    {
        var digest = await Store.PutAsync(new MemoryStream(), null, Ct);

        Assert.Equal(BlobDigest.Compute([]), digest);
        Assert.Equal(0, await Store.GetLengthAsync(digest, Ct));
    }

    [Fact]
    public async Task Missing_blob_reads_as_null()
    {
        var missing = BlobDigest.Compute("never stored"u8);

        Assert.Null(await Store.GetLengthAsync(missing, Ct));
        Assert.Null(await Store.OpenReadAsync(missing, Ct));
    }

    [Fact]
    public async Task Delete_removes_the_blob_and_deleting_a_missing_one_is_harmless()
    {
        var digest = await Store.PutAsync(new MemoryStream(Bytes(100, seed: 2)), null, Ct);

        await Store.DeleteAsync(digest, Ct);
        await Store.DeleteAsync(digest, Ct);

        Assert.Null(await Store.GetLengthAsync(digest, Ct));
        Assert.Null(await Store.OpenReadAsync(digest, Ct));
        Assert.Empty(await ListStoredAsync());
    }

    [Fact]
    public async Task Commit_with_the_right_digest_stores_it()
    {
        var content = Bytes(5000, seed: 3);
        var digest = await Store.PutAsync(new MemoryStream(content), BlobDigest.Compute(content), Ct);

        Assert.Equal(5000, await Store.GetLengthAsync(digest, Ct));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Digest_mismatch_throws_and_leaves_nothing_visible(bool large)
    {
        var wrong = BlobDigest.Compute("something else"u8);
        var writer = await Store.BeginWriteAsync(Ct);
        BlobDigest actual;
        await using (writer)
        {
            actual = await WritePseudoRandomAsync(writer, large ? LargeBlobSize : 4096, seed: 4);
            var error = await Assert.ThrowsAsync<BlobDigestMismatchException>(() => writer.CommitAsync(wrong, Ct));
            Assert.Equal(wrong, error.Expected);
            Assert.Equal(actual, error.Actual);
        }

        Assert.Null(await Store.GetLengthAsync(actual, Ct));
        Assert.Null(await Store.GetLengthAsync(wrong, Ct));
        Assert.Empty(await ListStoredAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disposing_an_uncommitted_writer_leaves_nothing(bool large)
    {
        BlobDigest written;
        await using (var writer = await Store.BeginWriteAsync(Ct))
        {
            written = await WritePseudoRandomAsync(writer, large ? LargeBlobSize : 4096, seed: 5);
        }

        Assert.Null(await Store.GetLengthAsync(written, Ct));
        Assert.Empty(await ListStoredAsync());
    }

    [Fact]
    public async Task Concurrent_writers_of_the_same_content_all_succeed_with_one_blob()
    {
        var size = LargeBlobSize;
        var writers = Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var writer = await Store.BeginWriteAsync(Ct);
            var digest = await WritePseudoRandomAsync(writer, size, seed: 6);
            return await writer.CommitAsync(digest, Ct);
        }).ToArray();

        var digests = await Task.WhenAll(writers);

        Assert.Single(digests.Distinct());
        Assert.Equal(size, await Store.GetLengthAsync(digests[0], Ct));
        Assert.Equal(digests[0], await HashStoredAsync(digests[0]));
        Assert.Single(await ListStoredAsync());
    }

    [Fact]
    public async Task Large_blob_is_streamed_in_parts_and_reads_back_intact()
    {
        BlobDigest digest;
        await using (var writer = await Store.BeginWriteAsync(Ct))
        {
            var expected = await WritePseudoRandomAsync(writer, LargeBlobSize, seed: 7);
            Assert.Equal(LargeBlobSize, writer.Length);
            digest = await writer.CommitAsync(expected, Ct);
        }

        Assert.Equal(LargeBlobSize, await Store.GetLengthAsync(digest, Ct));
        Assert.Equal(digest, await HashStoredAsync(digest));
        Assert.Single(await ListStoredAsync());
    }

    /// <summary>Hashes a stored blob by streaming it, reading it as a caller would (no seeking).</summary>
    private async Task<BlobDigest> HashStoredAsync(BlobDigest digest)
    {
        await using var read = await Store.OpenReadAsync(digest, Ct);
        Assert.NotNull(read);
        return BlobDigest.FromHash(await SHA256.HashDataAsync(read, Ct));
    }

    /// <summary>Writes deterministic pseudo-random bytes in uneven slices, never holding the whole blob.</summary>
    internal static async Task<BlobDigest> WritePseudoRandomAsync(IBlobWriter writer, long size, int seed)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[70_001];
        for (long left = size; left > 0;)
        {
            var n = (int)Math.Min(left, random.Next(1, buffer.Length));
            random.NextBytes(buffer.AsSpan(0, n));
            hash.AppendData(buffer, 0, n);
            await writer.WriteAsync(buffer.AsMemory(0, n), Ct);
            left -= n;
        }
        return BlobDigest.FromHash(hash.GetHashAndReset());
    }

    internal static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }
}
