using System.Globalization;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Features;

/// <summary>
/// Computes every feature of <see cref="FeatureCatalog"/> from a <see cref="PackageMetadataRecord"/>.
/// A feature whose metadata is unknown has a null value; nothing is guessed.
/// </summary>
public sealed class PackageFeatureExtractor
{
    /// <summary>Depth of the download ranking that <see cref="FeatureCatalog.DownloadPopularity"/> is measured against.</summary>
    public const int RankingDepth = 15000;

    private static readonly string[] PlaceholderVersions = ["0", "0.0", "0.0.0", "0.0.1", "0.1", "0.1.0", "1", "1.0", "1.0.0"];

    private static readonly string[] PlaceholderSummaries =
    [
        "my short description for my project", "a small example package", "a sample python project", "add a short description here",
        "short description", "a short description of the project", "description", "test", "a test package", "package description",
        "summary", "unknown", "none", "todo", "my first python package", "a python package",
    ];

    private readonly PopularNameIndex _popular;
    private readonly NameLanguageModel _language;
    private readonly PopularityHistory? _history;

    /// <summary>Months after which "months since last among the most downloaded" stops growing (and its value when never ranked).</summary>
    public const int MonthsSinceCap = 120;

    /// <param name="popular">The popular names the name features compare against.</param>
    /// <param name="history">The monthly top lists; without it the popularity-history features are unknown.</param>
    public PackageFeatureExtractor(PopularNameIndex popular, PopularityHistory? history = null)
    {
        _popular = popular ?? throw new ArgumentNullException(nameof(popular));
        _language = new NameLanguageModel(popular.Names);
        _history = history;
    }

    /// <summary>The popularity history the history features are built from, if any.</summary>
    public PopularityHistory? History => _history;

    public FeatureVector Extract(PackageMetadataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var name = record.NormalizedName;
        var values = new List<FeatureValue>(FeatureCatalog.All.Count);
        void Add(FeatureDefinition d, double? v, string? shown = null) =>
            values.Add(new FeatureValue(d, v, v is null ? "unknown" : shown ?? (d.IsBinary ? (v.Value != 0 ? "yes" : "no") : Format(v.Value))));

        // Name shape.
        var letters = name.Count(char.IsAsciiLetter);
        var digits = name.Count(char.IsAsciiDigit);
        var compact = name.Count(c => c != '-');
        Add(FeatureCatalog.NameLength, name.Length);
        Add(FeatureCatalog.NameDigitShare, compact == 0 ? 0 : (double)digits / compact);
        Add(FeatureCatalog.NameEndsWithDigits, name.Length > 0 && char.IsAsciiDigit(name[^1]) ? 1 : 0);
        Add(FeatureCatalog.NameWords, name.Split('-', StringSplitOptions.RemoveEmptyEntries).Length);
        Add(FeatureCatalog.NameConsonantRun, LongestConsonantRun(name));
        Add(FeatureCatalog.NameVowelShare, letters == 0 ? 0 : (double)name.Count(IsVowel) / letters);
        Add(FeatureCatalog.NameLongestWord, name.Split('-').Max(w => w.Length));
        Add(FeatureCatalog.NamePlausibility, _language.AverageLogProbability(name));

        // Popularity and closeness to popular names.
        bool? popular = record.DownloadRank is not null ? true : record.PopularityKnown ? false : null;
        var nearest = _popular.Nearest(name);
        Add(FeatureCatalog.NearestPopularDistance, nearest?.Distance ?? PopularNameIndex.MaxDistance + 1,
            nearest is null ? $"more than {PopularNameIndex.MaxDistance}" : $"{nearest.Distance} (to '{nearest.Name}')");
        Add(FeatureCatalog.TypoOfPopular, popular is null ? null : (!popular.Value && nearest is not null ? 1 : 0),
            nearest is not null && popular == false ? $"yes (near '{nearest.Name}')" : null);
        var extended = _popular.ExtendedPopularName(name);
        Add(FeatureCatalog.ExtendsPopular, popular is null ? null : (!popular.Value && extended is not null ? 1 : 0),
            extended is not null && popular == false ? $"yes (extends '{extended}')" : null);
        var joined = _popular.PopularWords(name);
        Add(FeatureCatalog.JoinsPopularNames, popular is null ? null : (!popular.Value && joined.Count >= 2 ? 1 : 0),
            joined.Count >= 2 && popular == false ? $"yes ({string.Join(" + ", joined)})" : null);
        Add(FeatureCatalog.IsPopular, popular is null ? null : popular.Value ? 1 : 0,
            record.DownloadRank is { } rank ? $"yes (rank {rank.ToString(CultureInfo.InvariantCulture)})" : null);
        Add(FeatureCatalog.DownloadPopularity, popular is null ? null : record.DownloadRank is { } r ? Math.Max(0, Math.Log10((double)RankingDepth / Math.Max(1, r))) : 0);

        // Popularity history: only months whose list was complete before the observation date, the same for every package.
        var history = _history is not null && record.ObservedAt is { } asOf ? _history.Summarise(name, asOf) : null;
        Add(FeatureCatalog.EverPopular, history is null ? null : history.EverRanked ? 1 : 0,
            history is { EverRanked: true } ? $"yes ({history.MonthsRanked.ToString(CultureInfo.InvariantCulture)} of {history.MonthsAvailable.ToString(CultureInfo.InvariantCulture)} months)" : history is null ? null : $"no (in {history.MonthsAvailable.ToString(CultureInfo.InvariantCulture)} months of lists)");
        Add(FeatureCatalog.BestRankPopularity, history is null ? null : history.BestRank is { } best ? Math.Max(0, Math.Log10((double)RankingDepth / best)) : 0,
            history?.BestRank is { } b ? $"best rank {b.ToString(CultureInfo.InvariantCulture)}" : history is null ? null : "never ranked");
        Add(FeatureCatalog.MonthsRanked, history is null ? null : Math.Log(1 + history.MonthsRanked), history is null ? null : $"{history.MonthsRanked.ToString(CultureInfo.InvariantCulture)} months");
        Add(FeatureCatalog.MonthsSinceRanked, history is null ? null : Math.Min(MonthsSinceCap, history.MonthsSinceLastRanked ?? MonthsSinceCap),
            history is null ? null : history.LastRankedMonth is { } last ? $"{history.MonthsSinceLastRanked!.Value.ToString(CultureInfo.InvariantCulture)} months (last ranked {last:yyyy-MM})" : "never ranked");

        // Latest version.
        var version = record.LatestVersion is null ? null : VersionString.Parse(record.LatestVersion);
        Add(FeatureCatalog.VersionPlaceholder, version is null ? null : IsPlaceholder(version) ? 1 : 0, version is null ? null : $"{(IsPlaceholder(version) ? "yes" : "no")} ({version.Text})");
        var confusion = version is not null && LooksLikeDependencyConfusion(version);
        Add(FeatureCatalog.VersionDependencyConfusion, version is null ? null : confusion ? 1 : 0, version is null ? null : $"{(confusion ? "yes" : "no")} ({version.Text})");
        bool? everPopular = popular is null ? null : popular.Value || (history?.EverRanked ?? false);
        var confusionNeverPopular = confusion && everPopular == false;
        Add(FeatureCatalog.VersionDependencyConfusionUnpopular, version is null || everPopular is null || history is null ? null : confusionNeverPopular ? 1 : 0,
            version is null ? null : $"{(confusionNeverPopular ? "yes" : "no")} ({version.Text}{(confusion && everPopular == true ? ", but among the most downloaded" : string.Empty)})");
        var maintained = version is not null && version.Major < 90 && version.Release.Skip(1).Any(c => c >= 2);
        Add(FeatureCatalog.VersionShowsMaintenance, version is null ? null : maintained ? 1 : 0, version is null ? null : $"{(maintained ? "yes" : "no")} ({version.Text})");
        Add(FeatureCatalog.VersionNotPep440, version is null ? null : version.IsPep440 ? 0 : 1);
        Add(FeatureCatalog.VersionPreRelease, version is null ? null : version.IsPreRelease ? 1 : 0);

        // Release history.
        var observed = record.ObservedAt;
        Add(FeatureCatalog.DaysSinceFirstRelease, DaysLog(observed, record.FirstRelease), ShownDays(observed, record.FirstRelease));
        var onIndexSince = record.FirstRelease ?? record.KnownOnIndexBy ?? record.LatestRelease;
        Add(FeatureCatalog.DaysOnIndex, DaysLog(observed, onIndexSince), ShownDays(observed, onIndexSince));
        Add(FeatureCatalog.DaysSinceLatestRelease, DaysLog(observed, record.LatestRelease), ShownDays(observed, record.LatestRelease));
        double? lastYear = null;
        if (observed is not null && record.ReleaseCount is not null && record.Versions.Count > 0 && record.Versions.All(v => v.UploadedAt is not null))
        {
            lastYear = record.Versions.Count(v => v.UploadedAt > observed.Value.AddDays(-365) && v.UploadedAt <= observed.Value);
        }
        Add(FeatureCatalog.ReleasesLastYear, lastYear);
        Add(FeatureCatalog.ReleaseCount, record.ReleaseCount is { } count ? Math.Log(1 + count) : null, record.ReleaseCount?.ToString(CultureInfo.InvariantCulture));
        var cadence = record.MedianDaysBetweenReleases;
        Add(FeatureCatalog.ReleaseCadence, cadence is null ? null : Math.Log(1 + cadence.Value), cadence is null ? null : $"{cadence.Value:0.#} days");

        // Project information.
        Add(FeatureCatalog.HasSourceRepo, record.HasSourceRepository is null ? null : record.HasSourceRepository.Value ? 1 : 0,
            record.SourceRepository is not null ? $"yes ({record.SourceRepository})" : null);
        var summary = record.Summary?.Trim();
        Add(FeatureCatalog.SummaryEmpty, summary is null ? null : summary.Length == 0 ? 1 : 0);
        Add(FeatureCatalog.SummaryPlaceholder, summary is null ? null : IsPlaceholderSummary(summary, name) ? 1 : 0,
            summary is not null && IsPlaceholderSummary(summary, name) ? $"yes (\"{summary}\")" : null);
        Add(FeatureCatalog.MaintainerCount, record.MaintainerCount);
        Add(FeatureCatalog.DependencyCount, record.DependencyCount);
        Add(FeatureCatalog.HasLicense, record.License is null ? null : string.IsNullOrWhiteSpace(record.License) || record.License.Equals("unknown", StringComparison.OrdinalIgnoreCase) ? 0 : 1);
        Add(FeatureCatalog.KnownAdvisories, record.KnownAdvisories);
        return new FeatureVector(values);
    }

    private static string Format(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e9 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static double? DaysLog(DateTimeOffset? observed, DateTimeOffset? then) =>
        observed is null || then is null ? null : Math.Log(1 + Math.Max(0, (observed.Value - then.Value).TotalDays));

    private static string? ShownDays(DateTimeOffset? observed, DateTimeOffset? then) =>
        observed is null || then is null ? null : $"{Math.Max(0, (observed.Value - then.Value).TotalDays):0} days (since {then.Value:yyyy-MM-dd})";

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u' or 'y';

    private static int LongestConsonantRun(string name)
    {
        int best = 0, run = 0;
        foreach (var c in name)
        {
            run = char.IsAsciiLetter(c) && !IsVowel(c) ? run + 1 : 0;
            best = Math.Max(best, run);
        }
        return best;
    }

    /// <summary>Major version of 90 or more that is not a calendar version (a year 1990-2100, or a yyyymmdd / yyyymm date).</summary>
    internal static bool LooksLikeDependencyConfusion(VersionString v) =>
        v.Major is { } major && major >= 90
        && !(major is >= 1990 and <= 2100)
        && !(major is >= 19900101 and <= 21001231)
        && !(major is >= 199001 and <= 210012);

    internal static bool IsPlaceholder(VersionString v) =>
        PlaceholderVersions.Contains(v.Text, StringComparer.Ordinal);

    internal static bool IsPlaceholderSummary(string summary, string normalizedName)
    {
        var s = summary.Trim().TrimEnd('.').ToLowerInvariant();
        return PlaceholderSummaries.Contains(s, StringComparer.Ordinal)
            || SafeHaven.Core.Packages.PackageName.NormalizePyPI(s.Replace(' ', '-')) == normalizedName;
    }
}
