using System.Net;
using System.Net.Http.Headers;

namespace SafeHaven.Gateway.Upstreams;

/// <summary>Upstream could not be reached or answered with an error; the type says the fetch may be retried later.</summary>
public sealed class UpstreamUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one path to an upstream registry: a fixed set of allowed origins (the configured upstream and any file
/// origins), bounded index sizes, timeouts, and streaming artifact downloads. An index cannot make the appliance
/// fetch from anywhere else.
/// </summary>
public sealed class UpstreamHttp
{
    /// <summary>Largest index document accepted by default (the PyPI root index is ~30 MB).</summary>
    public const long DefaultMaximumIndexBytes = 256L * 1024 * 1024;

    /// <summary>Largest index document accepted (<c>SafeHaven:Mirrors:&lt;ecosystem&gt;:MaximumIndexBytes</c>); a larger one is refused with the reason and the last good copy stays in use.</summary>
    public long MaximumIndexBytes { get; }

    private readonly HttpClient _indexClient;
    private readonly HttpClient _artifactClient;
    private readonly HashSet<string> _allowedOrigins;
    private readonly TimeSpan _timeout;
    private readonly UpstreamCredentials? _credentials;
    private readonly string _upstreamOrigin;
    private readonly UpstreamTransferLimits _limits;

    /// <param name="credentials">
    /// Sent only to the upstream's own origin: a redirect to a file host (a CDN, a pre-signed object-store URL)
    /// never carries them.
    /// </param>
    /// <summary>Index bodies up to this size are read into memory; larger ones are spooled to a temporary file and parsed as streams.</summary>
    public const int SpoolThresholdBytes = 1024 * 1024;

    private readonly string? _temporaryDirectory;

    /// <param name="temporaryDirectory">Where large index bodies are spooled: a disk directory (the data directory's), null for the system's.</param>
    public UpstreamHttp(Uri baseUrl, IEnumerable<string> fileOrigins, TimeSpan timeout, HttpClient indexClient, HttpClient artifactClient,
        UpstreamCredentials? credentials = null, UpstreamTransferLimits? limits = null, long maximumIndexBytes = DefaultMaximumIndexBytes,
        string? temporaryDirectory = null)
    {
        _temporaryDirectory = temporaryDirectory;
        MaximumIndexBytes = maximumIndexBytes;
        _limits = limits ?? UpstreamTransferLimits.Default;
        BaseUrl = baseUrl;
        _credentials = credentials;
        _upstreamOrigin = Origin(baseUrl);
        _indexClient = indexClient;
        _artifactClient = artifactClient;
        _timeout = timeout;
        _allowedOrigins = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Origin(baseUrl) };
        foreach (var origin in fileOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
            {
                throw new ArgumentException($"File origin '{origin}' is not an absolute URL.");
            }
            _allowedOrigins.Add(Origin(uri));
        }
    }

    public Uri BaseUrl { get; }

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    public bool IsAllowed(Uri url) =>
        (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && _allowedOrigins.Contains(Origin(url));

    private Uri Check(Uri url) => IsAllowed(url)
        ? url
        : throw new UpstreamUnavailableException($"refusing to fetch {url.GetLeftPart(UriPartial.Authority)}: not a configured upstream origin");

    /// <summary>Fetches an index document; 404 and 304 are answers, other failures throw.</summary>
    public async Task<UpstreamDocument> GetDocumentAsync(Uri url, string accept, string? etag, CancellationToken cancellationToken)
    {
        Check(url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var response = await SendCheckedAsync(_indexClient, url, request =>
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
                if (etag is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                }
            }, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.NotModified)
            {
                return new UpstreamDocument(response.StatusCode, [], null, etag, url);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamUnavailableException($"upstream answered {(int)response.StatusCode} {response.ReasonPhrase} for {url}");
            }
            if (response.Content.Headers.ContentLength > MaximumIndexBytes)
            {
                throw new UpstreamUnavailableException($"upstream index {url} is {response.Content.Headers.ContentLength} bytes, over the limit of {MaximumIndexBytes} bytes (MaximumIndexBytes); refused");
            }
            var finalUrl = response.RequestMessage?.RequestUri ?? url;
            var contentType = response.Content.Headers.ContentType?.ToString();
            if (response.Content.Headers.ContentLength is { } small && small <= SpoolThresholdBytes)
            {
                var content = await ReadBoundedAsync(response.Content, MaximumIndexBytes, timeout.Token).ConfigureAwait(false);
                return new UpstreamDocument(response.StatusCode, content, contentType, response.Headers.ETag?.ToString(), finalUrl);
            }
            var spool = await SpoolBoundedAsync(response.Content, MaximumIndexBytes, timeout.Token).ConfigureAwait(false);
            return UpstreamDocument.Spooled(response.StatusCode, spool, contentType, response.Headers.ETag?.ToString(), finalUrl);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamUnavailableException($"upstream did not answer within {_timeout.TotalSeconds:0} s for {url}", e);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamUnavailableException($"upstream unreachable for {url}: {e.Message}", e);
        }
    }

    /// <summary>Sends a GET, following up to five redirects itself so that every hop is checked against the allowed origins.</summary>
    private async Task<HttpResponseMessage> SendCheckedAsync(HttpClient client, Uri url, Action<HttpRequestMessage> prepare, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            Check(url);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            prepare(request);
            if (_credentials is not null && string.Equals(Origin(url), _upstreamOrigin, StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Authorization = _credentials.Header();
            }
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location)
            {
                return response;
            }
            response.Dispose();
            if (hop >= 5)
            {
                throw new UpstreamUnavailableException($"upstream redirected more than five times from {url}");
            }
            url = location.IsAbsoluteUri ? location : new Uri(url, location);
        }
    }

    /// <summary>
    /// Copies a body to a temporary file (deleted when closed), refusing it past <paramref name="limit"/> or when it
    /// ends before its Content-Length. Memory holds one buffer, whatever the page's size.
    /// </summary>
    private async Task<FileStream> SpoolBoundedAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateDirectory(_temporaryDirectory ?? Path.GetTempPath()).FullName;
        var spool = new FileStream(Path.Combine(directory, "safehaven-index-" + Guid.NewGuid().ToString("N")), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        });
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var chunk = new byte[81920];
            long total = 0;
            int read;
            try
            {
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > limit)
                    {
                        throw new UpstreamUnavailableException($"upstream index is larger than the limit of {limit} bytes (MaximumIndexBytes); refused");
                    }
                    await spool.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (IOException e) when (!SafeHaven.Core.Storage.StorageFull.Is(e))
            {
                throw new UpstreamUnavailableException($"upstream index ended early or broke after {total} bytes: {e.Message}", e);
            }
            if (content.Headers.ContentLength is { } length && length != total)
            {
                throw new UpstreamUnavailableException($"upstream index ended before its Content-Length of {length} bytes ({total} received)");
            }
            await spool.FlushAsync(cancellationToken).ConfigureAwait(false);
            return spool;
        }
        catch
        {
            await spool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (content.Headers.ContentLength is { } length && length <= limit)
        {
            // One exact-size array: a growing buffer plus its final copy would hold a large index (the ~30 MB PyPI root) twice.
            var exact = new byte[length];
            try
            {
                await stream.ReadExactlyAsync(exact, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new UpstreamUnavailableException($"upstream index ended before its Content-Length of {length} bytes: {e.Message}", e);
            }
            return exact;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new UpstreamUnavailableException($"upstream index is larger than the limit of {limit} bytes (MaximumIndexBytes); refused");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The body of an artifact response, bounded by the minimum transfer rate and the whole-body deadline: a slow,
    /// stalled or short body fails with <see cref="UpstreamUnavailableException"/> and the reason.
    /// </summary>
    public async Task<Stream> OpenArtifactBodyAsync(HttpResponseMessage response, Uri url, CancellationToken cancellationToken) =>
        new TransferGuardStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), url, _limits);

    /// <summary>Starts an artifact download; the caller owns the response and streams its body.</summary>
    public async Task<HttpResponseMessage> OpenArtifactAsync(Uri url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            response = await SendCheckedAsync(_artifactClient, url,
                request => request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity")), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamUnavailableException($"upstream did not answer within {_timeout.TotalSeconds:0} s for {url}", e);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamUnavailableException($"upstream unreachable for {url}: {e.Message}", e);
        }
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw new UpstreamUnavailableException($"upstream answered {status} for {url}");
        }
        return response;
    }
}
