using System.Text.RegularExpressions;

namespace SafeHaven.Core.Packages;

/// <summary>A PEP 508 dependency specification, e.g. <c>requests[socks] (&gt;=2.8) ; python_version &gt;= "3.8"</c>.</summary>
public sealed partial record Pep508Requirement(
    string Name,
    IReadOnlyList<string> Extras,
    Pep440SpecifierSet Specifiers,
    string? Url,
    MarkerExpression? Marker)
{
    [GeneratedRegex(@"^\s*(?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?<extras>[^\]]*)\])?\s*", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Head();

    public string NormalizedName => PackageName.NormalizePyPI(Name);

    public static Pep508Requirement Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var markerStart = FindMarkerSeparator(text);
        var body = markerStart < 0 ? text : text[..markerStart];
        var markerText = markerStart < 0 ? null : text[(markerStart + 1)..];

        var head = Head().Match(body);
        if (!head.Success)
        {
            throw new FormatException($"'{text}' is not a PEP 508 requirement: no project name.");
        }
        string[] extras = [];
        if (head.Groups["extras"].Success && !string.IsNullOrWhiteSpace(head.Groups["extras"].Value))
        {
            var names = head.Groups["extras"].Value.Split(',', StringSplitOptions.TrimEntries);
            if (!names.All(PackageName.IsValidPyPI))
            {
                throw new FormatException($"'{text}' is not a PEP 508 requirement: invalid extras.");
            }
            extras = names.Select(PackageName.NormalizePyPI).ToArray();
        }
        var rest = body[head.Length..].Trim();
        string? url = null;
        var specifiers = Pep440SpecifierSet.Any;
        if (rest.StartsWith('@'))
        {
            url = rest[1..].Trim();
            if (url.Length == 0)
            {
                throw new FormatException($"'{text}' is not a PEP 508 requirement: empty URL.");
            }
        }
        else if (rest.Length > 0)
        {
            if (rest.StartsWith('(') && rest.EndsWith(')'))
            {
                rest = rest[1..^1];
            }
            specifiers = Pep440SpecifierSet.Parse(rest);
        }
        if (markerText is not null && string.IsNullOrWhiteSpace(markerText))
        {
            throw new FormatException($"'{text}' is not a PEP 508 requirement: empty marker after ';'.");
        }
        var marker = markerText is null ? null : MarkerExpression.Parse(markerText);
        return new Pep508Requirement(head.Groups["name"].Value, extras, specifiers, url, marker);
    }

    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Pep508Requirement? requirement)
    {
        try
        {
            requirement = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            requirement = null;
            return false;
        }
    }

    // The ';' that starts the markers, outside a URL (a URL requirement needs whitespace before ';').
    private static int FindMarkerSeparator(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != ';')
            {
                continue;
            }
            if (at >= 0 && i > at && (i == 0 || !char.IsWhiteSpace(text[i - 1])))
            {
                continue;
            }
            return i;
        }
        return -1;
    }

    public override string ToString()
    {
        var text = Name;
        if (Extras.Count > 0)
        {
            text += "[" + string.Join(',', Extras) + "]";
        }
        if (Url is not null)
        {
            text += " @ " + Url;
        }
        else if (Specifiers.Specifiers.Count > 0)
        {
            text += Specifiers.ToString();
        }
        // After a URL the ';' needs whitespace before it, or it would be read as part of the URL.
        return Marker is null ? text : text + (Url is null ? "; " : " ; ") + Marker;
    }
}
