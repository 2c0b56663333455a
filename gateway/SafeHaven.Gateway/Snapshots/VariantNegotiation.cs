using SafeHaven.Core.Snapshots;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// Picks one of several stored variants of a path (e.g. PyPI's JSON and HTML pages) for an <c>Accept</c> header,
/// honouring q-values: each variant takes the q-value of the most specific media range matching it (RFC 9110
/// 12.5.1); the highest q wins, then the more specific match; when only wildcards matched (or there is no header),
/// an HTML variant (the server default of the simple API and of browsers) comes first, then the first in order.
/// </summary>
public static class VariantNegotiation
{
    /// <summary>The chosen variant, or null when the header excludes every one (406).</summary>
    public static SnapshotEntry? Choose(IReadOnlyList<SnapshotEntry> variants, string? accept)
    {
        if (variants.Count == 1)
        {
            return variants[0];
        }
        var ranges = Parse(accept);
        SnapshotEntry? best = null;
        (double Q, int Specificity, bool Html) bestScore = default;
        foreach (var variant in variants)
        {
            var type = BareType(variant.MediaType);
            var score = Score(ranges, type);
            if (score.Q <= 0)
            {
                continue;
            }
            var candidate = (score.Q, score.Specificity, Html: type == "text/html");
            if (best is null
                || candidate.Q > bestScore.Q
                || (candidate.Q == bestScore.Q && candidate.Specificity > bestScore.Specificity)
                || (candidate.Q == bestScore.Q && candidate.Specificity == bestScore.Specificity && candidate.Html && !bestScore.Html))
            {
                best = variant;
                bestScore = candidate;
            }
        }
        return best;
    }

    /// <summary>The media type without parameters, lower case.</summary>
    public static string BareType(string mediaType)
    {
        var semicolon = mediaType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? mediaType : mediaType[..semicolon]).Trim().ToLowerInvariant();
    }

    private static List<(string Type, double Q)> Parse(string? accept)
    {
        var ranges = new List<(string, double)>();
        if (string.IsNullOrWhiteSpace(accept))
        {
            ranges.Add(("*/*", 1.0));
            return ranges;
        }
        foreach (var (type, q) in Http.MediaRanges.Parse(accept))
        {
            if (type.Length > 0)
            {
                ranges.Add((type, q));
            }
        }
        return ranges;
    }

    private static (double Q, int Specificity) Score(List<(string Type, double Q)> ranges, string type)
    {
        var slash = type.IndexOf('/', StringComparison.Ordinal);
        var major = slash < 0 ? type : type[..slash];
        var q = -1.0;
        var specificity = -1;
        foreach (var range in ranges)
        {
            var rangeSpecificity = range.Type == type ? 2 : range.Type == major + "/*" ? 1 : range.Type == "*/*" ? 0 : -1;
            if (rangeSpecificity > specificity || (rangeSpecificity == specificity && rangeSpecificity >= 0 && range.Q > q))
            {
                if (rangeSpecificity < 0)
                {
                    continue;
                }
                specificity = rangeSpecificity;
                q = range.Q;
            }
        }
        return (q, specificity);
    }
}
