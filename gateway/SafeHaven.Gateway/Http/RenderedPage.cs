using System.Security.Cryptography;

namespace SafeHaven.Gateway.Http;

/// <summary>
/// A rendered index page (a PyPI project page, a NuGet version list) with its strong ETag, and a gzip variant made
/// on first use (pip and uv send <c>Accept-Encoding: gzip</c>; a 500-version page shrinks about tenfold) with an
/// ETag of its own. Rendered once per view, not per request.
/// </summary>
public sealed class RenderedPage
{
    private readonly Lazy<byte[]> _gzip;

    private RenderedPage(byte[] body, string etag)
    {
        Body = body;
        ETag = etag;
        GzipETag = etag[..^1] + "-gzip\"";
        _gzip = new Lazy<byte[]>(() =>
        {
            using var buffer = new MemoryStream(body.Length / 4 + 64);
            using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gzip.Write(body);
            }
            return buffer.ToArray();
        });
    }

    public byte[] Body { get; }
    public string ETag { get; }
    public string GzipETag { get; }

    /// <summary>The page gzip-compressed; computed once and kept with the page.</summary>
    public byte[] Gzip => _gzip.Value;

    public static RenderedPage Create(byte[] body) =>
        new(body, "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16)) + "\"");
}
