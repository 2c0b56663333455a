namespace SafeHaven.Gateway.Ecosystems.Apt.Debian;

/// <summary>
/// One paragraph (stanza) of a Debian control file (Debian policy 5.1): fields in upstream order, names compared
/// case-insensitively. A value is the text after the colon with the white space around its first line removed,
/// then each continuation line as written (its leading space or tab kept, a CR before its LF removed), joined with
/// <c>\n</c>: <c>"first\n second\n ."</c>. Immutable; <see cref="With"/> returns a copy.
/// </summary>
public sealed class Deb822Paragraph
{
    private readonly KeyValuePair<string, string>[] _fields;

    /// <summary>A paragraph of the given fields; throws <see cref="ArgumentException"/> on a bad name, a value that would not read back the same, or a repeated name.</summary>
    public Deb822Paragraph(IEnumerable<KeyValuePair<string, string>> fields)
    {
        _fields = fields.ToArray();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in _fields)
        {
            if (InvalidName(name) is { } nameError)
            {
                throw new ArgumentException($"'{name}' is not a field name: {nameError}", nameof(fields));
            }
            if (InvalidValue(value) is { } valueError)
            {
                throw new ArgumentException($"the value of '{name}' {valueError}", nameof(fields));
            }
            if (!seen.Add(name))
            {
                throw new ArgumentException($"the field '{name}' appears twice", nameof(fields));
            }
        }
    }

    /// <summary>Built by the reader, which has already checked every rule.</summary>
    internal Deb822Paragraph(KeyValuePair<string, string>[] fields, bool trusted)
    {
        _ = trusted;
        _fields = fields;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The value of the field (names compared case-insensitively), or null when absent.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var (key, value) in _fields)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }
            return null;
        }
    }

    /// <summary>
    /// A copy with <paramref name="name"/> replaced in place (keeping its position, under the new spelling), appended
    /// when absent, or removed when <paramref name="value"/> is null.
    /// </summary>
    public Deb822Paragraph With(string name, string? value)
    {
        if (InvalidName(name) is { } nameError)
        {
            throw new ArgumentException($"'{name}' is not a field name: {nameError}", nameof(name));
        }
        if (value is not null && InvalidValue(value) is { } valueError)
        {
            throw new ArgumentException($"the value of '{name}' {valueError}", nameof(value));
        }
        var fields = new List<KeyValuePair<string, string>>(_fields.Length + 1);
        var done = false;
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                if (value is not null)
                {
                    fields.Add(new(name, value));
                }
                done = true;
            }
            else
            {
                fields.Add(field);
            }
        }
        if (!done && value is not null)
        {
            fields.Add(new(name, value));
        }
        return new Deb822Paragraph([.. fields], trusted: true);
    }

    /// <summary>
    /// Writes <c>Name: value</c> lines (<c>Name:</c> alone when the first line of the value is empty, as Release files
    /// write <c>SHA256:</c>), continuation lines exactly as held, LF line ends, then the blank line that ends a paragraph.
    /// </summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var (name, value) in _fields)
        {
            writer.Write(name);
            writer.Write(':');
            var newline = value.IndexOf('\n', StringComparison.Ordinal);
            var first = newline < 0 ? value : value[..newline];
            if (first.Length > 0)
            {
                writer.Write(' ');
                writer.Write(first);
            }
            writer.Write('\n');
            if (newline >= 0)
            {
                writer.Write(value.AsSpan(newline + 1));
                writer.Write('\n');
            }
        }
        writer.Write('\n');
    }

    /// <summary>The paragraph as <see cref="WriteTo"/> writes it.</summary>
    public override string ToString()
    {
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }

    /// <summary>Policy 5.1: US-ASCII printable characters except space and colon, not starting with <c>#</c> or <c>-</c>.</summary>
    internal static string? InvalidName(string name)
    {
        if (name.Length == 0)
        {
            return "it is empty";
        }
        if (name[0] is '#' or '-')
        {
            return $"it starts with '{name[0]}'";
        }
        foreach (var c in name)
        {
            if (c <= ' ' || c >= '\u007f' || c == ':')
            {
                return $"it contains {Describe(c)}";
            }
        }
        return null;
    }

    private static string? InvalidValue(string value)
    {
        var lines = value.Split('\n');
        if (lines[0].Length > 0 && (char.IsWhiteSpace(lines[0][0]) || char.IsWhiteSpace(lines[0][^1])))
        {
            return "has white space around its first line";
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Contains('\r', StringComparison.Ordinal))
            {
                return "contains a carriage return";
            }
            if (i > 0)
            {
                if (line.Length == 0 || line[0] is not (' ' or '\t'))
                {
                    return $"has a continuation line (line {i + 1} of the value) that does not start with a space or tab";
                }
                if (string.IsNullOrWhiteSpace(line))
                {
                    return $"has a blank continuation line (line {i + 1} of the value), which would end the paragraph; write ' .'";
                }
            }
        }
        return null;
    }

    internal static string Describe(char c) => c switch
    {
        ' ' => "a space",
        ':' => "a colon",
        '\t' => "a tab",
        _ => $"the character U+{(int)c:X4}",
    };
}
