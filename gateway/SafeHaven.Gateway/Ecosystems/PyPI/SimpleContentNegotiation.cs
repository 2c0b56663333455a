using System.Globalization;

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
    /// No header means the legacy HTML, as PEP 691 requires. Ties go to JSON, then v1 HTML, then text/html.
    /// </summary>
    public static SimpleFormat? Negotiate(string? accept)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return SimpleFormat.LegacyHtml;
        }
        var best = (Format: (SimpleFormat?)null, Quality: 0.0, Specificity: -1, Rank: int.MaxValue);
        foreach (var range in accept.Split(','))
        {
            var parameters = range.Split(';');
            var mediaType = parameters[0].Trim().ToLowerInvariant();
            var quality = 1.0;
            foreach (var parameter in parameters.Skip(1))
            {
                var pair = parameter.Split('=', 2);
                if (pair.Length == 2 && pair[0].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(pair[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out quality))
                {
                    quality = 0;
                }
            }
            if (quality <= 0 || double.IsNaN(quality))
            {
                continue;
            }
            quality = Math.Min(quality, 1.0);
            foreach (var (format, specificity) in Matches(mediaType))
            {
                var rank = (int)format;
                if (quality > best.Quality
                    || (quality == best.Quality && (specificity > best.Specificity || (specificity == best.Specificity && rank < best.Rank))))
                {
                    best = (format, quality, specificity, rank);
                }
            }
        }
        return best.Format;
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
                // Anything goes: the server's default, the legacy HTML every client understands.
                yield return (SimpleFormat.LegacyHtml, 0);
                break;
        }
    }
}
