namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The representations of the simple API (PEP 691).</summary>
public enum SimpleFormat
{
    Json,
    Html,
    LegacyHtml,
}

/// <summary>PEP 691 content negotiation over the <c>Accept</c> header, honouring q-values.</summary>
public static class SimpleContentNegotiation
{
    public const string JsonV1 = "application/vnd.pypi.simple.v1+json";
    public const string HtmlV1 = "application/vnd.pypi.simple.v1+html";
    public const string TextHtml = "text/html";

    public static string ContentType(SimpleFormat format) => format switch
    {
        SimpleFormat.Json => JsonV1,
        SimpleFormat.Html => HtmlV1,
        _ => TextHtml + "; charset=utf-8",
    };

    /// <summary>
    /// Picks the representation for an <c>Accept</c> header, or null when none is acceptable (406).
    /// No header means the legacy HTML, as PEP 691 requires. Each representation takes the q-value of the most
    /// specific media range that matches it (RFC 9110 12.5.1), so <c>*/*, text/html;q=0</c> excludes text/html.
    /// Ties go to the more specific match, then to JSON, v1 HTML and text/html; when only <c>*/*</c> matched,
    /// the server's default (the legacy HTML every client understands) comes first.
    /// </summary>
    public static SimpleFormat? Negotiate(string? accept)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return SimpleFormat.LegacyHtml;
        }
        // Per format: the q-value of its most specific matching range (-1: no range matched).
        Span<double> quality = [-1, -1, -1];
        Span<int> specificity = [-1, -1, -1];
        foreach (var (mediaType, q) in Http.MediaRanges.Parse(accept))
        {
            foreach (var (format, rangeSpecificity) in Matches(mediaType))
            {
                var i = (int)format;
                if (rangeSpecificity > specificity[i] || (rangeSpecificity == specificity[i] && q > quality[i]))
                {
                    specificity[i] = rangeSpecificity;
                    quality[i] = q;
                }
            }
        }
        SimpleFormat? best = null;
        foreach (var format in (SimpleFormat[])[SimpleFormat.Json, SimpleFormat.Html, SimpleFormat.LegacyHtml])
        {
            var i = (int)format;
            if (quality[i] <= 0)
            {
                continue;
            }
            if (best is not { } current)
            {
                best = format;
                continue;
            }
            var c = (int)current;
            if (quality[i] > quality[c]
                || (quality[i] == quality[c] && specificity[i] > specificity[c])
                || (quality[i] == quality[c] && specificity[i] == specificity[c] && specificity[i] == 0))
            {
                // Later formats in this loop win a wildcard-only tie: the default is the legacy HTML.
                best = format;
            }
        }
        return best;
    }

    private static IEnumerable<(SimpleFormat Format, int Specificity)> Matches(string mediaType)
    {
        switch (mediaType)
        {
            case JsonV1 or "application/vnd.pypi.simple.latest+json":
                yield return (SimpleFormat.Json, 2);
                break;
            case HtmlV1 or "application/vnd.pypi.simple.latest+html":
                yield return (SimpleFormat.Html, 2);
                break;
            case TextHtml:
                yield return (SimpleFormat.LegacyHtml, 2);
                break;
            case "application/*":
                yield return (SimpleFormat.Json, 1);
                yield return (SimpleFormat.Html, 1);
                break;
            case "text/*":
                yield return (SimpleFormat.LegacyHtml, 1);
                break;
            case "*/*":
                yield return (SimpleFormat.Json, 0);
                yield return (SimpleFormat.Html, 0);
                yield return (SimpleFormat.LegacyHtml, 0);
                break;
        }
    }
}
