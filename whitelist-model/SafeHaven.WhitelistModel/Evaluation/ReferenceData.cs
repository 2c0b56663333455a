using System.Globalization;
using System.IO.Compression;
using SafeHaven.Core.Packages;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>One row of the PyPI project snapshot: <c>name, version, month, rank_among_15000_most_downloaded, summary</c>.</summary>
public sealed record SnapshotRow(string Name, string NormalizedName, string? Version, DateTimeOffset? LatestMonth, int? Rank, string Summary);

/// <summary>One row of the malicious-package list: <c>name, osv_id, published, versions</c>.</summary>
public sealed record MaliciousRow(string Name, string NormalizedName, string OsvId, DateTimeOffset Published, IReadOnlyList<string> Versions);

/// <summary>
/// One row of the malicious build-time table: <c>name, versions, first_build, last_build, has_repo_url, requires_dist_count</c>.
/// The build times are the archive members' modification times, a proxy for the upload time that the uploader controls.
/// </summary>
public sealed record BuildTimeRow(string Name, string NormalizedName, IReadOnlyList<string> Versions, DateTimeOffset? FirstBuild, DateTimeOffset? LastBuild, bool? HasRepoUrl, int? RequiresDistCount);

/// <summary>Readers for the reference data in the shared data folder (see its README).</summary>
public static class ReferenceData
{
    public const string SnapshotFile = "pypi-projects-2026-11.tsv.gz";
    public const string ReferenceAllowlistFile = "allowlists/pypi-tier3-reference.txt";
    public const string CoreAllowlistFile = "allowlists/pypi-tier3-core.txt";
    public const string MaliciousFile = "malicious/pypi-malicious-before-2025.tsv";
    public const string BuildTimesFile = "malicious/pypi-malicious-build-times.tsv";
    public const string PopularityHistoryFile = "popularity/pypi-top-monthly.tsv.gz";

    /// <summary>
    /// How far before its report a build time is still believed as the upload time (3 years). Earlier times, and times after the
    /// report, are set by the uploader's tools (e.g. 2016-01-01T00:00:00 on 33 names) and are not believed; the report date is used.
    /// </summary>
    public static readonly TimeSpan MaxBuildLead = TimeSpan.FromDays(3 * 365);

    /// <summary>The date the snapshot was taken (2026-11): the observation time of every snapshot row.</summary>
    public static readonly DateTimeOffset SnapshotDate = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<SnapshotRow> ReadSnapshot(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return ReadSnapshot(reader, path);
    }

    public static IReadOnlyList<SnapshotRow> ReadSnapshot(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source} is empty");
        var columns = header.Split('\t');
        if (columns.Length < 5 || columns[0] != "name" || columns[3] != "rank_among_15000_most_downloaded")
        {
            throw new InvalidDataException($"{source} does not have the expected snapshot header (name, version, month, rank_among_15000_most_downloaded, summary)");
        }
        var rows = new List<SnapshotRow>(900_000);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var p = line.Split('\t');
            if (p.Length < 4 || p[0].Length == 0)
            {
                continue;
            }
            DateTimeOffset? month = DateTime.TryParseExact(p[2], "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var m)
                ? new DateTimeOffset(m, TimeSpan.Zero)
                : null;
            int? rank = int.TryParse(p[3], NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : null;
            rows.Add(new SnapshotRow(p[0], PackageName.NormalizePyPI(p[0]), p[1].Length == 0 ? null : p[1], month, rank, p.Length > 4 ? p[4] : string.Empty));
        }
        return rows;
    }

    public static IReadOnlyList<string> ReadAllowlist(string path) =>
        File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(PackageName.NormalizePyPI).Distinct(StringComparer.Ordinal).ToList();

    public static IReadOnlyList<MaliciousRow> ReadMalicious(string path)
    {
        using var reader = new StreamReader(path);
        return ReadMalicious(reader, path);
    }

    public static IReadOnlyList<MaliciousRow> ReadMalicious(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source} is empty");
        if (!header.StartsWith("name\tosv_id\tpublished", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source} does not have the expected header (name, osv_id, published, versions)");
        }
        var rows = new List<MaliciousRow>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var p = line.Split('\t');
            if (p.Length < 3 || p[0].Length == 0)
            {
                continue;
            }
            var published = DateTimeOffset.Parse(p[2], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var versions = p.Length > 3 ? p[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            rows.Add(new MaliciousRow(p[0], PackageName.NormalizePyPI(p[0]), p[1], published, versions));
        }
        return rows;
    }

    public static IReadOnlyList<BuildTimeRow> ReadBuildTimes(string path)
    {
        using var reader = new StreamReader(path);
        return ReadBuildTimes(reader, path);
    }

    public static IReadOnlyList<BuildTimeRow> ReadBuildTimes(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source} is empty");
        if (!header.StartsWith("name\tversions\tfirst_build\tlast_build", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source} does not have the expected header (name, versions, first_build, last_build, has_repo_url, requires_dist_count)");
        }
        var rows = new List<BuildTimeRow>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var p = line.Split('\t');
            if (p.Length < 4 || p[0].Length == 0)
            {
                continue;
            }
            static DateTimeOffset? Time(string text) => text.Length == 0 ? null
                : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            rows.Add(new BuildTimeRow(
                p[0], PackageName.NormalizePyPI(p[0]),
                p[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Time(p[2]), Time(p[3]),
                p.Length > 4 && bool.TryParse(p[4], out var repo) ? repo : null,
                p.Length > 5 && int.TryParse(p[5], NumberStyles.None, CultureInfo.InvariantCulture, out var deps) ? deps : null));
        }
        return rows;
    }

    /// <summary>
    /// The upload time of a malicious name: its earliest build time when that is believable (not after the report, and at most
    /// <see cref="MaxBuildLead"/> before it), else its report date. <c>FromBuild</c> says which.
    /// </summary>
    public static (DateTimeOffset Time, bool FromBuild) UploadTime(MaliciousRow row, BuildTimeRow? build) =>
        build?.FirstBuild is { } first && first <= row.Published.AddDays(1) && first >= row.Published - MaxBuildLead
            ? (first, true)
            : (row.Published, false);

    /// <summary>
    /// A reported malicious package as the mirror saw it at <paramref name="observedAt"/> (its upload, or later in its lifetime):
    /// its name and the versions of the report and of the recovered archives, no download rank (popularity data present).
    /// The repository link and dependency count of the archives are left out: the snapshot has neither for the other classes.
    /// </summary>
    public static PackageMetadataRecord ToRecord(MaliciousRow row, BuildTimeRow? build, DateTimeOffset observedAt)
    {
        var versions = row.Versions.Concat(build?.Versions ?? []).Distinct(StringComparer.Ordinal).ToList();
        return new PackageMetadataRecord
        {
            Name = row.Name,
            Ecosystem = Ecosystem.PyPI,
            ObservedAt = observedAt,
            LatestVersion = VersionString.Highest(versions),
            Versions = versions.Select(v => new ReleaseInfo(v, null)).ToList(),
            PopularityKnown = true,
        };
    }

    /// <summary>
    /// A snapshot row as the mirror sees it at sync time: latest version and its month, download rank (popularity data present:
    /// no rank means not among the most downloaded), summary. First release, release count and links are not in the snapshot: unknown.
    /// The package was on the index by the end of its latest release's month at the latest: a lower bound for its age, never more.
    /// </summary>
    public static PackageMetadataRecord ToRecord(SnapshotRow row) => new()
    {
        Name = row.Name,
        Ecosystem = Ecosystem.PyPI,
        ObservedAt = SnapshotDate,
        LatestVersion = row.Version,
        Versions = row.Version is null ? [] : [new ReleaseInfo(row.Version, row.LatestMonth)],
        LatestRelease = row.LatestMonth,
        KnownOnIndexBy = row.LatestMonth is { } month ? Min(month.AddMonths(1), SnapshotDate) : null,
        DownloadRank = row.Rank,
        PopularityKnown = true,
        Summary = row.Summary,
    };

    /// <summary>
    /// A reported malicious package as the mirror saw it when it was uploaded: its name and versions (when the report lists them),
    /// observed at the report date, with no download rank (a new upload is not among the most downloaded).
    /// Upload dates, summary and links are not in the report: unknown.
    /// </summary>
    public static PackageMetadataRecord ToRecord(MaliciousRow row) => new()
    {
        Name = row.Name,
        Ecosystem = Ecosystem.PyPI,
        ObservedAt = row.Published,
        LatestVersion = VersionString.Highest(row.Versions),
        Versions = row.Versions.Select(v => new ReleaseInfo(v, null)).ToList(),
        PopularityKnown = true,
    };

    /// <summary>
    /// The record as a brand-new project seen at sync time: first released when observed (zero days on the index). An assumption
    /// the malicious reports do not state; used only by the age experiment (<see cref="SplitSettings.MaliciousAsNewUploads"/>).
    /// </summary>
    public static PackageMetadataRecord AsNewUpload(PackageMetadataRecord record) => record with { FirstRelease = record.ObservedAt };

    /// <summary>The same record observed <paramref name="days"/> days later (a package that stayed on the index that long unnoticed).</summary>
    public static PackageMetadataRecord AgedBy(PackageMetadataRecord record, int days) =>
        record with { ObservedAt = record.ObservedAt?.AddDays(days) };

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>
    /// Finds the shared data folder: the given path if any, else a <c>shared/data</c> folder next to a parent of <paramref name="start"/>
    /// (the repository sits beside <c>shared/</c>). Null when none is found.
    /// </summary>
    public static string? FindDataDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "data"), Path.Combine(dir.FullName, "..", "shared", "data") })
            {
                if (File.Exists(Path.Combine(candidate, SnapshotFile)))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }
        return null;
    }
}
