using System.Text.RegularExpressions;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI.Html;

/// <summary>One start tag: its lower-cased name and its attributes in page order (a value is null when the attribute has none).</summary>
public sealed record HtmlStartTag(string Name, IReadOnlyList<KeyValuePair<string, string?>> Attributes);

/// <summary>
/// What pip's <c>HTMLLinkParser</c> keeps from a page: the <c>href</c> of the first <c>&lt;base&gt;</c> that has
/// one, and the attributes of every <c>&lt;a&gt;</c> (as <c>dict(attrs)</c>: a repeated attribute keeps its last value).
/// </summary>
public sealed record PipHtmlLinks(string? BaseHref, IReadOnlyList<IReadOnlyDictionary<string, string?>> Anchors);

/// <summary>
/// Reads an upstream PEP 503 page the way pip reads it. pip (<c>pip/_internal/index/collector.py</c>) feeds the
/// page to Python's <c>html.parser.HTMLParser</c> once, never calls <c>close()</c>, and collects start tags only;
/// this is a port of that parser's tokenizer (CPython 3.11, the Python of Debian 12 and of the newer pip the
/// tests run), for the parts that decide which start tags it reports and with which attributes:
/// <list type="bullet">
/// <item>tag and attribute names lower-cased; quoted values may hold <c>&gt;</c>, <c>&lt;</c> and anything but their quote;</item>
/// <item>unquoted values, attributes without a value (null), repeated <c>=</c>, and <c>/</c> between attributes;</item>
/// <item>every attribute value unescaped with <see cref="HtmlUnescape"/> (named, numeric and legacy references);</item>
/// <item>comments, <c>&lt;!doctype&gt;</c>, bogus comments, processing instructions and marked sections skipped;
/// <c>&lt;script&gt;</c> and <c>&lt;style&gt;</c> content is not markup;</item>
/// <item>a construct left unterminated at the end of the page ends parsing there, as it does for pip.</item>
/// </list>
/// Where Python's parser raises (a malformed <c>&lt;![</c> section), pip could not read the page either, and
/// <see cref="UpstreamFormatException"/> is thrown so the last good copy keeps being served.
/// </summary>
public static partial class PipHtmlParser
{
    private const int TimeoutMilliseconds = 2000;

    // Python's \s on str also matches U+001C..U+001F (str.isspace); .NET's does not, so they are added.
    [GeneratedRegex(@"\G([a-zA-Z][^\t\n\r\f />\x00]*)(?:[\s\x1c-\x1f]|/(?!>))*", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex TagFind();

    [GeneratedRegex(@"\G((?<=['""\s\x1c-\x1f/])[^\s\x1c-\x1f/>][^\s\x1c-\x1f/=>]*)([\s\x1c-\x1f]*=+[\s\x1c-\x1f]*('[^']*'|""[^""]*""|(?!['""])[^>\s\x1c-\x1f]*))?(?:[\s\x1c-\x1f]|/(?!>))*",
        RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex AttributeFind();

    [GeneratedRegex(@"\G<[a-zA-Z][^\t\n\r\f />\x00]*(?:[\s\x1c-\x1f/]*(?:(?<=['""\s\x1c-\x1f/])[^\s\x1c-\x1f/>][^\s\x1c-\x1f/=>]*(?:[\s\x1c-\x1f]*=+[\s\x1c-\x1f]*(?:'[^']*'|""[^""]*""|(?!['""])[^>\s\x1c-\x1f]*)[\s\x1c-\x1f]*)?(?:[\s\x1c-\x1f]|/(?!>))*)*)?[\s\x1c-\x1f]*",
        RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex LocateStartTagEnd();

    [GeneratedRegex(@"\G</[\s\x1c-\x1f]*([a-zA-Z][-.a-zA-Z0-9:_]*)[\s\x1c-\x1f]*>", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex EndTagFind();

    [GeneratedRegex(@"--[\s\x1c-\x1f]*>", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex CommentClose();

    [GeneratedRegex(@"\G[a-zA-Z][-_.a-zA-Z0-9]*[\s\x1c-\x1f]*", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex DeclarationName();

    [GeneratedRegex(@"\][\s\x1c-\x1f]*\][\s\x1c-\x1f]*>", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex MarkedSectionClose();

    [GeneratedRegex(@"\][\s\x1c-\x1f]*>", RegexOptions.CultureInvariant, TimeoutMilliseconds)]
    private static partial Regex MsMarkedSectionClose();

    [GeneratedRegex(@"</[\s\x1c-\x1f]*script[\s\x1c-\x1f]*>", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeoutMilliseconds)]
    private static partial Regex ScriptEnd();

    [GeneratedRegex(@"</[\s\x1c-\x1f]*style[\s\x1c-\x1f]*>", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeoutMilliseconds)]
    private static partial Regex StyleEnd();

    /// <summary>The links pip would see on the page.</summary>
    public static PipHtmlLinks ParseLinks(string html) => Links(StartTags(html));

    private static PipHtmlLinks Links(IReadOnlyList<HtmlStartTag> tags)
    {
        string? baseHref = null;
        var anchors = new List<IReadOnlyDictionary<string, string?>>();
        foreach (var tag in tags)
        {
            if (tag.Name == "base" && baseHref is null)
            {
                // get_href: the first attribute named href; a valueless one counts as none.
                baseHref = tag.Attributes.FirstOrDefault(a => a.Key == "href").Value;
            }
            else if (tag.Name == "a")
            {
                var attributes = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (var (name, value) in tag.Attributes)
                {
                    attributes[name] = value;
                }
                anchors.Add(attributes);
            }
        }
        return new PipHtmlLinks(baseHref, anchors);
    }

    /// <summary>Every start tag Python's <c>HTMLParser.feed</c> reports for the page, in order (self-closing ones included).</summary>
    public static IReadOnlyList<HtmlStartTag> StartTags(string html) => StartTags(new StringReader(html), html.Length + 1);

    /// <summary>
    /// As <see cref="StartTags(string)"/>, reading the page in pieces of <paramref name="chunkChars"/> characters: a
    /// construct cut by a piece's end waits for the next piece (as Python's parser does between <c>feed</c> calls), so
    /// memory holds one piece and the tags found, not the page.
    /// </summary>
    public static IReadOnlyList<HtmlStartTag> StartTags(TextReader html, int chunkChars = 64 * 1024)
    {
        try
        {
            var tokenizer = new Tokenizer();
            var buffer = new char[Math.Max(1, chunkChars)];
            int read;
            while ((read = html.Read(buffer, 0, buffer.Length)) > 0 && !tokenizer.Stopped)
            {
                tokenizer.Feed(new string(buffer, 0, read));
            }
            return tokenizer.Tags;
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new UpstreamFormatException("upstream HTML page is too convoluted to parse", e);
        }
    }

    /// <summary>The links pip would see on a page read from <paramref name="html"/> in pieces.</summary>
    public static PipHtmlLinks ParseLinks(TextReader html, int chunkChars = 64 * 1024) => Links(StartTags(html, chunkChars));

    internal static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    private sealed class Tokenizer
    {
        /// <summary>
        /// Longest construct (a comment, a tag, a declaration) waited for across pieces. One still open past this is
        /// treated as unterminated, as at the end of the page: nothing after it is parsed (fail closed: fewer links).
        /// </summary>
        private const int MaximumPendingChars = 1024 * 1024;

        private readonly List<HtmlStartTag> _tags = [];
        private Regex? _cdataEnd;
        private string? _cdataElement;
        private string raw = "";

        public List<HtmlStartTag> Tags => _tags;

        /// <summary>Set when an unterminated construct outgrew <see cref="MaximumPendingChars"/>: the rest is not parsed.</summary>
        public bool Stopped { get; private set; }

        /// <summary>Parses what it can of the text so far plus <paramref name="chunk"/>; keeps an unfinished construct for the next piece.</summary>
        public void Feed(string chunk)
        {
            raw = raw.Length == 0 ? chunk : raw + chunk;
            var consumed = Run();
            raw = consumed >= raw.Length ? "" : raw[consumed..];
            if (raw.Length > MaximumPendingChars)
            {
                Stopped = true;
                raw = "";
            }
        }

        /// <summary>Parses from the start of <c>raw</c>; returns how much of it is done with (the rest waits for more text).</summary>
        private int Run()
        {
            var n = raw.Length;
            var i = 0;
            while (i < n)
            {
                // convert_charrefs=True: outside script/style, text runs to the next '<'; character references in
                // text never reach the tokenizer's own '&' handling.
                int j;
                if (_cdataEnd is null)
                {
                    j = raw.IndexOf('<', i);
                    if (j < 0)
                    {
                        return n; // text only: nothing of it is needed
                    }
                }
                else
                {
                    var match = _cdataEnd.Match(raw, i);
                    if (!match.Success)
                    {
                        // Script or style content: only a '<' near the end may start the closing tag.
                        var last = raw.LastIndexOf('<');
                        return last >= i ? last : n;
                    }
                    j = match.Index;
                }
                i = j;
                int k;
                if (i + 1 < n && char.IsAsciiLetter(raw[i + 1]))
                {
                    k = ParseStartTag(i);
                }
                else if (StartsWith(i, "</"))
                {
                    k = ParseEndTag(i);
                }
                else if (StartsWith(i, "<!--"))
                {
                    k = ParseComment(i);
                }
                else if (StartsWith(i, "<?"))
                {
                    k = Find('>', i + 2);
                }
                else if (StartsWith(i, "<!"))
                {
                    k = ParseHtmlDeclaration(i);
                }
                else if (i + 1 < n)
                {
                    k = i + 1; // a lone '<' is text
                }
                else
                {
                    return i; // a '<' ending the text so far
                }
                if (k < 0)
                {
                    // Unterminated so far: wait for more text. At the end of the page it stays so, and as pip never
                    // calls close(), the rest of the page is never parsed.
                    return i;
                }
                i = k;
            }
            return i;
        }

        private bool StartsWith(int i, string value) => string.CompareOrdinal(raw, i, value, 0, value.Length) == 0 && i + value.Length <= raw.Length;

        /// <summary>The index after the next <paramref name="c"/> from <paramref name="from"/>, or -1.</summary>
        private int Find(char c, int from)
        {
            var at = from <= raw.Length ? raw.IndexOf(c, from) : -1;
            return at < 0 ? -1 : at + 1;
        }

        private int ParseStartTag(int i)
        {
            var endpos = CheckForWholeStartTag(i);
            if (endpos < 0)
            {
                return endpos;
            }
            var tagMatch = TagFind().Match(raw, i + 1);
            var k = tagMatch.Index + tagMatch.Length;
            var tag = tagMatch.Groups[1].Value.ToLowerInvariant();
            var attributes = new List<KeyValuePair<string, string?>>();
            while (k < endpos)
            {
                var m = AttributeFind().Match(raw, k);
                if (!m.Success)
                {
                    break;
                }
                string? value = null;
                if (m.Groups[2].Success && m.Groups[2].Length > 0)
                {
                    value = m.Groups[3].Value;
                    if (value.Length >= 2 && ((value[0] == '\'' && value[^1] == '\'') || (value[0] == '"' && value[^1] == '"')))
                    {
                        value = value[1..^1];
                    }
                    if (value.Length > 0)
                    {
                        value = HtmlUnescape.Unescape(value);
                    }
                }
                attributes.Add(new(m.Groups[1].Value.ToLowerInvariant(), value));
                k = m.Index + m.Length;
            }
            var end = k < endpos ? raw[k..endpos].Trim() : "";
            end = TrimPython(end);
            if (end is not (">" or "/>"))
            {
                return endpos; // not a tag after all: text
            }
            _tags.Add(new HtmlStartTag(tag, attributes));
            if (!end.EndsWith("/>", StringComparison.Ordinal) && tag is "script" or "style")
            {
                _cdataElement = tag;
                _cdataEnd = tag == "script" ? ScriptEnd() : StyleEnd();
            }
            return endpos;
        }

        private static string TrimPython(string text)
        {
            var start = 0;
            var end = text.Length;
            while (start < end && IsPythonSpace(text[start]))
            {
                start++;
            }
            while (end > start && IsPythonSpace(text[end - 1]))
            {
                end--;
            }
            return text[start..end];
        }

        private int CheckForWholeStartTag(int i)
        {
            var m = LocateStartTagEnd().Match(raw, i);
            var j = m.Index + m.Length;
            if (j >= raw.Length)
            {
                return -1; // end of input
            }
            var next = raw[j];
            if (next == '>')
            {
                return j + 1;
            }
            if (next == '/')
            {
                if (StartsWith(j, "/>"))
                {
                    return j + 2;
                }
                return -1; // Python: rawdata.startswith("/", j) is always true here, "buffer boundary"
            }
            if (char.IsAsciiLetter(next) || next is '=' or '/')
            {
                return -1; // end of input in or before an attribute value
            }
            return j > i ? j : i + 1;
        }

        private int ParseEndTag(int i)
        {
            var gtpos = Find('>', i + 1);
            if (gtpos < 0)
            {
                return -1;
            }
            var match = EndTagFind().Match(raw, i);
            if (!match.Success)
            {
                if (_cdataElement is not null)
                {
                    return gtpos;
                }
                var name = TagFind().Match(raw, i + 2);
                if (!name.Success)
                {
                    return StartsWith(i, "</>") ? i + 3 : Find('>', i + 2);
                }
                return raw.IndexOf('>', name.Index + name.Length) + 1;
            }
            var element = match.Groups[1].Value.ToLowerInvariant();
            if (_cdataElement is not null && element != _cdataElement)
            {
                return gtpos;
            }
            _cdataElement = null;
            _cdataEnd = null;
            return gtpos;
        }

        private int ParseComment(int i)
        {
            var match = CommentClose().Match(raw, i + 4);
            return match.Success ? match.Index + match.Length : -1;
        }

        private int ParseHtmlDeclaration(int i)
        {
            if (StartsWith(i, "<!--"))
            {
                return ParseComment(i);
            }
            if (StartsWith(i, "<!["))
            {
                return ParseMarkedSection(i);
            }
            if (i + 9 <= raw.Length && raw.AsSpan(i, 9).Equals("<!doctype", StringComparison.OrdinalIgnoreCase))
            {
                return Find('>', i + 9);
            }
            return Find('>', i + 2); // bogus comment
        }

        private int ParseMarkedSection(int i)
        {
            var start = i + 3;
            if (start == raw.Length)
            {
                return -1;
            }
            var name = DeclarationName().Match(raw, start);
            if (!name.Success)
            {
                throw new UpstreamFormatException($"upstream HTML has a malformed marked section at offset {i}, which pip cannot parse either");
            }
            if (name.Index + name.Length == raw.Length)
            {
                return -1;
            }
            var section = name.Value.Trim().ToLowerInvariant();
            Match close;
            if (section is "temp" or "cdata" or "ignore" or "include" or "rcdata")
            {
                close = MarkedSectionClose().Match(raw, start);
            }
            else if (section is "if" or "else" or "endif")
            {
                close = MsMarkedSectionClose().Match(raw, start);
            }
            else
            {
                throw new UpstreamFormatException($"upstream HTML has an unknown marked section '{section}', which pip cannot parse either");
            }
            return close.Success ? close.Index + close.Length : -1;
        }
    }
}
