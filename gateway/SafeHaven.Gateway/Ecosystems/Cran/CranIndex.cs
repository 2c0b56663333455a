using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using SafeHaven.Core.IO;
using SafeHaven.Core.Packages;
using SafeHaven.Gateway.Ecosystems.Cran.Dates;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>
/// One version of one package as an index describes it: a record of the upstream <c>PACKAGES</c> (current), or the
/// <c>DESCRIPTION</c> of a tarball in <c>src/contrib/Archive/&lt;pkg&gt;/</c> (archived). Facts the policy needs are
/// derived once.
/// </summary>
public sealed class CranPackage
{
    public CranPackage(DcfRecord record, bool archived, string? md5 = null)
    {
        Record = record;
        Archived = archived;
        Name = record["Package"]?.Trim() ?? "";
        VersionText = record["Version"]?.Trim() ?? "";
        RVersion.TryParse(VersionText, out var version);
        Version = version;
        Published = CranDates.Parse(record["Date/Publication"]);
        DateSource = Published is null ? null : archived ? CranDateSource.Description : CranDateSource.Packages;
        Md5 = md5 ?? record["MD5sum"]?.Trim();
        UpstreamPath = archived ? null : NullIfEmpty(record["Path"]?.Trim().Trim('/'));
        try
        {
            Dependencies = CranDependencies.Required(record);
        }
        catch (FormatException e)
        {
            DependencyError = e.Message;
            Dependencies = [];
        }
    }

    private CranPackage(CranPackage other, DateTimeOffset published, CranDateSource source)
    {
        Record = other.Record;
        Archived = other.Archived;
        Name = other.Name;
        VersionText = other.VersionText;
        Version = other.Version;
        Md5 = other.Md5;
        UpstreamPath = other.UpstreamPath;
        Dependencies = other.Dependencies;
        DependencyError = other.DependencyError;
        Published = published;
        DateSource = source;
    }

    /// <summary>
    /// The same version carrying the MD5 of the pinned first verified copy, in its record too: upstream replaced the
    /// tarball, and <c>PACKAGES</c> must describe the copy that is served, not upstream's new one.
    /// </summary>
    public CranPackage WithPinnedMd5(string md5)
    {
        var pinned = new CranPackage(Record.With("MD5sum", md5), Archived, md5);
        return Published is { } published && DateSource is { } source ? pinned.WithDate(published, source) : pinned;
    }

    /// <summary>The same version dated from another source (the index's own record is left as upstream wrote it).</summary>
    public CranPackage WithDate(DateTimeOffset published, CranDateSource source) => new(this, published, source);

    public DcfRecord Record { get; }
    public bool Archived { get; }
    public string Name { get; }
    public string VersionText { get; }
    public RVersion? Version { get; }
    public DateTimeOffset? Published { get; }

    /// <summary>Where <see cref="Published"/> came from; null when no date is known.</summary>
    public CranDateSource? DateSource { get; }

    /// <summary>The MD5 upstream gives (current versions), or the one computed from the stored tarball (archived).</summary>
    public string? Md5 { get; }

    /// <summary>A current record's <c>Path:</c> below <c>src/contrib</c> (rare upstream; not the archive), else null.</summary>
    public string? UpstreamPath { get; }

    /// <summary>Depends, Imports and LinkingTo, without R, base and recommended packages.</summary>
    public IReadOnlyList<CranDependency> Dependencies { get; }

    /// <summary>Set when a dependency field cannot be read; such a version is never listed at Tier 2+.</summary>
    public string? DependencyError { get; }

    public string FileName => $"{Name}_{VersionText}.tar.gz";

    /// <summary>Where R finds the file, relative to <c>src/contrib/</c>.</summary>
    public string RelativePath => Archived
        ? $"Archive/{Name}/{FileName}"
        : UpstreamPath is null ? FileName : $"{UpstreamPath}/{FileName}";

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>Dates as R and CRAN write them (<c>2024-01-15 10:20:03 UTC</c>).</summary>
public static class CranDates
{
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var value = text.Trim();
        if (value.EndsWith(" UTC", StringComparison.Ordinal) || value.EndsWith(" GMT", StringComparison.Ordinal))
        {
            value = value[..^4];
        }
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
    }
}

/// <summary>The upstream <c>src/contrib/PACKAGES</c> as last fetched: every record, grouped by package. Immutable.</summary>
public sealed class CranIndexState
{
    public CranIndexState(IReadOnlyList<DcfRecord> records, DateTimeOffset fetchedAt)
    {
        Records = records;
        FetchedAt = fetchedAt;
        Packages = records.Select(r => new CranPackage(r, archived: false)).Where(p => p.Name.Length > 0).ToList();
        ByName = Packages.GroupBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<CranPackage>)g.ToList(), StringComparer.Ordinal);
        EstimatedSize = 256 + records.Sum(r => 128L + r.Fields.Sum(f => 64L + (f.Key.Length + f.Value.Length) * 2));
    }

    public IReadOnlyList<DcfRecord> Records { get; }
    public DateTimeOffset FetchedAt { get; }
    public IReadOnlyList<CranPackage> Packages { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<CranPackage>> ByName { get; }
    public long EstimatedSize { get; }
}

/// <summary>The versions an upstream <c>src/contrib/Archive/&lt;pkg&gt;/</c> directory listing offers.</summary>
public sealed record CranArchiveListing(string Package, IReadOnlyList<string> Versions);

/// <summary>Parsing of upstream index documents.</summary>
public static partial class CranIndexParser
{
    /// <summary>Largest decompressed <c>PACKAGES</c> accepted (CRAN's is ~12 MB), so a gzip bomb cannot exhaust memory.</summary>
    public const long MaximumPackagesBytes = UpstreamHttp.DefaultMaximumIndexBytes;

    /// <summary>Parses <c>PACKAGES</c> or <c>PACKAGES.gz</c> (recognised by the gzip magic number).</summary>
    public static IReadOnlyList<DcfRecord> ParsePackages(byte[] content) => ParsePackages(() => new MemoryStream(content, writable: false));

    /// <summary>
    /// Parses <c>PACKAGES</c> or <c>PACKAGES.gz</c> as a stream (an upstream page spooled to disk): decompressed and
    /// decoded as it is read, into the records only; the decompressed text is bounded by <see cref="MaximumPackagesBytes"/>.
    /// </summary>
    public static IReadOnlyList<DcfRecord> ParsePackages(UpstreamDocument document) => ParsePackages(document.OpenRead);

    private static IReadOnlyList<DcfRecord> ParsePackages(Func<Stream> open)
    {
        bool gzip;
        using (var probe = open())
        {
            Span<byte> magic = stackalloc byte[2];
            gzip = probe.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && IsGzip(magic);
        }
        IReadOnlyList<DcfRecord> records;
        try
        {
            using var raw = open();
            using var expanded = gzip ? new ReadLimitStream(new GZipStream(raw, CompressionMode.Decompress), MaximumPackagesBytes,
                limit => new UpstreamFormatException($"upstream PACKAGES.gz expands to more than {limit} bytes")) : raw;
            using var reader = new StreamReader(expanded, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
            records = Dcf.Parse(reader);
        }
        catch (InvalidDataException e)
        {
            throw new UpstreamFormatException($"upstream PACKAGES.gz is not valid gzip: {e.Message}", e);
        }
        catch (FormatException e)
        {
            throw new UpstreamFormatException($"upstream PACKAGES is not a DCF file: {e.Message}", e);
        }
        if (records.Count == 0)
        {
            throw new UpstreamFormatException("upstream PACKAGES lists no packages");
        }
        foreach (var record in records)
        {
            if (string.IsNullOrWhiteSpace(record["Package"]) || string.IsNullOrWhiteSpace(record["Version"]))
            {
                throw new UpstreamFormatException("upstream PACKAGES has a record without Package or Version");
            }
        }
        return records;
    }

    public static bool IsGzip(ReadOnlySpan<byte> content) => content.Length >= 2 && content[0] == 0x1f && content[1] == 0x8b;

    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content);
        }
        return output.ToArray();
    }

    [GeneratedRegex(@"href\s*=\s*""(?<href>[^""]*)""|href\s*=\s*'(?<href>[^']*)'", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Href();

    /// <summary>
    /// The versions of <paramref name="package"/> linked from an archive directory listing (Apache or nginx
    /// autoindex, or any HTML page linking <c>pkg_version.tar.gz</c> files); other links are ignored.
    /// </summary>
    public static CranArchiveListing ParseArchiveListing(string package, byte[] content, string? contentType)
    {
        if (contentType is not null && !contentType.Contains("html", StringComparison.OrdinalIgnoreCase))
        {
            throw new UpstreamFormatException($"upstream archive listing of {package} is {contentType}, not HTML");
        }
        var text = Encoding.UTF8.GetString(content);
        if (!text.Contains("<", StringComparison.Ordinal))
        {
            throw new UpstreamFormatException($"upstream archive listing of {package} is not HTML");
        }
        var prefix = package + "_";
        var versions = new List<string>();
        foreach (Match match in Href().Matches(text))
        {
            var href = Uri.UnescapeDataString(match.Groups["href"].Value);
            var slash = href.LastIndexOf('/');
            var file = slash >= 0 ? href[(slash + 1)..] : href;
            if (file.StartsWith(prefix, StringComparison.Ordinal) && file.EndsWith(".tar.gz", StringComparison.Ordinal)
                && (slash < 0 || href.StartsWith("./", StringComparison.Ordinal) && slash == 1))
            {
                var version = file[prefix.Length..^".tar.gz".Length];
                if (RVersion.TryParse(version, out _) && !versions.Contains(version, StringComparer.Ordinal))
                {
                    versions.Add(version);
                }
            }
        }
        return new CranArchiveListing(package, versions);
    }

    /// <summary>The durable form of a listing: one version per line.</summary>
    public static byte[] SerializeListing(CranArchiveListing listing) => Encoding.UTF8.GetBytes(string.Join('\n', listing.Versions));

    public static CranArchiveListing DeserializeListing(string package, byte[] content) =>
        new(package, Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries));
}
