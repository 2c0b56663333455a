namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Reads the Debian control-file format ("DCF") shared by CRAN <c>DESCRIPTION</c>/<c>PACKAGES</c> and apt <c>Packages</c>:
/// <c>Field: value</c> lines, continuation lines starting with a space or tab, stanzas separated by blank lines.
/// </summary>
public static class ControlFileParser
{
    /// <summary>Parses every stanza; field names are case-insensitive, continuation lines are joined with newlines.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stanzas = new List<IReadOnlyDictionary<string, string>>();
        var current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? lastField = null;
        foreach (var rawLine in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            if (rawLine.Trim().Length == 0)
            {
                if (current.Count > 0)
                {
                    stanzas.Add(current);
                    current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }
                lastField = null;
                continue;
            }
            if (rawLine[0] is ' ' or '\t')
            {
                if (lastField is not null)
                {
                    var continuation = rawLine.Trim();
                    current[lastField] = current[lastField] + "\n" + (continuation == "." ? string.Empty : continuation);
                }
                continue;
            }
            var colon = rawLine.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            lastField = rawLine[..colon].Trim();
            current[lastField] = rawLine[(colon + 1)..].Trim();
        }
        if (current.Count > 0)
        {
            stanzas.Add(current);
        }
        return stanzas;
    }

    /// <summary>The value of a field, or null when absent or blank.</summary>
    public static string? Get(this IReadOnlyDictionary<string, string> stanza, string field) =>
        stanza.TryGetValue(field, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>
    /// Splits a comma-separated dependency field (<c>Depends</c>, <c>Imports</c>, <c>Pre-Depends</c>) into package names,
    /// dropping version constraints, architecture qualifiers and alternatives after the first.
    /// </summary>
    public static IReadOnlyList<string> DependencyNames(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return [];
        }
        var names = new List<string>();
        foreach (var part in SplitTopLevel(field, ','))
        {
            var first = part.Split('|')[0];
            var end = first.IndexOfAny(['(', '[', ' ', '\n', '\t', ':', '<', '>', '=']);
            var name = (end >= 0 ? first[..end] : first).Trim();
            if (name.Length > 0)
            {
                names.Add(name);
            }
        }
        return names;
    }

    /// <summary>Splits on a separator that is not inside (), [] or &lt;&gt;.</summary>
    public static IEnumerable<string> SplitTopLevel(string text, char separator)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '(' or '[' or '<')
            {
                depth++;
            }
            else if (c is ')' or ']' or '>')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (c == separator && depth == 0)
            {
                var piece = text[start..i].Trim();
                if (piece.Length > 0)
                {
                    yield return piece;
                }
                start = i + 1;
            }
        }
        var last = text[start..].Trim();
        if (last.Length > 0)
        {
            yield return last;
        }
    }
}
