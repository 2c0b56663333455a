using System.Globalization;

namespace SafeHaven.Gateway.Ecosystems.Apt.Debian;

/// <summary>One line of a <c>Release</c> file's <c>SHA256</c> list: a path under <c>dists/&lt;suite&gt;/</c>, its size and lower-case digest.</summary>
public sealed record ReleaseEntry(string Path, long Size, string Sha256);

/// <summary>
/// A repository's <c>Release</c> file (the Debian wiki's RepositoryFormat; the signed content of <c>InRelease</c>,
/// read only after its signature is verified). One paragraph; malformed content (a second paragraph, a date that is
/// not RFC 2822, a bad <c>SHA256</c> line, a path that climbs out of the suite) is an <see cref="InvalidDataException"/>:
/// a file that cannot be read exactly is not trusted. Only the <c>SHA256</c> list is read; <c>MD5Sum</c> and
/// <c>SHA1</c> are ignored (apt ignores them too when SHA256 is present).
/// </summary>
public sealed class ReleaseFile
{
    private ReleaseFile(Deb822Paragraph fields, DateTimeOffset? date, DateTimeOffset? validUntil, IReadOnlyList<ReleaseEntry> sha256)
    {
        Fields = fields;
        Date = date;
        ValidUntil = validUntil;
        Sha256 = sha256;
        Architectures = Words(fields["Architectures"]);
        Components = Words(fields["Components"]);
        AcquireByHash = string.Equals(fields["Acquire-By-Hash"], "yes", StringComparison.OrdinalIgnoreCase);
    }

    public Deb822Paragraph Fields { get; }
    public string? Origin => Fields["Origin"];
    public string? Label => Fields["Label"];
    public string? Suite => Fields["Suite"];
    public string? Codename => Fields["Codename"];
    public string? Version => Fields["Version"];
    public DateTimeOffset? Date { get; }
    public DateTimeOffset? ValidUntil { get; }
    public IReadOnlyList<string> Architectures { get; }
    public IReadOnlyList<string> Components { get; }
    public bool AcquireByHash { get; }
    public IReadOnlyList<ReleaseEntry> Sha256 { get; }

    /// <summary>The <c>SHA256</c> entry for a path under the suite (e.g. <c>main/binary-amd64/Packages.xz</c>), or null.</summary>
    public ReleaseEntry? Find(string path)
    {
        foreach (var entry in Sha256)
        {
            if (string.Equals(entry.Path, path, StringComparison.Ordinal))
            {
                return entry;
            }
        }
        return null;
    }

    public static ReleaseFile Parse(string text)
    {
        var paragraphs = Deb822Reader.Parse(text);
        if (paragraphs.Count != 1)
        {
            throw new InvalidDataException($"a Release file has exactly one paragraph; this one has {paragraphs.Count}");
        }
        var fields = paragraphs[0];
        var date = ParseDate(fields, "Date");
        var validUntil = ParseDate(fields, "Valid-Until");
        var entries = new List<ReleaseEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (fields["SHA256"] is { } list)
        {
            var lines = list.Split('\n');
            if (lines[0].Length > 0)
            {
                throw new InvalidDataException("the SHA256 field has text on its first line; its entries go on continuation lines");
            }
            for (var i = 1; i < lines.Length; i++)
            {
                var entry = ParseEntry(lines[i]);
                if (!seen.Add(entry.Path))
                {
                    throw new InvalidDataException($"SHA256 lists '{entry.Path}' twice");
                }
                entries.Add(entry);
            }
        }
        return new ReleaseFile(fields, date, validUntil, entries);
    }

    private static ReleaseEntry ParseEntry(string line)
    {
        var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3)
        {
            throw new InvalidDataException($"SHA256 line '{line.Trim()}' is not '<sha256> <size> <path>'");
        }
        var (hash, sizeText, path) = (parts[0], parts[1], parts[2]);
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            throw new InvalidDataException($"SHA256 line '{line.Trim()}' has a digest that is not 64 hexadecimal digits");
        }
        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new InvalidDataException($"SHA256 line '{line.Trim()}' has a size that is not a non-negative number");
        }
        if (UnsafePath(path) is { } why)
        {
            throw new InvalidDataException($"SHA256 line '{line.Trim()}' names a path that {why}");
        }
        return new ReleaseEntry(path, size, hash.ToLowerInvariant());
    }

    /// <summary>Why a path read from upstream may not be used under a local root (null when it may): absolute, climbing, odd characters.</summary>
    internal static string? UnsafePath(string path)
    {
        if (path.Length == 0)
        {
            return "is empty";
        }
        if (path[0] == '/')
        {
            return "is absolute";
        }
        foreach (var c in path)
        {
            if (c < ' ' || c == '\u007f' || c == '\\')
            {
                return $"contains {(c == '\\' ? "a backslash" : "a control character")}";
            }
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                return $"has an empty, '.' or '..' segment";
            }
        }
        return null;
    }

    private static IReadOnlyList<string> Words(string? value) =>
        value is null ? [] : value.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);

    private static DateTimeOffset? ParseDate(Deb822Paragraph fields, string name)
    {
        if (fields[name] is not { } text)
        {
            return null;
        }
        return TryParseDate(text, out var date)
            ? date
            : throw new InvalidDataException($"the {name} field '{text}' is not an RFC 2822 date such as 'Sat, 10 Jun 2023 09:36:13 UTC'");
    }

    /// <summary>Reads the RFC 2822 dates Release files carry: <c>Sat, 10 Jun 2023 09:36:13 UTC</c> (also GMT, Z or <c>+hhmm</c>).</summary>
    public static bool TryParseDate(string text, out DateTimeOffset date)
    {
        date = default;
        var trimmed = text.Trim();
        var space = trimmed.LastIndexOf(' ');
        if (space < 0)
        {
            return false;
        }
        var zone = trimmed[(space + 1)..];
        TimeSpan offset;
        if (zone is "UTC" or "GMT" or "Z" or "UT")
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length == 5 && zone[0] is '+' or '-' && zone[1..].All(char.IsAsciiDigit))
        {
            var hours = int.Parse(zone[1..3], NumberStyles.None, CultureInfo.InvariantCulture);
            var minutes = int.Parse(zone[3..5], NumberStyles.None, CultureInfo.InvariantCulture);
            if (hours > 14 || minutes > 59)
            {
                return false;
            }
            offset = new TimeSpan(hours, minutes, 0) * (zone[0] == '-' ? -1 : 1);
        }
        else
        {
            return false;
        }
        var local = trimmed[..space];
        string[] formats = ["ddd, d MMM yyyy HH:mm:ss", "ddd, dd MMM yyyy HH:mm:ss", "d MMM yyyy HH:mm:ss", "dd MMM yyyy HH:mm:ss"];
        if (!DateTime.TryParseExact(local, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var clock))
        {
            return false;
        }
        date = new DateTimeOffset(DateTime.SpecifyKind(clock, DateTimeKind.Unspecified), offset).ToUniversalTime();
        return true;
    }
}
