using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// The root index rendered once in one representation (JSON, or HTML for both HTML media types), kept as is and
/// gzip-compressed, each with its strong ETag. Both forms are kept: decompressing a 50 MB page per request for
/// clients without gzip would cost ~100 ms of CPU each, keeping it costs its size once.
/// </summary>
public sealed class RenderedRootIndex
{
    private RenderedRootIndex(ChunkedBuffer body, ChunkedBuffer gzip, string etag, int count, TimeSpan renderTime)
    {
        Body = body;
        Gzip = gzip;
        ETag = etag;
        GzipETag = etag[..^1] + "-gzip\"";
        Count = count;
        RenderTime = renderTime;
    }

    public ChunkedBuffer Body { get; }
    public ChunkedBuffer Gzip { get; }
    public string ETag { get; }
    public string GzipETag { get; }

    /// <summary>How many names the page lists.</summary>
    public int Count { get; }

    /// <summary>How long rendering, hashing and compressing took.</summary>
    public TimeSpan RenderTime { get; }

    public static RenderedRootIndex Render(PyPIRootNames names, SimpleFormat format, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var body = new ChunkedBuffer();
        RootIndexRenderer.Render(names, format, body);
        body.Complete();
        cancellationToken.ThrowIfCancellationRequested();

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var gzip = new ChunkedBuffer(256 * 1024);
        using (var compressor = new GZipStream(gzip, CompressionLevel.Optimal, leaveOpen: true))
        {
            foreach (var segment in body.Segments)
            {
                cancellationToken.ThrowIfCancellationRequested();
                hash.AppendData(segment.Span);
                compressor.Write(segment.Span);
            }
        }
        gzip.Complete();
        var etag = "\"" + Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16)) + "\"";
        return new RenderedRootIndex(body, gzip, etag, names.Count, Stopwatch.GetElapsedTime(started));
    }
}
