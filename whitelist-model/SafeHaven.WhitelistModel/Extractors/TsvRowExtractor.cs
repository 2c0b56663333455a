using System.Globalization;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Builds records from a TSV table, as read by <c>safehaven whitelist score</c>. Recognised columns (case-insensitive):
/// <c>name</c> (required), <c>version</c>, <c>versions</c> (comma-separated), <c>first_release</c>, <c>last_release</c>
/// (ISO date/time or <c>YYYY-MM</c>), <c>release_count</c>, <c>download_rank</c> (blank: not among the most downloaded),
/// <c>has_source_repo</c> (true/false), <c>summary</c>, and optionally <c>source_repo</c>, <c>license</c>, <c>maintainer_count</c>,
/// <c>dependency_count</c>, <c>known_advisories</c>, <c>downloads</c>, <c>description</c>, <c>observed_at</c>.
/// Other columns are ignored; a blank cell or an absent column is unknown.
/// </summary>
public static class TsvRowExtractor
{
    public const string NameColumn = "name";

    /// <summary>Reads every row, in order. Throws <see cref="FormatException"/> naming the row and column of a bad cell.</summary>
    public static IReadOnlyList<PackageMetadataRecord> ExtractAll(TsvTable table, Ecosystem ecosystem, DateTimeOffset observedAt)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!table.HasColumn(NameColumn))
        {
            throw new FormatException($"the TSV header has no 'name' column (columns found: {string.Join(", ", table.Header.Select(h => $"'{h}'"))}).");
        }
        var records = new List<PackageMetadataRecord>(table.Rows.Count);
        for (var i = 0; i < table.Rows.Count; i++)
        {
            records.Add(Extract(table, table.Rows[i], i + 2, ecosystem, observedAt));
        }
        return records;
    }

    private static PackageMetadataRecord Extract(TsvTable table, string[] row, int line, Ecosystem ecosystem, DateTimeOffset observedAt)
    {
        string? Cell(string column) => table.Get(row, column);
        var name = Cell(NameColumn) ?? throw new FormatException($"line {line}: the 'name' cell is blank.");

        var versionList = Cell("versions")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var latest = Cell("version");
        var versions = versionList.Select(v => new ReleaseInfo(v, null)).ToList();
        if (latest is not null && !versionList.Contains(latest, StringComparer.Ordinal))
        {
            versions.Add(new ReleaseInfo(latest, null));
        }
        var highest = VersionString.Highest(versions.Select(v => v.Version));

        var observed = ParseDate(Cell("observed_at"), line, "observed_at") ?? observedAt;
        var hasSource = Cell("has_source_repo") switch
        {
            null => (bool?)null,
            var v when v.Equals("true", StringComparison.OrdinalIgnoreCase) || v is "1" || v.Equals("yes", StringComparison.OrdinalIgnoreCase) => true,
            var v when v.Equals("false", StringComparison.OrdinalIgnoreCase) || v is "0" || v.Equals("no", StringComparison.OrdinalIgnoreCase) => false,
            var v => throw new FormatException($"line {line}: has_source_repo '{v}' is not true, false or blank."),
        };
        var sourceRepo = Cell("source_repo");
        return new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = ecosystem,
            ObservedAt = observed,
            LatestVersion = highest,
            Versions = versions,
            FirstRelease = ParseDate(Cell("first_release"), line, "first_release"),
            LatestRelease = ParseDate(Cell("last_release"), line, "last_release"),
            ReleaseCount = ParseInt(Cell("release_count"), line, "release_count"),
            DownloadRank = ParseInt(Cell("download_rank"), line, "download_rank"),
            PopularityKnown = table.HasColumn("download_rank"),
            DownloadCount = ParseInt(Cell("downloads"), line, "downloads"),
            HasSourceRepository = hasSource ?? (sourceRepo is not null ? true : null),
            SourceRepository = sourceRepo,
            Summary = table.HasColumn("summary") ? Cell("summary") ?? string.Empty : null,
            Description = Cell("description"),
            License = Cell("license"),
            MaintainerCount = ParseInt(Cell("maintainer_count"), line, "maintainer_count"),
            DependencyCount = ParseInt(Cell("dependency_count"), line, "dependency_count"),
            KnownAdvisories = ParseInt(Cell("known_advisories"), line, "known_advisories"),
        };
    }

    private static int? ParseInt(string? text, int line, string column)
    {
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            : throw new FormatException($"line {line}: {column} '{text}' is not a non-negative whole number.");
    }

    /// <summary>Parses <c>YYYY-MM</c> (first day of the month, UTC), <c>YYYY-MM-DD</c> or an ISO 8601 date-time; null for a blank.</summary>
    public static DateTimeOffset? ParseDate(string? text, int line, string column)
    {
        if (text is null)
        {
            return null;
        }
        string[] formats = ["yyyy-MM", "yyyy-MM-dd"];
        if (DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d))
        {
            return new DateTimeOffset(d, TimeSpan.Zero);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dt)
            && text.Length >= 10 && text[4] == '-')
        {
            return dt;
        }
        throw new FormatException($"line {line}: {column} '{text}' is not an ISO date (YYYY-MM-DD, YYYY-MM or an ISO date-time).");
    }
}
