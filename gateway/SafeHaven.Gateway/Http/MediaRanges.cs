using System.Globalization;

namespace SafeHaven.Gateway.Http;

/// <summary>The media ranges of an <c>Accept</c> header with their q-values (RFC 9110 12.5.1).</summary>
public static class MediaRanges
{
    /// <summary>
    /// Each comma-separated range, lower case without parameters, with its q-value clamped to 0..1 (1 when absent;
    /// 0 when it does not parse, so a malformed weight never promotes a range).
    /// </summary>
    public static IEnumerable<(string MediaRange, double Quality)> Parse(string accept)
    {
        foreach (var range in accept.Split(','))
        {
            var parameters = range.Split(';');
            var q = 1.0;
            foreach (var parameter in parameters.Skip(1))
            {
                var pair = parameter.Split('=', 2);
                if (pair.Length == 2 && pair[0].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)
                    && (!double.TryParse(pair[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out q) || double.IsNaN(q)))
                {
                    q = 0;
                }
            }
            yield return (parameters[0].Trim().ToLowerInvariant(), Math.Clamp(q, 0.0, 1.0));
        }
    }
}
