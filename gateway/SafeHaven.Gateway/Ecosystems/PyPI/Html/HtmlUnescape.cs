using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SafeHaven.Gateway.Ecosystems.PyPI.Html;

/// <summary>
/// A port of CPython's <c>html.unescape</c>, which pip's parser applies to every attribute value: all WHATWG named
/// references, including the legacy ones without a ';' (<c>&amp;amp</c>, and so <c>&amp;copy=</c> in a query
/// string becomes <c>©=</c>, as it does for pip and for browsers), the longest-prefix rule for unknown names,
/// and numeric references with HTML's replacements for invalid code points.
/// <see cref="System.Net.WebUtility.HtmlDecode"/> knows only HTML 4's names and needs the ';', so it reads
/// some upstream attributes differently from pip.
/// </summary>
public static partial class HtmlUnescape
{
    private static readonly Lazy<FrozenDictionary<string, string>> Named = new(LoadNamed);

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", RegexOptions.CultureInvariant)]
    private static partial Regex CharacterReference();

    public static string Unescape(string text) =>
        text.Contains('&', StringComparison.Ordinal) ? CharacterReference().Replace(text, Replace) : text;

    private static string Replace(Match match)
    {
        var reference = match.Groups[1].Value;
        if (reference[0] == '#')
        {
            var hex = reference.Length > 1 && reference[1] is 'x' or 'X';
            var digits = reference[(hex ? 2 : 1)..].TrimEnd(';');
            // Python's int() has no overflow; anything past U+10FFFF is replaced alike.
            var number = int.TryParse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value : int.MaxValue;
            if (HtmlEntityTables.InvalidCharrefs.TryGetValue(number, out var replacement))
            {
                return char.ConvertFromUtf32(replacement);
            }
            if (number is >= 0xD800 and <= 0xDFFF or > 0x10FFFF)
            {
                return "\uFFFD";
            }
            foreach (var (first, last) in HtmlEntityTables.InvalidCodepoints)
            {
                if (number >= first && number <= last)
                {
                    return "";
                }
            }
            return char.ConvertFromUtf32(number);
        }
        var named = Named.Value;
        if (named.TryGetValue(reference, out var exact))
        {
            return exact;
        }
        // The longest name that is a prefix (legacy references end without ';'): "&ampx" is "&" + "x".
        for (var length = reference.Length - 1; length > 1; length--)
        {
            if (named.TryGetValue(reference[..length], out var prefix))
            {
                return prefix + reference[length..];
            }
        }
        return "&" + reference;
    }

    private static FrozenDictionary<string, string> LoadNamed()
    {
        var result = new Dictionary<string, string>(2300, StringComparer.Ordinal);
        foreach (var line in HtmlEntityTables.Named.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            var text = new StringBuilder();
            foreach (var codePoint in line[(tab + 1)..].Split(' '))
            {
                text.Append(char.ConvertFromUtf32(int.Parse(codePoint, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)));
            }
            result[line[..tab]] = text.ToString();
        }
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
