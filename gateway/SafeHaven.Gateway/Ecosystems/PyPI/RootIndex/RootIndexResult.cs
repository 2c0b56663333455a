using Microsoft.AspNetCore.Http;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// Answers with a rendered root index: its ETag, 304 on a matching <c>If-None-Match</c>, the pre-compressed body
/// when the client accepts gzip, else the plain body; written chunk by chunk from the kept buffers.
/// </summary>
public sealed class RootIndexResult(RenderedRootIndex page, SimpleFormat format, bool gzip) : IResult
{
    private const int SliceBytes = 64 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var headers = response.Headers;
        var etag = gzip ? page.GzipETag : page.ETag;
        headers.Vary = "Accept, Accept-Encoding";
        headers.ETag = etag;
        headers.CacheControl = "max-age=60";
        if (Matches(httpContext.Request.Headers.IfNoneMatch.ToString(), etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        var body = gzip ? page.Gzip : page.Body;
        if (gzip)
        {
            headers.ContentEncoding = "gzip";
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = SimpleContentNegotiation.ContentType(format);
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(httpContext.Request.Method))
        {
            return;
        }
        var cancellationToken = httpContext.RequestAborted;
        foreach (var segment in body.Segments)
        {
            // Megabytes per answer: written in slices, each queued behind the other clients' work, so that one answer
            // whose writes complete at once (loopback, a fast client) does not run to its end while the others wait.
            for (var offset = 0; offset < segment.Length; offset += SliceBytes)
            {
                await response.Body.WriteAsync(segment.Slice(offset, Math.Min(SliceBytes, segment.Length - offset)), cancellationToken).ConfigureAwait(false);
                await Task.Yield();
            }
        }
    }

    /// <summary>Whether an <c>If-None-Match</c> value names <paramref name="etag"/> (or is <c>*</c>).</summary>
    internal static bool Matches(string ifNoneMatch, string etag)
    {
        if (string.IsNullOrEmpty(ifNoneMatch))
        {
            return false;
        }
        foreach (var candidate in ifNoneMatch.Split(','))
        {
            var value = candidate.Trim();
            if (value.StartsWith("W/", StringComparison.Ordinal))
            {
                value = value[2..];
            }
            if (value == etag || value == "*")
            {
                return true;
            }
        }
        return false;
    }
}
