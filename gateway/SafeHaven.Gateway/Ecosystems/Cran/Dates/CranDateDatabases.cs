using System.Globalization;
using System.Text;
using SafeHaven.Gateway.Ecosystems.Cran.Rds;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Cran.Dates;

/// <summary>Where a version's date came from, best first (the one date rule: upstream's own, then authoritative upstream data, then first-seen).</summary>
public enum CranDateSource
{
    /// <summary><c>Date/Publication</c> in upstream's <c>src/contrib/PACKAGES</c>.</summary>
    Packages,

    /// <summary><c>Date/Publication</c> in CRAN's package database, <c>web/packages/packages.rds</c>.</summary>
    PackageDatabase,

    /// <summary>The archived tarball's file time in <c>src/contrib/Meta/archive.rds</c>.</summary>
    ArchiveDatabase,

    /// <summary><c>Date/Publication</c> in the <c>DESCRIPTION</c> inside the verified tarball.</summary>
    Description,

    /// <summary>The appliance's own first-seen time of the tarball file (recorded once, never moved).</summary>
    FirstSeen,
}

public static class CranDateSources
{
    public static string Describe(CranDateSource source) => source switch
    {
        CranDateSource.Packages => "Date/Publication in PACKAGES",
        CranDateSource.PackageDatabase => "Date/Publication in web/packages/packages.rds",
        CranDateSource.ArchiveDatabase => "its file time in src/contrib/Meta/archive.rds",
        CranDateSource.Description => "Date/Publication in its DESCRIPTION",
        CranDateSource.FirstSeen => "the time this appliance first saw it",
        _ => source.ToString(),
    };
}

/// <summary>
/// The dates CRAN's package database (<c>web/packages/packages.rds</c>: a character matrix, one row per current
/// package, with a <c>Date/Publication</c> column) gives, by package and version. A package may have more than
/// one row (CRAN repeats some, e.g. recommended packages): each version keeps its own date, and a version
/// given twice keeps the later date (the conservative one). Immutable.
/// </summary>
public sealed class CranPackageDatabase
{
    private readonly Dictionary<(string Package, string Version), DateTimeOffset> _byVersion;

    private CranPackageDatabase(Dictionary<(string, string), DateTimeOffset> byVersion) => _byVersion = byVersion;

    public int Count => _byVersion.Count;

    /// <summary>The date of exactly this version, or null when the database has another version or none.</summary>
    public DateTimeOffset? DateOf(string package, string version) =>
        _byVersion.TryGetValue((package, version), out var published) ? published : null;

    private static void Add(Dictionary<(string, string), DateTimeOffset> byVersion, string package, string version, DateTimeOffset published) =>
        byVersion[(package, version)] = byVersion.TryGetValue((package, version), out var other) && other > published ? other : published;

    /// <summary>Reads the database from R's object: a character matrix with column names (as CRAN writes it), or a data frame.</summary>
    public static CranPackageDatabase FromR(RObject value)
    {
        IReadOnlyList<string?> Column(string name, Func<string, IReadOnlyList<string?>?> columns) =>
            columns(name) ?? throw new UpstreamFormatException($"it has no '{name}' column");

        Func<string, IReadOnlyList<string?>?> columns;
        int rows;
        switch (value)
        {
            case RStrings matrix when matrix.Dim is [var r, var c] && matrix.Attribute("dimnames") is RList { Values: [_, RStrings names] }:
                if ((long)r * c != matrix.Count || names.Values.Length != c)
                {
                    throw new UpstreamFormatException($"its dimensions {r}x{c} do not match its {matrix.Count} cells");
                }
                rows = r;
                columns = name =>
                {
                    // Only the wanted columns' cells are decoded.
                    var index = Array.IndexOf(names.Values, name);
                    return index < 0 ? null : (IReadOnlyList<string?>)Enumerable.Range(index * r, r).Select(cell => matrix[cell]).ToArray();
                };
                break;
            case RList frame when frame.Inherits("data.frame"):
                rows = frame.Values.Length == 0 ? 0 : (frame.Values[0] as RStrings)?.Count ?? 0;
                columns = name => frame[name] is RStrings { } column && column.Count == rows ? column.Values : (IReadOnlyList<string?>?)null;
                break;
            default:
                throw new UpstreamFormatException($"it is a {value.Type}, not a character matrix with column names or a data frame");
        }
        var packages = Column("Package", columns);
        var versions = Column("Version", columns);
        var dates = Column("Date/Publication", columns);
        var byVersion = new Dictionary<(string, string), DateTimeOffset>();
        for (var i = 0; i < rows; i++)
        {
            if (packages[i] is { Length: > 0 } package && versions[i] is { Length: > 0 } version && CranDates.Parse(dates[i]) is { } date)
            {
                Add(byVersion, package.Trim(), version.Trim(), date);
            }
        }
        return new CranPackageDatabase(byVersion);
    }

    /// <summary>The durable form: <c>package TAB version TAB unix-milliseconds</c> per line.</summary>
    public byte[] Serialize()
    {
        var text = new StringBuilder();
        foreach (var ((package, version), published) in _byVersion)
        {
            text.Append(package).Append('\t').Append(version).Append('\t').Append(published.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static CranPackageDatabase Deserialize(byte[] content)
    {
        var byVersion = new Dictionary<(string, string), DateTimeOffset>();
        foreach (var line in Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            if (parts.Length == 3 && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var ms))
            {
                Add(byVersion, parts[0], parts[1], DateTimeOffset.FromUnixTimeMilliseconds(ms));
            }
        }
        return new CranPackageDatabase(byVersion);
    }

    public long EstimatedSize => 128 + _byVersion.Sum(p => 96L + (p.Key.Package.Length + p.Key.Version.Length) * 2);
}

/// <summary>
/// The file times CRAN's archive database (<c>src/contrib/Meta/archive.rds</c>: a named list, one data frame of
/// <c>file.info()</c> per package, rows named <c>pkg/pkg_1.0.tar.gz</c>) gives for each archived tarball. Immutable.
/// </summary>
public sealed class CranArchiveDatabase
{
    private readonly Dictionary<string, DateTimeOffset> _byFile;

    private CranArchiveDatabase(Dictionary<string, DateTimeOffset> byFile) => _byFile = byFile;

    public int Count => _byFile.Count;

    /// <summary>The file time of <c>Archive/&lt;package&gt;/&lt;package&gt;_&lt;version&gt;.tar.gz</c>, or null.</summary>
    public DateTimeOffset? DateOf(string package, string version) =>
        _byFile.TryGetValue($"{package}/{package}_{version}.tar.gz", out var date) ? date : null;

    public static CranArchiveDatabase FromR(RObject value)
    {
        if (value is not RList { Type: RType.List } list || list.Names is not { } names)
        {
            throw new UpstreamFormatException($"it is a {value.Type} without names, not a named list of data frames");
        }
        var byFile = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        for (var i = 0; i < list.Values.Length; i++)
        {
            if (list.Values[i] is not RList frame || !frame.Inherits("data.frame"))
            {
                throw new UpstreamFormatException($"its entry '{names[i]}' is not a data frame");
            }
            var files = frame.RowNames;
            if (frame["mtime"] is not RDoubles mtime || files is null || files.Count != mtime.Values.Length)
            {
                throw new UpstreamFormatException($"its entry '{names[i]}' has no mtime column with one time per row name");
            }
            for (var row = 0; row < files.Count; row++)
            {
                var seconds = mtime.Values[row];
                if (files[row] is { } file && double.IsFinite(seconds) && Math.Abs(seconds) < 1e11)
                {
                    byFile[file] = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
                }
            }
        }
        return new CranArchiveDatabase(byFile);
    }

    /// <summary>The durable form: <c>pkg/file TAB unix-milliseconds</c> per line.</summary>
    public byte[] Serialize()
    {
        var text = new StringBuilder();
        foreach (var (file, date) in _byFile)
        {
            text.Append(file).Append('\t').Append(date.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static CranArchiveDatabase Deserialize(byte[] content)
    {
        var byFile = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = line.LastIndexOf('\t');
            if (tab > 0 && long.TryParse(line.AsSpan(tab + 1), CultureInfo.InvariantCulture, out var ms))
            {
                byFile[line[..tab]] = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            }
        }
        return new CranArchiveDatabase(byFile);
    }

    public long EstimatedSize => 128 + _byFile.Sum(p => 64L + p.Key.Length * 2);
}

/// <summary>How the upstream document cache parses, stores and restores CRAN's two <c>.rds</c> databases.</summary>
public sealed class CranDatabaseCodec<T>(Func<RObject, T> fromR, Func<T, byte[]> serialize, Func<byte[], T> deserialize, Func<T, long> sizeOf)
    : IDocumentCodec<T> where T : class
{
    public static readonly CranDatabaseCodec<CranPackageDatabase> Packages =
        new(CranPackageDatabase.FromR, d => d.Serialize(), CranPackageDatabase.Deserialize, d => d.EstimatedSize);

    public static readonly CranDatabaseCodec<CranArchiveDatabase> Archive =
        new(CranArchiveDatabase.FromR, d => d.Serialize(), CranArchiveDatabase.Deserialize, d => d.EstimatedSize);

    public T Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt)
    {
        try
        {
            return fromR(RdsReader.Read(document.Content));
        }
        catch (RdsFormatException e)
        {
            throw new UpstreamFormatException($"upstream {key} is not a readable R serialisation: {e.Message}", e);
        }
        catch (UpstreamFormatException e)
        {
            throw new UpstreamFormatException($"upstream {key} is not what CRAN writes there: {e.Message}", e);
        }
    }

    public byte[] Serialize(T value) => serialize(value);

    public T Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) => deserialize(content);

    public long SizeOf(T value) => sizeOf(value);
}
