using Microsoft.AspNetCore.Http;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// One HTTP byte range (RFC 9110 14): <c>bytes=a-b</c>, <c>bytes=a-</c> or <c>bytes=-n</c>, honoured unless an
/// <c>If-Range</c> names another validator. Several ranges are answered with the whole content (allowed by the RFC).
/// </summary>
public static class ByteRange
{
    public abstract record Result
    {
        public sealed record Whole : Result;
        public sealed record Unsatisfiable : Result;
        public sealed record Satisfiable(long From, long To) : Result;
    }

    private static readonly Result WholeContent = new Result.Whole();

    public static Result Parse(HttpContext context, string etag, long size)
    {
        var header = context.Request.Headers.Range.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(','))
        {
            return WholeContent;
        }
        var ifRange = context.Request.Headers.IfRange.ToString();
        if (ifRange.Length > 0 && ifRange.Trim() != etag)
        {
            return WholeContent;
        }
        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return WholeContent;
        }
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, System.Globalization.NumberStyles.None, null, out var suffix))
            {
                return WholeContent;
            }
            return suffix == 0 || size == 0 ? new Result.Unsatisfiable() : new Result.Satisfiable(Math.Max(0, size - suffix), size - 1);
        }
        if (!long.TryParse(first, System.Globalization.NumberStyles.None, null, out var from))
        {
            return WholeContent;
        }
        var to = size - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, System.Globalization.NumberStyles.None, null, out to) || to < from)
            {
                return WholeContent;
            }
            to = Math.Min(to, size - 1);
        }
        return from >= size ? new Result.Unsatisfiable() : new Result.Satisfiable(from, to);
    }
}
