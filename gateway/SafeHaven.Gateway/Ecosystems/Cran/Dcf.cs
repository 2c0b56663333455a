using System.Text;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>One record of a Debian-control-format file (R's DCF): fields in upstream order, names case-sensitive.</summary>
public sealed class DcfRecord
{
    private readonly List<KeyValuePair<string, string>> _fields;

    public DcfRecord(IEnumerable<KeyValuePair<string, string>> fields) => _fields = fields.ToList();

    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The field's value (continuation lines joined with newlines, as written), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var (key, value) in _fields)
            {
                if (string.Equals(key, name, StringComparison.Ordinal))
                {
                    return value;
                }
            }
            return null;
        }
    }

    /// <summary>A copy with <paramref name="name"/> set (replaced in place, or appended) or removed when null.</summary>
    public DcfRecord With(string name, string? value)
    {
        var fields = new List<KeyValuePair<string, string>>(_fields.Count + 1);
        var done = false;
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.Ordinal))
            {
                if (!done && value is not null)
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
        return new DcfRecord(fields);
    }

    /// <summary>A copy keeping only the named fields, in upstream order.</summary>
    public DcfRecord Only(IReadOnlySet<string> names) => new(_fields.Where(f => names.Contains(f.Key)));
}

/// <summary>
/// Reads and writes R's DCF (the format of <c>PACKAGES</c> and <c>DESCRIPTION</c>): records separated by blank
/// lines, <c>Field: value</c> lines, continuation lines starting with white space.
/// </summary>
public static class Dcf
{
    public static IReadOnlyList<DcfRecord> Parse(string text) => Parse(new StringReader(text));

    /// <summary>Parses records as they are read, line by line: memory holds the records, never the whole text.</summary>
    public static IReadOnlyList<DcfRecord> Parse(TextReader text)
    {
        var records = new List<DcfRecord>();
        var fields = new List<KeyValuePair<string, string>>();
        string? name = null;
        var value = new StringBuilder();
        var lineNumber = 0;

        void EndField()
        {
            if (name is not null)
            {
                fields.Add(new(name, value.ToString().TrimEnd()));
                name = null;
                value.Clear();
            }
        }

        void EndRecord()
        {
            EndField();
            if (fields.Count > 0)
            {
                records.Add(new DcfRecord(fields));
                fields = [];
            }
        }

        foreach (var raw in Lines(text))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                EndRecord();
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                if (name is null)
                {
                    throw new FormatException($"line {lineNumber}: a continuation line with no field before it");
                }
                value.Append('\n').Append(line);
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.AsSpan(0, colon).ContainsAnyExcept(" \t") || line.AsSpan(0, colon).ContainsAny(" \t<>\"'"))
            {
                throw new FormatException($"line {lineNumber}: '{Truncate(line)}' is not a 'Field: value' line");
            }
            EndField();
            name = line[..colon];
            value.Append(line.AsSpan(colon + 1).Trim());
        }
        EndRecord();
        return records;
    }

    /// <summary>The text's lines, split at '\n' only (as <c>string.Split('\n')</c> would, a final empty line included).</summary>
    private static IEnumerable<string> Lines(TextReader text)
    {
        var line = new StringBuilder();
        var buffer = new char[16 * 1024];
        int read;
        while ((read = text.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    line.Append(buffer, start, i - start);
                    yield return line.ToString();
                    line.Clear();
                    start = i + 1;
                }
            }
            line.Append(buffer, start, read - start);
        }
        yield return line.ToString();
    }

    public static string Render(IEnumerable<DcfRecord> records)
    {
        var text = new StringBuilder();
        var first = true;
        foreach (var record in records)
        {
            if (!first)
            {
                text.Append('\n');
            }
            first = false;
            foreach (var (key, value) in record.Fields)
            {
                text.Append(key).Append(": ").Append(value).Append('\n');
            }
        }
        return text.ToString();
    }

    private static string Truncate(string line) => line.Length <= 60 ? line : line[..60] + "...";
}
