using System.Buffers;
using System.Security.Cryptography;
using SafeHaven.Core.IO;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>Streams a member while hashing it, and judges it against the size and SHA-256 bundle.json promises.</summary>
internal static class HashingCopy
{
    private const int Chunk = 1 << 16;

    /// <summary>Reads <paramref name="source"/> to its end, writing each chunk to <paramref name="sink"/>; returns (bytes, sha256 lower hex).</summary>
    public static async Task<(long Length, string Sha256)> CopyAsync(
        Stream source, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? sink, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(Chunk);
        long total = 0;
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, Chunk), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                if (sink is not null)
                {
                    await sink(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                total += read;
                progress?.Report(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Why the content is not the member (wrong size or hash), or null when it is.</summary>
    public static string? Mismatch(BundleMember member, long length, string sha256) =>
        length != member.Size ? $"{member.Path} holds {length} bytes, bundle.json says {member.Size}"
        : sha256 != member.Sha256 ? $"{member.Path} has SHA-256 {sha256}, bundle.json says {member.Sha256}"
        : null;
}

/// <summary>A read-through stream that hashes what passes (what a tar writer reads from a blob).</summary>
internal sealed class HashingReadStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    public IProgress<long>? Progress { get; init; }

    protected override void OnRead(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        BytesRead += data.Length;
        if (data.Length > 0)
        {
            Progress?.Report(data.Length);
        }
    }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
