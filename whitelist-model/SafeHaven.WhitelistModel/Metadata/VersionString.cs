using System.Globalization;
using System.Text.RegularExpressions;

namespace SafeHaven.WhitelistModel.Metadata;

/// <summary>
/// A lenient reading of a version string, good enough for features and for picking the highest of a list:
/// the leading numeric release segment (<c>1.2.3</c>), whether it is a pre-release or development build,
/// and whether it is a valid PEP 440 public version.
/// </summary>
public sealed partial record VersionString(string Text, IReadOnlyList<long> Release, bool IsPreRelease, bool IsPep440)
{
    [GeneratedRegex(@"^v?(?:(\d+)!)?(\d+(?:\.\d+)*)((?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?)((?:[-_.]?(?:post|rev|r)[-_.]?\d*|-\d+)?)((?:[-_.]?dev[-_.]?\d*)?)(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pep440();

    [GeneratedRegex(@"^\D*?(\d+(?:\.\d+)*)", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingNumbers();

    /// <summary>Major version (first release component), or null when the string has no number.</summary>
    public long? Major => Release.Count > 0 ? Release[0] : null;

    public static VersionString Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var pep = Pep440().Match(trimmed);
        var numbers = LeadingNumbers().Match(trimmed);
        var release = numbers.Success
            ? numbers.Groups[1].Value.Split('.').Select(ParseComponent).ToList()
            : [];
        var pre = pep.Success
            ? pep.Groups[3].Length > 0 || pep.Groups[5].Length > 0
            : trimmed.Contains('-', StringComparison.Ordinal) || trimmed.Contains('~', StringComparison.Ordinal);
        return new VersionString(trimmed, release, pre, pep.Success);
    }

    private static long ParseComponent(string s) =>
        long.TryParse(s.Length > 15 ? s[..15] : s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : long.MaxValue;

    /// <summary>Orders by release components, then a final release above its pre-releases, then ordinal text.</summary>
    public static int Compare(VersionString a, VersionString b)
    {
        var n = Math.Max(a.Release.Count, b.Release.Count);
        for (var i = 0; i < n; i++)
        {
            var x = i < a.Release.Count ? a.Release[i] : 0;
            var y = i < b.Release.Count ? b.Release[i] : 0;
            if (x != y)
            {
                return x.CompareTo(y);
            }
        }
        if (a.IsPreRelease != b.IsPreRelease)
        {
            return a.IsPreRelease ? -1 : 1;
        }
        return string.CompareOrdinal(a.Text, b.Text);
    }

    /// <summary>The highest of the given version strings, or null when there are none.</summary>
    public static string? Highest(IEnumerable<string> versions)
    {
        VersionString? best = null;
        foreach (var v in versions)
        {
            if (string.IsNullOrWhiteSpace(v))
            {
                continue;
            }
            var parsed = Parse(v);
            if (best is null || Compare(parsed, best) > 0)
            {
                best = parsed;
            }
        }
        return best?.Text;
    }
}
