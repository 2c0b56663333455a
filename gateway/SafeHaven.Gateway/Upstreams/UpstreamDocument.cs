using System.Net;

namespace SafeHaven.Gateway.Upstreams;

/// <summary>
/// A fetched index document. A small body is held in memory; a larger one is spooled to a temporary file on disk
/// (deleted when the document is disposed), so a parser reads it as a stream (<see cref="OpenRead"/>) and memory
/// holds only what it parses out of it, not the page.
/// </summary>
public sealed class UpstreamDocument : IDisposable
{
    private readonly byte[]? _content;
    private readonly FileStream? _spool;

    public UpstreamDocument(HttpStatusCode Status, byte[] Content, string? ContentType, string? ETag, Uri Url)
    {
        this.Status = Status;
        _content = Content;
        this.ContentType = ContentType;
        this.ETag = ETag;
        this.Url = Url;
        Length = Content.Length;
    }

    private UpstreamDocument(HttpStatusCode status, FileStream spool, string? contentType, string? etag, Uri url)
    {
        Status = status;
        _spool = spool;
        ContentType = contentType;
        ETag = etag;
        Url = url;
        Length = spool.Length;
    }

    /// <summary>A document whose body was spooled to <paramref name="spool"/> (opened with <see cref="FileOptions.DeleteOnClose"/>); the document owns it.</summary>
    public static UpstreamDocument Spooled(HttpStatusCode status, FileStream spool, string? contentType, string? etag, Uri url) =>
        new(status, spool, contentType, etag, url);

    public HttpStatusCode Status { get; }
    public string? ContentType { get; }
    public string? ETag { get; }
    public Uri Url { get; }

    /// <summary>The body's length in bytes.</summary>
    public long Length { get; }

    /// <summary>Whether the body is on disk rather than in memory.</summary>
    public bool IsSpooled => _spool is not null;

    /// <summary>A new read-only stream over the whole body, from its start.</summary>
    public Stream OpenRead() => _spool is null
        ? new MemoryStream(_content!, writable: false)
        : new FileStream(_spool.Name, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 64 * 1024,
            Options = FileOptions.SequentialScan,
        });

    /// <summary>
    /// The whole body as one array, for the parsers of small documents (service indexes, catalog leaves, archive
    /// listings). The large pages (PyPI project pages, CRAN <c>PACKAGES</c>, NuGet registration pages) read <see cref="OpenRead"/>.
    /// </summary>
    public byte[] Content
    {
        get
        {
            if (_content is not null)
            {
                return _content;
            }
            using var stream = OpenRead();
            var bytes = new byte[Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
    }

    public void Dispose() => _spool?.Dispose();
}
