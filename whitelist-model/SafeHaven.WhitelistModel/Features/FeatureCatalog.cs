namespace SafeHaven.WhitelistModel.Features;

/// <summary>Every feature the whitelist model can compute, with its plain-words meaning.</summary>
public static class FeatureCatalog
{
    public static readonly FeatureDefinition NameLength = new("name_length", "name length in characters", false, "name");
    public static readonly FeatureDefinition NameDigitShare = new("name_digit_share", "share of digits in the name", false, "name");
    public static readonly FeatureDefinition NameEndsWithDigits = new("name_ends_with_digits", "name ends with digits", true, "name");
    public static readonly FeatureDefinition NameWords = new("name_words", "number of '-'-separated words in the name", false, "name");
    public static readonly FeatureDefinition NameConsonantRun = new("name_longest_consonant_run", "longest run of consonants in the name", false, "name");
    public static readonly FeatureDefinition NameVowelShare = new("name_vowel_share", "share of vowels among the letters of the name", false, "name");
    public static readonly FeatureDefinition NameLongestWord = new("name_longest_word", "length of the longest '-'-separated word in the name", false, "name");
    public static readonly FeatureDefinition NamePlausibility = new("name_reads_like_popular_names", "how much the name reads like popular package names (average character-trigram log2-probability)", false, "name, popular names");
    public static readonly FeatureDefinition NearestPopularDistance = new("nearest_popular_distance", "edit distance to the nearest popular name (3 means more than 2), and that name", false, "name, popular names");
    public static readonly FeatureDefinition TypoOfPopular = new("typo_of_popular_name", "one or two edits away from a popular name while not popular itself", true, "name, popular names, download rank");
    public static readonly FeatureDefinition ExtendsPopular = new("extends_popular_name", "a popular name with a prefix or suffix added, while not popular itself", true, "name, popular names, download rank");
    public static readonly FeatureDefinition JoinsPopularNames = new("joins_popular_names", "joins two or more popular names (e.g. 'pandas-numpy'), while not popular itself", true, "name, popular names, download rank");
    public static readonly FeatureDefinition IsPopular = new("among_most_downloaded", "among the most downloaded packages", true, "download rank");
    public static readonly FeatureDefinition DownloadPopularity = new("download_popularity", "log10(15000 / download rank), 0 when not among the most downloaded", false, "download rank");
    public static readonly FeatureDefinition EverPopular = new("ever_among_most_downloaded", "ever among the most downloaded in a monthly top list before the scoring date", true, "popularity history");
    public static readonly FeatureDefinition BestRankPopularity = new("best_monthly_rank_popularity", "log10(15000 / best monthly rank) before the scoring date, 0 when never ranked", false, "popularity history");
    public static readonly FeatureDefinition MonthsRanked = new("months_among_most_downloaded", "months among the most downloaded before the scoring date (log scale)", false, "popularity history");
    public static readonly FeatureDefinition MonthsSinceRanked = new("months_since_among_most_downloaded", "months since it was last among the most downloaded (120 when never, or longer ago)", false, "popularity history");
    public static readonly FeatureDefinition VersionPlaceholder = new("version_is_placeholder", "latest version is a first-upload placeholder (0, 0.0, 0.0.0, 0.0.1, 0.1, 0.1.0, 1, 1.0, 1.0.0)", true, "latest version");
    public static readonly FeatureDefinition VersionDependencyConfusion = new("version_dependency_confusion", "version looks like dependency confusion (major >= 90, not a calendar year or date)", true, "latest version");
    public static readonly FeatureDefinition VersionDependencyConfusionUnpopular = new("version_dependency_confusion_never_popular", "version looks like dependency confusion (major >= 90, not a calendar version) while the package was never among the most downloaded", true, "latest version, download rank, popularity history");
    public static readonly FeatureDefinition VersionShowsMaintenance = new("version_shows_maintenance", "version shows later releases (a minor or patch number of 2 or more, major below 90)", true, "latest version");
    public static readonly FeatureDefinition VersionNotPep440 = new("version_not_pep440", "version does not follow PEP 440", true, "latest version");
    public static readonly FeatureDefinition VersionPreRelease = new("version_is_prerelease", "latest version is a pre-release or development build", true, "latest version");
    public static readonly FeatureDefinition DaysSinceFirstRelease = new("days_since_first_release", "days since first release (log scale)", false, "first release date");
    public static readonly FeatureDefinition DaysOnIndex = new("days_on_index_at_least", "days the package has been on the index, at least: since its first release, or, when that is unknown, since a date it is known to have been there (log scale)", false, "first release date, or latest release date");
    public static readonly FeatureDefinition DaysSinceLatestRelease = new("days_since_latest_release", "days since latest release (log scale)", false, "latest release date");
    public static readonly FeatureDefinition ReleasesLastYear = new("releases_in_last_year", "releases in the last year", false, "dated version list");
    public static readonly FeatureDefinition ReleaseCount = new("release_count", "number of releases (log scale)", false, "release count");
    public static readonly FeatureDefinition ReleaseCadence = new("median_days_between_releases", "median days between releases (log scale)", false, "dated version list");
    public static readonly FeatureDefinition HasSourceRepo = new("has_source_repository", "has a linked source repository", true, "project links");
    public static readonly FeatureDefinition SummaryEmpty = new("summary_empty", "summary empty", true, "summary");
    public static readonly FeatureDefinition SummaryPlaceholder = new("summary_placeholder", "summary is a template placeholder or repeats the name", true, "summary");
    public static readonly FeatureDefinition MaintainerCount = new("maintainer_count", "number of named authors and maintainers", false, "author and maintainer fields");
    public static readonly FeatureDefinition DependencyCount = new("dependency_count", "number of declared dependencies", false, "dependency metadata");
    public static readonly FeatureDefinition HasLicense = new("has_license", "declares a licence", true, "licence field");
    public static readonly FeatureDefinition KnownAdvisories = new("known_advisories", "number of known security advisories", false, "advisory database");

    public static readonly IReadOnlyList<FeatureDefinition> All =
    [
        NameLength, NameDigitShare, NameEndsWithDigits, NameWords, NameConsonantRun, NameVowelShare, NameLongestWord, NamePlausibility,
        NearestPopularDistance, TypoOfPopular, ExtendsPopular, JoinsPopularNames, IsPopular, DownloadPopularity,
        EverPopular, BestRankPopularity, MonthsRanked, MonthsSinceRanked,
        VersionPlaceholder, VersionDependencyConfusion, VersionDependencyConfusionUnpopular, VersionShowsMaintenance, VersionNotPep440, VersionPreRelease,
        DaysSinceFirstRelease, DaysOnIndex, DaysSinceLatestRelease, ReleasesLastYear, ReleaseCount, ReleaseCadence,
        HasSourceRepo, SummaryEmpty, SummaryPlaceholder, MaintainerCount, DependencyCount, HasLicense, KnownAdvisories,
    ];

    /// <summary>Features built from the monthly popularity history: a model using any of them needs the history file.</summary>
    public static readonly IReadOnlyList<FeatureDefinition> PopularityHistoryFeatures = [EverPopular, BestRankPopularity, MonthsRanked, MonthsSinceRanked, VersionDependencyConfusionUnpopular];

    /// <summary>Popularity evidence: the features whose effect is never capped (see <c>ModelFeature.MaxEffect</c>).</summary>
    public static readonly IReadOnlyList<FeatureDefinition> PopularityEvidence = [IsPopular, DownloadPopularity, EverPopular, BestRankPopularity, MonthsRanked, MonthsSinceRanked];

    public static FeatureDefinition? Find(string id) => All.FirstOrDefault(f => f.Id == id);
}
