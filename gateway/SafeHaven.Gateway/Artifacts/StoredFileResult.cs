using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace SafeHaven.Gateway.Artifacts;

/// <summary>
/// Sends a stored blob file: reads go straight into the response pipe's own memory (one copy fewer than
/// Kestrel's send-file fallback, which reads into a buffer and copies it into the pipe), in 1 MiB steps with
/// back-pressure. Supports a strong ETag with <c>If-None-Match</c>, <c>HEAD</c>, and single-range
/// <c>Range</c>/<c>If-Range</c> requests (several ranges get the whole file, as RFC 9110 allows).
/// </summary>
public sealed class StoredFileResult(string path, long length, string contentType, string etag) : IResult
{
    private const int ChunkSize = 1024 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = contentType;

        if (request.Headers.IfNoneMatch.Count > 0
            && request.Headers.IfNoneMatch.ToString().Split(',').Any(t => t.Trim() is var tag && (tag == etag || tag == "*")))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var (offset, count) = (0L, length);
        if (TryGetRange(request, out var from, out var to))
        {
            if (from >= length)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                return;
            }
            to = Math.Min(to, length - 1);
            (offset, count) = (from, to - from + 1);
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {from}-{to}/{length}");
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }
        response.ContentLength = count;
        if (HttpMethods.IsHead(request.Method) || count == 0)
        {
            return;
        }

        var cancellationToken = httpContext.RequestAborted;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var writer = response.BodyWriter;
        var position = offset;
        var end = offset + count;
        while (position < end)
        {
            var memory = writer.GetMemory((int)Math.Min(ChunkSize, end - position));
            var want = (int)Math.Min(memory.Length, end - position);
            var read = await RandomAccess.ReadAsync(handle, memory[..want], position, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"stored blob {path} is shorter than its recorded length {length}");
            }
            writer.Advance(read);
            position += read;
            var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>A single satisfiable byte range (also <c>-N</c> suffix ranges), honouring <c>If-Range</c> on the ETag.</summary>
    private bool TryGetRange(HttpRequest request, out long from, out long to)
    {
        (from, to) = (0, 0);
        var header = request.Headers.Range.ToString();
        if (header.Length == 0 || !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            return false;
        }
        var ifRange = request.Headers.IfRange.ToString();
        if (ifRange.Length > 0 && ifRange.Trim() != etag)
        {
            return false;
        }
        if (!RangeHeaderValue.TryParse(header, out var range) || !"bytes".Equals(range.Unit.Value, StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1)
        {
            return false;
        }
        var item = range.Ranges.First();
        if (item.From is null)
        {
            if (item.To is not { } suffix || suffix == 0)
            {
                return false;
            }
            from = Math.Max(0, length - suffix);
            to = length - 1;
            return true;
        }
        from = item.From.Value;
        to = item.To ?? long.MaxValue;
        return to >= from;
    }
}
