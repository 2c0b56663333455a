using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace SafeHaven.Gateway.Ecosystems.Apt.Debian;

/// <summary>Bounds on what one field and one paragraph may take, in UTF-8 bytes (line ends included).</summary>
public sealed record Deb822Limits(int MaximumFieldBytes = 1 << 20, int MaximumParagraphBytes = 4 << 20)
{
    public static readonly Deb822Limits Default = new();
}

/// <summary>
/// Reads Debian control data (Debian policy 5.1: <c>Packages</c>, <c>Release</c>, <c>Sources</c>) paragraph by
/// paragraph, holding one paragraph at a time. Rules, each broken one an <see cref="InvalidDataException"/> naming
/// the line:
/// <list type="bullet">
/// <item>Paragraphs are separated by blank lines (empty, or only spaces and tabs, which policy lets parsers accept);
/// blank lines before the first and after the last paragraph are ignored.</item>
/// <item>A field is <c>Name: value</c>; its name is printable US-ASCII without space or colon and does not start with
/// <c>#</c> or <c>-</c>; a name appears at most once per paragraph (compared case-insensitively).</item>
/// <item>A continuation line starts with a space or a tab; one before any field is an error.</item>
/// <item>Comment lines (<c>#</c> in column 0) are not allowed: policy permits them only in a source package's
/// <c>debian/control</c>, never in the files an archive publishes.</item>
/// <item>Lines end with LF; a CR right before the LF is dropped (CRLF files read like LF files); the last line may
/// lack its LF. The text must be UTF-8.</item>
/// <item>No field may exceed <see cref="Deb822Limits.MaximumFieldBytes"/> nor a paragraph
/// <see cref="Deb822Limits.MaximumParagraphBytes"/>, so a hostile file cannot exhaust memory.</item>
/// </list>
/// </summary>
public static class Deb822Reader
{
    private const int ChunkBytes = 64 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async IAsyncEnumerable<Deb822Paragraph> ReadAsync(
        Stream utf8, Deb822Limits limits, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(limits);
        var parser = new Parser(limits);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var line = new ArrayBufferWriter<byte>(256);
        // A line is at most one field: stop accumulating well before a hostile line without LF exhausts memory.
        var lineLimit = (long)limits.MaximumFieldBytes + 2;
        try
        {
            while (true)
            {
                var read = await utf8.ReadAsync(buffer.AsMemory(0, ChunkBytes), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                var chunk = buffer.AsMemory(0, read);
                while (chunk.Length > 0)
                {
                    var newline = chunk.Span.IndexOf((byte)'\n');
                    var piece = newline < 0 ? chunk : chunk[..newline];
                    if (line.WrittenCount + piece.Length > lineLimit)
                    {
                        throw new InvalidDataException($"line {parser.LineNumber + 1}: a line longer than the {limits.MaximumFieldBytes}-byte field limit");
                    }
                    if (newline < 0)
                    {
                        line.Write(piece.Span);
                        break;
                    }
                    chunk = chunk[(newline + 1)..];
                    Deb822Paragraph? paragraph;
                    if (line.WrittenCount == 0)
                    {
                        paragraph = parser.Feed(piece.Span, piece.Length + 1);
                    }
                    else
                    {
                        line.Write(piece.Span);
                        paragraph = parser.Feed(line.WrittenSpan, line.WrittenCount + 1);
                        line.ResetWrittenCount();
                    }
                    if (paragraph is not null)
                    {
                        yield return paragraph;
                    }
                }
            }
            if (line.WrittenCount > 0)
            {
                var paragraph = parser.Feed(line.WrittenSpan, line.WrittenCount);
                if (paragraph is not null)
                {
                    yield return paragraph;
                }
            }
            if (parser.Finish() is { } last)
            {
                yield return last;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads every paragraph of a text already in memory (a <c>Release</c> file), by the same rules.</summary>
    public static IReadOnlyList<Deb822Paragraph> Parse(string text, Deb822Limits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(limits ?? Deb822Limits.Default);
        var paragraphs = new List<Deb822Paragraph>();
        var start = 0;
        while (start < text.Length)
        {
            var newline = text.IndexOf('\n', start);
            var end = newline < 0 ? text.Length : newline;
            var raw = text[start..end];
            var bytes = Encoding.UTF8.GetByteCount(raw) + (newline < 0 ? 0 : 1);
            if (parser.Feed(raw.EndsWith('\r') ? raw.AsSpan(0, raw.Length - 1) : raw.AsSpan(), bytes) is { } paragraph)
            {
                paragraphs.Add(paragraph);
            }
            start = end + 1;
        }
        if (parser.Finish() is { } last)
        {
            paragraphs.Add(last);
        }
        return paragraphs;
    }

    /// <summary>The line-by-line state machine both entry points share.</summary>
    private sealed class Parser(Deb822Limits limits)
    {
        private readonly List<KeyValuePair<string, string>> _fields = [];
        private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
        // Field names repeat in every paragraph: one string per distinct spelling.
        private readonly HashSet<string> _spellings = new(StringComparer.Ordinal);
        private char[] _chars = new char[1024];
        private readonly StringBuilder _value = new();
        private string? _name;
        private long _fieldBytes;
        private long _paragraphBytes;

        public long LineNumber { get; private set; }

        private InvalidDataException TooLong(long lineNumber) =>
            new($"line {lineNumber}: the field '{_name}' is longer than the {limits.MaximumFieldBytes}-byte limit");

        /// <summary>Takes one line of UTF-8 (without its LF; a CR before it is dropped) and the bytes it took.</summary>
        public Deb822Paragraph? Feed(ReadOnlySpan<byte> utf8, long bytes)
        {
            if (utf8.Length > 0 && utf8[^1] == (byte)'\r')
            {
                utf8 = utf8[..^1];
            }
            if (_chars.Length < utf8.Length)
            {
                _chars = new char[Math.Max(utf8.Length, _chars.Length * 2)];
            }
            int count;
            try
            {
                count = StrictUtf8.GetChars(utf8, _chars);
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"line {LineNumber + 1}: not valid UTF-8", e);
            }
            return Feed(_chars.AsSpan(0, count), bytes);
        }

        /// <summary>Takes one line (without its line end) and the bytes it took; returns a paragraph the line ended.</summary>
        public Deb822Paragraph? Feed(ReadOnlySpan<char> line, long bytes)
        {
            LineNumber++;
            if (IsBlank(line))
            {
                return Finish();
            }
            _paragraphBytes += bytes;
            if (_paragraphBytes > limits.MaximumParagraphBytes)
            {
                throw new InvalidDataException($"line {LineNumber}: the paragraph is longer than the {limits.MaximumParagraphBytes}-byte limit");
            }
            if (line[0] is ' ' or '\t')
            {
                if (_name is null)
                {
                    throw new InvalidDataException($"line {LineNumber}: a continuation line (starting with white space) outside any field");
                }
                _fieldBytes += bytes;
                if (_fieldBytes > limits.MaximumFieldBytes)
                {
                    throw TooLong(LineNumber);
                }
                _value.Append('\n').Append(line);
                return null;
            }
            EndField();
            if (line[0] == '#')
            {
                throw new InvalidDataException(
                    $"line {LineNumber}: a comment line; Debian policy 5.1 allows comments only in a source package's debian/control, not in archive files");
            }
            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                throw new InvalidDataException($"line {LineNumber}: expected 'Field: value' or a continuation line, found '{Excerpt(line.ToString())}'");
            }
            var nameSpan = line[..colon];
            if (!_spellings.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(nameSpan, out var name))
            {
                name = nameSpan.ToString();
                if (Deb822Paragraph.InvalidName(name) is { } error)
                {
                    throw new InvalidDataException($"line {LineNumber}: '{Excerpt(name)}' is not a field name: {error}");
                }
                if (_spellings.Count < 1024)
                {
                    _spellings.Add(name);
                }
            }
            if (!_names.Add(name))
            {
                throw new InvalidDataException($"line {LineNumber}: the field '{name}' appears twice in one paragraph");
            }
            _name = name;
            _fieldBytes = bytes;
            if (_fieldBytes > limits.MaximumFieldBytes)
            {
                throw TooLong(LineNumber);
            }
            _value.Append(line[(colon + 1)..].Trim(" \t"));
            return null;
        }

        /// <summary>Ends the paragraph in progress, if any.</summary>
        public Deb822Paragraph? Finish()
        {
            EndField();
            if (_fields.Count == 0)
            {
                return null;
            }
            var paragraph = new Deb822Paragraph([.. _fields], trusted: true);
            _fields.Clear();
            _names.Clear();
            _paragraphBytes = 0;
            return paragraph;
        }

        private void EndField()
        {
            if (_name is not null)
            {
                _fields.Add(new(_name, _value.ToString()));
                _name = null;
                _value.Clear();
                _fieldBytes = 0;
            }
        }

        private static bool IsBlank(ReadOnlySpan<char> line) => line.IndexOfAnyExcept(' ', '\t') < 0;

        private static string Excerpt(string text) => text.Length <= 60 ? text : text[..60] + "…";
    }
}
