using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// The project names of a root index, kept compactly: one UTF-8 buffer with each name followed by <c>\n</c>.
/// PyPI's 886k names take ~11 MB this way instead of ~50 MB as .NET strings, and the same bytes are the durable
/// form in the index cache. <see cref="Hash"/> identifies the content, so an unchanged upstream re-read (a 304, or a
/// reload after the in-memory copy was evicted) does not cause a re-render.
/// </summary>
public sealed class PyPIRootNames
{
    private static readonly byte[] StorageMagic = "safehaven-pypi-root-names/1\n"u8.ToArray();

    private PyPIRootNames(ReadOnlyMemory<byte> utf8, int count)
    {
        Utf8 = utf8;
        Count = count;
        Hash = Convert.ToHexStringLower(SHA256.HashData(utf8.Span));
    }

    /// <summary>Every name followed by <c>\n</c>; names never contain control characters.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; }

    public int Count { get; }

    /// <summary>SHA-256 (hex) of <see cref="Utf8"/>.</summary>
    public string Hash { get; }

    /// <summary>Approximate memory footprint.</summary>
    public long EstimatedSize => 128 + Utf8.Length;

    /// <summary>The names as strings (allocates one string per name: for tests and small lists).</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = new List<string>(Count);
            var span = Utf8.Span;
            while (!span.IsEmpty)
            {
                var end = span.IndexOf((byte)'\n');
                names.Add(Encoding.UTF8.GetString(span[..end]));
                span = span[(end + 1)..];
            }
            return names;
        }
    }

    public static PyPIRootNames FromNames(IEnumerable<string> names)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var count = 0;
        foreach (var name in names)
        {
            if (Append(buffer, Encoding.UTF8.GetBytes(name.Trim())))
            {
                count++;
            }
        }
        return new PyPIRootNames(buffer.WrittenMemory.ToArray(), count);
    }

    /// <summary>Appends a name unless it is empty or holds a control character (it could not be listed anyway).</summary>
    private static bool Append(IBufferWriter<byte> buffer, ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.IndexOfAnyInRange((byte)0, (byte)0x1f) >= 0 || name.Contains((byte)0x7f))
        {
            return false;
        }
        var target = buffer.GetSpan(name.Length + 1);
        name.CopyTo(target);
        target[name.Length] = (byte)'\n';
        buffer.Advance(name.Length + 1);
        return true;
    }

    /// <summary>The form kept in the index cache: a format marker, then <see cref="Utf8"/>.</summary>
    public byte[] Serialize()
    {
        var result = new byte[StorageMagic.Length + Utf8.Length];
        StorageMagic.CopyTo(result, 0);
        Utf8.Span.CopyTo(result.AsSpan(StorageMagic.Length));
        return result;
    }

    /// <summary>Restores <see cref="Serialize"/>'s form without copying it; also reads the older JSON form (<c>{"Names":[…]}</c>).</summary>
    public static PyPIRootNames Deserialize(byte[] content)
    {
        if (content.AsSpan().StartsWith(StorageMagic))
        {
            var utf8 = content.AsMemory(StorageMagic.Length);
            return new PyPIRootNames(utf8, utf8.Span.Count((byte)'\n'));
        }
        var legacy = JsonSerializer.Deserialize(content, PyPIStorageJsonContext.Default.PyPIProjectList)
            ?? throw new UpstreamFormatException("stored root index is empty");
        return FromNames(legacy.Names);
    }

    /// <summary>
    /// Parses an upstream root index, PEP 691 JSON or PEP 503 HTML, straight from its bytes: no DOM, no decoded
    /// copy of the document, only the compact name buffer is allocated.
    /// </summary>
    public static PyPIRootNames Parse(ReadOnlySpan<byte> content, string? contentType) =>
        SimpleIndexParser.IsJson(contentType) ? ParseJson(content) : ParseHtml(content);

    private static ArrayBufferWriter<byte> NewBuffer(int contentLength) => new(Math.Max(256, contentLength / 3));

    private static PyPIRootNames ParseJson(ReadOnlySpan<byte> content)
    {
        var buffer = NewBuffer(content.Length);
        var count = 0;
        string? apiVersion = null;
        var sawProjects = false;
        byte[] scratch = [];
        try
        {
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = 256 });
            Expect(ref reader, JsonTokenType.StartObject);
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("meta"u8))
                {
                    Expect(ref reader, JsonTokenType.StartObject);
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        var isVersion = reader.ValueTextEquals("api-version"u8);
                        Next(ref reader);
                        if (isVersion && reader.TokenType == JsonTokenType.String)
                        {
                            apiVersion = reader.GetString();
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else if (reader.ValueTextEquals("projects"u8))
                {
                    sawProjects = true;
                    Expect(ref reader, JsonTokenType.StartArray);
                    while (Next(ref reader) == JsonTokenType.StartObject)
                    {
                        var named = false;
                        while (Next(ref reader) == JsonTokenType.PropertyName)
                        {
                            var isName = reader.ValueTextEquals("name"u8);
                            Next(ref reader);
                            if (isName && reader.TokenType == JsonTokenType.String)
                            {
                                named = true;
                                ReadOnlySpan<byte> name;
                                if (reader.ValueIsEscaped)
                                {
                                    if (scratch.Length < reader.ValueSpan.Length)
                                    {
                                        scratch = new byte[Math.Max(256, reader.ValueSpan.Length)];
                                    }
                                    name = scratch.AsSpan(0, reader.CopyString(scratch));
                                }
                                else
                                {
                                    name = reader.ValueSpan;
                                }
                                if (Append(buffer, name.Trim((byte)' ')))
                                {
                                    count++;
                                }
                            }
                            else
                            {
                                reader.Skip();
                            }
                        }
                        if (!named)
                        {
                            throw new UpstreamFormatException("upstream root index is not valid PEP 691 JSON: a project without a name");
                        }
                    }
                    if (reader.TokenType != JsonTokenType.EndArray)
                    {
                        throw new UpstreamFormatException("upstream root index is not valid PEP 691 JSON: 'projects' holds something other than objects");
                    }
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw new UpstreamFormatException($"upstream root index is not valid PEP 691 JSON: {e.Message}", e);
        }
        if (apiVersion is null)
        {
            throw new UpstreamFormatException("PEP 691 JSON without meta.api-version");
        }
        if (!apiVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new UpstreamFormatException($"unsupported simple API version {apiVersion}");
        }
        if (!sawProjects)
        {
            throw new UpstreamFormatException("upstream root index is not valid PEP 691 JSON: no 'projects'");
        }
        return new PyPIRootNames(buffer.WrittenSpan.ToArray(), count);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new UpstreamFormatException("upstream root index is not valid PEP 691 JSON: truncated");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (Next(ref reader) != type)
        {
            throw new UpstreamFormatException($"upstream root index is not valid PEP 691 JSON: expected {type}, found {reader.TokenType}");
        }
    }

    /// <summary>
    /// The text of every <c>&lt;a …&gt;…&lt;/a&gt;</c>, entity-decoded and trimmed, scanning the bytes once. A <c>&gt;</c>
    /// inside a quoted attribute value does not end the tag (as in browsers' and pip's parsers).
    /// </summary>
    private static PyPIRootNames ParseHtml(ReadOnlySpan<byte> content)
    {
        if (!System.Text.Unicode.Utf8.IsValid(content))
        {
            throw new UpstreamFormatException("upstream page is not UTF-8");
        }
        var buffer = NewBuffer(content.Length);
        var count = 0;
        var anchors = 0;
        var rest = content;
        while (true)
        {
            var open = IndexOfTag(rest, "<a"u8);
            if (open < 0)
            {
                break;
            }
            rest = rest[(open + 2)..];
            var tagEnd = EndOfTag(rest);
            if (tagEnd < 0)
            {
                break;
            }
            rest = rest[(tagEnd + 1)..];
            var close = IndexOfTag(rest, "</a"u8);
            if (close < 0)
            {
                break;
            }
            anchors++;
            var text = rest[..close].Trim(" \t\r\n\f"u8);
            rest = rest[(close + 3)..];
            if (text.Contains((byte)'&'))
            {
                var decoded = Html.HtmlUnescape.Unescape(Encoding.UTF8.GetString(text)).Trim();
                if (Append(buffer, Encoding.UTF8.GetBytes(decoded)))
                {
                    count++;
                }
            }
            else if (Append(buffer, text))
            {
                count++;
            }
        }
        if (anchors == 0 && IndexOfIgnoreCase(content, "<html"u8) < 0 && IndexOfIgnoreCase(content, "<!doctype"u8) < 0)
        {
            throw new UpstreamFormatException("upstream page is neither PEP 691 JSON nor HTML");
        }
        return new PyPIRootNames(buffer.WrittenSpan.ToArray(), count);
    }

    /// <summary>The next <paramref name="tag"/> (e.g. <c>&lt;a</c>) followed by whitespace, <c>&gt;</c> or <c>/</c>, case-insensitively.</summary>
    private static int IndexOfTag(ReadOnlySpan<byte> text, ReadOnlySpan<byte> tag)
    {
        var offset = 0;
        while (true)
        {
            var found = IndexOfIgnoreCase(text[offset..], tag);
            if (found < 0)
            {
                return -1;
            }
            var at = offset + found;
            var after = at + tag.Length;
            if (after >= text.Length || text[after] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'\f' or (byte)'>' or (byte)'/')
            {
                return at;
            }
            offset = at + 1;
        }
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerAsciiNeedle)
    {
        var first = lowerAsciiNeedle[0];
        var offset = 0;
        while (true)
        {
            var found = first is >= (byte)'a' and <= (byte)'z'
                ? text[offset..].IndexOfAny(first, (byte)(first - 32))
                : text[offset..].IndexOf(first);
            if (found < 0)
            {
                return -1;
            }
            var at = offset + found;
            if (text.Length - at >= lowerAsciiNeedle.Length && Ascii.EqualsIgnoreCase(text.Slice(at, lowerAsciiNeedle.Length), lowerAsciiNeedle))
            {
                return at;
            }
            offset = at + 1;
        }
    }

    /// <summary>The index of the <c>&gt;</c> that ends a start tag, skipping quoted attribute values.</summary>
    private static int EndOfTag(ReadOnlySpan<byte> tag)
    {
        for (var i = 0; i < tag.Length; i++)
        {
            switch (tag[i])
            {
                case (byte)'>':
                    return i;
                case (byte)'=':
                    var j = i + 1;
                    while (j < tag.Length && tag[j] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'\f')
                    {
                        j++;
                    }
                    if (j < tag.Length && tag[j] is (byte)'"' or (byte)'\'')
                    {
                        var quoteEnd = tag[(j + 1)..].IndexOf(tag[j]);
                        if (quoteEnd < 0)
                        {
                            return -1;
                        }
                        i = j + 1 + quoteEnd;
                    }
                    else
                    {
                        i = j - 1;
                    }
                    break;
            }
        }
        return -1;
    }
}
