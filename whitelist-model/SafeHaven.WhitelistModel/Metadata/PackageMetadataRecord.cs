namespace SafeHaven.WhitelistModel.Metadata;

/// <summary>The package ecosystems whose metadata the whitelist model understands.</summary>
public enum Ecosystem
{
    PyPI,
    Cran,
    NuGet,
    Conda,
    Apt,
}

/// <summary>Parsing and naming of <see cref="Ecosystem"/> values as they appear on the command line and in files.</summary>
public static class EcosystemNames
{
    /// <summary>Lower-case identifier: <c>pypi</c>, <c>cran</c>, <c>nuget</c>, <c>conda</c>, <c>apt</c>.</summary>
    public static string ToId(this Ecosystem ecosystem) => ecosystem switch
    {
        Ecosystem.PyPI => "pypi",
        Ecosystem.Cran => "cran",
        Ecosystem.NuGet => "nuget",
        Ecosystem.Conda => "conda",
        Ecosystem.Apt => "apt",
        _ => throw new ArgumentOutOfRangeException(nameof(ecosystem)),
    };

    /// <summary>Parses an identifier (case-insensitive); null when it is not a known ecosystem.</summary>
    public static Ecosystem? TryParse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "pypi" => Ecosystem.PyPI,
        "cran" => Ecosystem.Cran,
        "nuget" => Ecosystem.NuGet,
        "conda" => Ecosystem.Conda,
        "apt" or "debian" => Ecosystem.Apt,
        _ => null,
    };

    /// <summary>All identifiers, for error messages.</summary>
    public static string AllIds => string.Join(", ", Enum.GetValues<Ecosystem>().Select(e => e.ToId()));
}

/// <summary>One published version of a package and, when the source says so, when it was uploaded.</summary>
public sealed record ReleaseInfo(string Version, DateTimeOffset? UploadedAt, bool Yanked = false);

/// <summary>
/// Package metadata common to every ecosystem, as a mirror sees it. Every property that a source may not
/// provide is nullable: <c>null</c> means unknown and is never replaced by a guess.
/// </summary>
public sealed record PackageMetadataRecord
{
    /// <summary>The package name as published.</summary>
    public required string Name { get; init; }

    public required Ecosystem Ecosystem { get; init; }

    /// <summary>When this record was observed; features such as "days since first release" are measured from it. Null: unknown.</summary>
    public DateTimeOffset? ObservedAt { get; init; }

    /// <summary>Latest version string (highest known), or null when unknown.</summary>
    public string? LatestVersion { get; init; }

    /// <summary>Known versions, with upload dates where the source has them. Empty: none known.</summary>
    public IReadOnlyList<ReleaseInfo> Versions { get; init; } = [];

    public DateTimeOffset? FirstRelease { get; init; }

    public DateTimeOffset? LatestRelease { get; init; }

    /// <summary>
    /// A date by which the package is known to have been on the index, for a source that gives no first-release date
    /// (e.g. the end of the month of its latest release): a lower bound for its age. Null: unknown.
    /// </summary>
    public DateTimeOffset? KnownOnIndexBy { get; init; }

    /// <summary>Number of releases, when the source tells it (not inferred from a partial version list).</summary>
    public int? ReleaseCount { get; init; }

    /// <summary>Rank among the most downloaded packages (1 = most downloaded). Null: unknown or not ranked, see <see cref="PopularityKnown"/>.</summary>
    public int? DownloadRank { get; init; }

    /// <summary>Total downloads where the ecosystem reports them (NuGet totalDownloads).</summary>
    public long? DownloadCount { get; init; }

    /// <summary>
    /// True when the source had popularity data, so that a null <see cref="DownloadRank"/> means "not among the most downloaded";
    /// false when popularity is unknown.
    /// </summary>
    public bool PopularityKnown { get; init; }

    public int? MaintainerCount { get; init; }

    /// <summary>Linked source repository URL; null when none is known.</summary>
    public string? SourceRepository { get; init; }

    /// <summary>True/false when the metadata was read and did or did not link a source repository; null when unknown.</summary>
    public bool? HasSourceRepository { get; init; }

    public string? License { get; init; }

    public string? Summary { get; init; }

    public string? Description { get; init; }

    public int? DependencyCount { get; init; }

    /// <summary>Known security advisories against the package; null when not checked.</summary>
    public int? KnownAdvisories { get; init; }

    /// <summary>PEP 503 normalised name for PyPI, lower-case name elsewhere.</summary>
    public string NormalizedName => Ecosystem == Ecosystem.PyPI
        ? SafeHaven.Core.Packages.PackageName.NormalizePyPI(Name)
        : Name.Trim().ToLowerInvariant();

    /// <summary>Median number of days between consecutive dated releases; null with fewer than two dated releases.</summary>
    public double? MedianDaysBetweenReleases
    {
        get
        {
            var dates = Versions.Where(v => v.UploadedAt is not null).Select(v => v.UploadedAt!.Value).Order().ToList();
            if (dates.Count < 2)
            {
                return null;
            }
            var gaps = new List<double>(dates.Count - 1);
            for (var i = 1; i < dates.Count; i++)
            {
                gaps.Add((dates[i] - dates[i - 1]).TotalDays);
            }
            gaps.Sort();
            var mid = gaps.Count / 2;
            return gaps.Count % 2 == 1 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2.0;
        }
    }

    /// <summary>
    /// Fills <see cref="FirstRelease"/>, <see cref="LatestRelease"/>, <see cref="ReleaseCount"/> and <see cref="LatestVersion"/>
    /// from <see cref="Versions"/> where they are not already set and the versions carry the information.
    /// </summary>
    public PackageMetadataRecord WithDerivedReleaseFacts(bool versionListIsComplete)
    {
        var dated = Versions.Where(v => v.UploadedAt is not null).Select(v => v.UploadedAt!.Value).ToList();
        return this with
        {
            FirstRelease = FirstRelease ?? (versionListIsComplete && dated.Count > 0 ? dated.Min() : null),
            LatestRelease = LatestRelease ?? (dated.Count > 0 ? dated.Max() : null),
            ReleaseCount = ReleaseCount ?? (versionListIsComplete && Versions.Count > 0 ? Versions.Count : null),
            LatestVersion = LatestVersion ?? VersionString.Highest(Versions.Select(v => v.Version)),
        };
    }
}
