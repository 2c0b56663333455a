using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>Upstream content did not match the hash its index promised; nothing was stored.</summary>
public sealed class UpstreamIntegrityException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Artifacts (and PEP 658 metadata files) of the PyPI mirror: fetched from upstream once, verified against the
/// upstream SHA-256, stored in the content-addressed blob store, then served from there.
/// </summary>
public sealed class PyPIArtifacts
{
    private readonly IBlobStore _blobs;
    private readonly IIndexCacheStore _store;
    private readonly UpstreamHttp _upstream;
    private readonly ILogger<PyPIArtifacts> _logger;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<string, Lazy<Task<BlobDigest>>> _downloads = new(StringComparer.Ordinal);

    public PyPIArtifacts(IBlobStore blobs, IIndexCacheStore store, UpstreamHttp upstream, ILogger<PyPIArtifacts> logger, IHostApplicationLifetime lifetime)
    {
        _blobs = blobs;
        _store = store;
        _upstream = upstream;
        _logger = logger;
        _stopping = lifetime.ApplicationStopping;
    }

    public IBlobStore Blobs => _blobs;

    /// <summary>The digest of a file's stored copy if it is stored, else null.</summary>
    public async Task<BlobDigest?> FindStoredAsync(PyPIFile file, bool metadata, CancellationToken cancellationToken)
    {
        var digest = await ExpectedDigestAsync(file, metadata, cancellationToken).ConfigureAwait(false);
        return digest is { } d && await _blobs.GetLengthAsync(d, cancellationToken).ConfigureAwait(false) is not null ? d : null;
    }

    private async Task<BlobDigest?> ExpectedDigestAsync(PyPIFile file, bool metadata, CancellationToken cancellationToken)
    {
        var hex = metadata ? file.CoreMetadataSha256 : file.Sha256;
        if (BlobDigest.TryParse(hex, out var digest))
        {
            return digest;
        }
        if (!metadata)
        {
            return null;
        }
        // A metadata file upstream advertises without a hash: remember the digest of the copy we stored.
        var remembered = await _store.GetAsync(PyPIMirror.Ecosystem, MetadataKey(file), cancellationToken).ConfigureAwait(false);
        return remembered is not null && BlobDigest.TryParse(Encoding.ASCII.GetString(remembered.Content), out var stored) ? stored : null;
    }

    private static string MetadataKey(PyPIFile file) => "metadata-digest:" + file.Url;

    private static Uri SourceUrl(PyPIFile file, bool metadata) => new(metadata ? file.Url + ".metadata" : file.Url);

    /// <summary>
    /// Makes sure the file is stored, downloading and verifying it if not. Concurrent callers share one download,
    /// which a single client giving up does not cancel.
    /// </summary>
    public async Task<BlobDigest> EnsureStoredAsync(PyPIFile file, bool metadata, CancellationToken cancellationToken)
    {
        if (await FindStoredAsync(file, metadata, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored;
        }
        var url = SourceUrl(file, metadata);
        var download = _downloads.GetOrAdd(url.AbsoluteUri, _ => new Lazy<Task<BlobDigest>>(async () =>
        {
            try
            {
                return await DownloadAsync(file, metadata, url).ConfigureAwait(false);
            }
            finally
            {
                _downloads.TryRemove(url.AbsoluteUri, out Lazy<Task<BlobDigest>>? _);
            }
        }));
        return await download.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<BlobDigest> DownloadAsync(PyPIFile file, bool metadata, Uri url)
    {
        var expected = await ExpectedDigestAsync(file, metadata, _stopping).ConfigureAwait(false);
        using var response = await _upstream.OpenArtifactAsync(url, _stopping).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(_stopping).ConfigureAwait(false);
        try
        {
            var digest = await _blobs.PutAsync(body, expected, _stopping).ConfigureAwait(false);
            if (metadata && file.CoreMetadataSha256 is null)
            {
                await _store.PutAsync(PyPIMirror.Ecosystem, MetadataKey(file),
                    new CachedIndex(Encoding.ASCII.GetBytes(digest.Hex), DateTimeOffset.UtcNow, null), _stopping).ConfigureAwait(false);
            }
            _logger.LogInformation("Stored {File}{Suffix} ({Digest})", file.Filename, metadata ? ".metadata" : "", digest);
            return digest;
        }
        catch (BlobDigestMismatchException e)
        {
            _logger.LogError("Upstream content of {File}{Suffix} does not match its index: expected SHA-256 {Expected}, got {Actual}; nothing stored",
                file.Filename, metadata ? ".metadata" : "", e.Expected, e.Actual);
            throw new UpstreamIntegrityException(
                $"upstream content of {file.Filename}{(metadata ? ".metadata" : "")} does not match the SHA-256 its index gives (expected {e.Expected}, got {e.Actual}); it was not stored or served", e);
        }
    }

    /// <summary>
    /// Serves a file that is not stored yet and is too large to verify before sending: it is streamed to the
    /// client while being stored and hashed, holding back the final block. If the hash does not match, the
    /// connection is aborted before that block, so the client never holds a complete bad file, and nothing is stored.
    /// </summary>
    public async Task StreamWhileStoringAsync(HttpContext context, PyPIFile file, string contentType, CancellationToken cancellationToken)
    {
        var expected = BlobDigest.Parse(file.Sha256!);
        using var response = await _upstream.OpenArtifactAsync(new Uri(file.Url), cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var writer = await _blobs.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        if (response.Content.Headers.ContentLength is { } length)
        {
            context.Response.ContentLength = length;
        }
        context.Response.Headers.ETag = "\"" + expected.Hex + "\"";

        const int BlockSize = 256 * 1024;
        var current = ArrayPool<byte>.Shared.Rent(BlockSize);
        var held = ArrayPool<byte>.Shared.Rent(BlockSize);
        var heldCount = 0;
        try
        {
            while (true)
            {
                var read = await FillAsync(body, current, BlockSize, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                hash.AppendData(current, 0, read);
                await writer.WriteAsync(current.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                if (heldCount > 0)
                {
                    await context.Response.Body.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).ConfigureAwait(false);
                }
                (current, held) = (held, current);
                heldCount = read;
            }
            var actual = BlobDigest.FromHash(hash.GetHashAndReset());
            if (actual != expected)
            {
                _logger.LogError("Upstream content of {File} does not match its index: expected SHA-256 {Expected}, got {Actual}; connection aborted, nothing stored",
                    file.Filename, expected, actual);
                context.Abort();
                return;
            }
            await writer.CommitAsync(expected, cancellationToken).ConfigureAwait(false);
            if (heldCount > 0)
            {
                await context.Response.Body.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).ConfigureAwait(false);
            }
            _logger.LogInformation("Stored {File} ({Digest}) while serving it", file.Filename, actual);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(held);
        }
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total, count - total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }
}
