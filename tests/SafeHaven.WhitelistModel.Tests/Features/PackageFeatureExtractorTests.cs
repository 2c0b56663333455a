using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Features;

public sealed class PackageFeatureExtractorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PackageFeatureExtractor Extractor =
        new(new PopularNameIndex(["requests", "numpy", "pandas", "django", "flask", "python-dateutil", "six"]));

    private static PackageMetadataRecord Record(string name, string? version = null, int? rank = null, bool popularityKnown = true) => new()
    {
        Name = name,
        Ecosystem = Ecosystem.PyPI,
        ObservedAt = Now,
        LatestVersion = version,
        DownloadRank = rank,
        PopularityKnown = popularityKnown,
    };

    private static FeatureValue F(PackageMetadataRecord r, FeatureDefinition d) => Extractor.Extract(r)[d.Id];

    [Fact]
    public void Every_catalog_feature_is_computed_once_with_words()
    {
        var v = Extractor.Extract(Record("x"));
        Assert.Equal(FeatureCatalog.All.Select(f => f.Id), v.Values.Select(x => x.Definition.Id));
        Assert.All(FeatureCatalog.All, f => Assert.False(string.IsNullOrWhiteSpace(f.Words)));
        Assert.Equal(FeatureCatalog.All.Count, FeatureCatalog.All.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void Name_shape_features()
    {
        var r = Record("Py_Crypto-Tool2024");
        Assert.Equal(18, F(r, FeatureCatalog.NameLength).Value); // normalised: py-crypto-tool2024
        Assert.Equal(4.0 / 16, F(r, FeatureCatalog.NameDigitShare).Value);
        Assert.Equal(1, F(r, FeatureCatalog.NameEndsWithDigits).Value);
        Assert.Equal(3, F(r, FeatureCatalog.NameWords).Value);
        Assert.Equal(8, F(r, FeatureCatalog.NameLongestWord).Value);
        Assert.Equal(3, F(Record("j5gnpuiw"), FeatureCatalog.NameConsonantRun).Value); // g-n-p
        Assert.Equal(0.5, F(Record("abab"), FeatureCatalog.NameVowelShare).Value);
    }

    [Fact]
    public void Distance_to_the_nearest_popular_name_names_it_and_excludes_the_name_itself()
    {
        var typo = F(Record("reqeusts"), FeatureCatalog.NearestPopularDistance);
        Assert.Equal(1, typo.Value); // a swap of neighbours is one edit
        Assert.Contains("'requests'", typo.Shown, StringComparison.Ordinal);
        Assert.Equal(3, F(Record("requests", rank: 1), FeatureCatalog.NearestPopularDistance).Value);
        Assert.Equal(2, F(Record("pndass"), FeatureCatalog.NearestPopularDistance).Value);
    }

    [Fact]
    public void Typo_extension_and_join_of_popular_names_count_only_for_unpopular_names()
    {
        Assert.Equal(1, F(Record("reqeusts"), FeatureCatalog.TypoOfPopular).Value);
        Assert.Equal(0, F(Record("numpy", rank: 3), FeatureCatalog.TypoOfPopular).Value);
        Assert.Null(F(Record("reqeusts", popularityKnown: false), FeatureCatalog.TypoOfPopular).Value);
        Assert.Equal(1, F(Record("requests-toolkit"), FeatureCatalog.ExtendsPopular).Value);
        Assert.Equal(0, F(Record("six-utils"), FeatureCatalog.ExtendsPopular).Value); // "six" is too short to count
        Assert.Equal(1, F(Record("pandas-numpy"), FeatureCatalog.JoinsPopularNames).Value);
        Assert.Contains("pandas + numpy", F(Record("pandas-numpy"), FeatureCatalog.JoinsPopularNames).Shown, StringComparison.Ordinal);
        Assert.Equal(0, F(Record("pandas-tools"), FeatureCatalog.JoinsPopularNames).Value);
    }

    [Fact]
    public void Popularity_features_distinguish_unranked_from_unknown()
    {
        Assert.Equal(1, F(Record("numpy", rank: 15), FeatureCatalog.IsPopular).Value);
        Assert.Equal(3, F(Record("numpy", rank: 15), FeatureCatalog.DownloadPopularity).Value!.Value, 6);
        Assert.Equal(0, F(Record("newpkg"), FeatureCatalog.IsPopular).Value);
        Assert.Equal(0, F(Record("newpkg"), FeatureCatalog.DownloadPopularity).Value);
        Assert.Null(F(Record("newpkg", popularityKnown: false), FeatureCatalog.IsPopular).Value);
        Assert.Null(F(Record("newpkg", popularityKnown: false), FeatureCatalog.DownloadPopularity).Value);
    }

    [Theory]
    [InlineData("99.0.1", 1, 0, 0)]
    [InlineData("912.6", 1, 0, 0)]
    [InlineData("2024.1.1", 0, 0, 0)]
    [InlineData("20240103", 0, 0, 0)]
    [InlineData("1.0.0", 0, 1, 0)]
    [InlineData("0.0.1", 0, 1, 0)]
    [InlineData("0.0.7", 0, 0, 1)]
    [InlineData("0.13.2", 0, 0, 1)]
    public void Version_features(string version, int confusion, int placeholder, int maintenance)
    {
        var r = Record("pkg", version);
        Assert.Equal(confusion, F(r, FeatureCatalog.VersionDependencyConfusion).Value);
        Assert.Equal(placeholder, F(r, FeatureCatalog.VersionPlaceholder).Value);
        Assert.Equal(maintenance, F(r, FeatureCatalog.VersionShowsMaintenance).Value);
        Assert.Equal(0, F(r, FeatureCatalog.VersionNotPep440).Value);
    }

    [Fact]
    public void Version_features_are_unknown_without_a_version()
    {
        var r = Record("pkg");
        Assert.Null(F(r, FeatureCatalog.VersionPlaceholder).Value);
        Assert.Equal("unknown", F(r, FeatureCatalog.VersionDependencyConfusion).Shown);
        Assert.Equal(1, F(Record("pkg", "1.0-SNAPSHOT"), FeatureCatalog.VersionNotPep440).Value);
        Assert.Equal(1, F(Record("pkg", "2.0.0rc1"), FeatureCatalog.VersionPreRelease).Value);
    }

    [Fact]
    public void Release_history_features()
    {
        var r = Record("pkg") with
        {
            FirstRelease = Now.AddDays(-1000),
            LatestRelease = Now.AddDays(-10),
            ReleaseCount = 4,
            Versions =
            [
                new ReleaseInfo("1.0", Now.AddDays(-1000)), new ReleaseInfo("1.1", Now.AddDays(-400)),
                new ReleaseInfo("1.2", Now.AddDays(-100)), new ReleaseInfo("1.3", Now.AddDays(-10)),
            ],
        };
        Assert.Equal(Math.Log(1001), F(r, FeatureCatalog.DaysSinceFirstRelease).Value!.Value, 6);
        Assert.Contains("1000 days", F(r, FeatureCatalog.DaysSinceFirstRelease).Shown, StringComparison.Ordinal);
        Assert.Equal(Math.Log(11), F(r, FeatureCatalog.DaysSinceLatestRelease).Value!.Value, 6);
        Assert.Equal(2, F(r, FeatureCatalog.ReleasesLastYear).Value);
        Assert.Equal(Math.Log(5), F(r, FeatureCatalog.ReleaseCount).Value!.Value, 6);
        Assert.Equal(Math.Log(1 + 300), F(r, FeatureCatalog.ReleaseCadence).Value!.Value, 6); // gaps 600, 300, 90
        var unknown = Record("pkg");
        Assert.Null(F(unknown, FeatureCatalog.DaysSinceFirstRelease).Value);
        Assert.Null(F(unknown, FeatureCatalog.ReleasesLastYear).Value);
        Assert.Null(F(unknown, FeatureCatalog.ReleaseCadence).Value);
    }

    [Fact]
    public void Days_on_the_index_uses_the_first_release_else_a_known_date_else_the_latest_release()
    {
        var first = Record("pkg") with { FirstRelease = Now.AddDays(-1000), KnownOnIndexBy = Now.AddDays(-20), LatestRelease = Now.AddDays(-10) };
        Assert.Equal(Math.Log(1001), F(first, FeatureCatalog.DaysOnIndex).Value!.Value, 6);
        var known = first with { FirstRelease = null };
        Assert.Equal(Math.Log(21), F(known, FeatureCatalog.DaysOnIndex).Value!.Value, 6);
        Assert.Contains("20 days", F(known, FeatureCatalog.DaysOnIndex).Shown, StringComparison.Ordinal);
        var latest = known with { KnownOnIndexBy = null };
        Assert.Equal(Math.Log(11), F(latest, FeatureCatalog.DaysOnIndex).Value!.Value, 6);
        Assert.Null(F(Record("pkg"), FeatureCatalog.DaysOnIndex).Value);
        Assert.Equal("unknown", F(Record("pkg"), FeatureCatalog.DaysOnIndex).Shown);
    }

    [Fact]
    public void Project_information_features()
    {
        var r = Record("pkg") with
        {
            HasSourceRepository = true, SourceRepository = "https://github.com/o/pkg", Summary = "My short description for my project.",
            MaintainerCount = 2, DependencyCount = 3, License = "MIT", KnownAdvisories = 1,
        };
        Assert.Equal(1, F(r, FeatureCatalog.HasSourceRepo).Value);
        Assert.Equal(0, F(r, FeatureCatalog.SummaryEmpty).Value);
        Assert.Equal(1, F(r, FeatureCatalog.SummaryPlaceholder).Value);
        Assert.Equal(2, F(r, FeatureCatalog.MaintainerCount).Value);
        Assert.Equal(3, F(r, FeatureCatalog.DependencyCount).Value);
        Assert.Equal(1, F(r, FeatureCatalog.HasLicense).Value);
        Assert.Equal(1, F(r, FeatureCatalog.KnownAdvisories).Value);
        Assert.Equal(1, F(r with { Summary = "" }, FeatureCatalog.SummaryEmpty).Value);
        Assert.Equal(1, F(r with { Summary = "pkg" }, FeatureCatalog.SummaryPlaceholder).Value);
        var unknown = Record("pkg");
        Assert.Null(F(unknown, FeatureCatalog.HasSourceRepo).Value);
        Assert.Null(F(unknown, FeatureCatalog.SummaryEmpty).Value);
        Assert.Null(F(unknown, FeatureCatalog.HasLicense).Value);
    }
}

public sealed class PopularNameIndexTests
{
    [Fact]
    public void Ties_go_to_the_more_popular_name_and_far_names_have_no_neighbour()
    {
        var index = new PopularNameIndex(["numpy", "numba", "scipy"]);
        Assert.Equal(new NearestPopularName("numpy", 1), index.Nearest("numpi"));
        Assert.Equal(new NearestPopularName("numpy", 2), index.Nearest("numxx")); // numpy and numba both 2: numpy ranks higher
        Assert.Null(index.Nearest("tensorflow"));
        Assert.Equal("scipy", index.ExtendedPopularName("scipy-extra-tools"));
        Assert.Null(index.ExtendedPopularName("scipy"));
    }

    [Theory]
    [InlineData("requests", "reqeusts", 1)]
    [InlineData("requests", "requests", 0)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Edit_distance_counts_swaps_as_one(string a, string b, int expected) =>
        Assert.Equal(expected, EditDistance.Compute(a, b));
}

public sealed class NameLanguageModelTests
{
    [Fact]
    public void Word_like_names_read_better_than_random_ones_and_self_is_left_out()
    {
        var lm = new NameLanguageModel(["requests", "urllib3", "certifi", "charset-normalizer", "idna", "setuptools", "packaging", "python-dateutil", "attrs", "pytest"]);
        Assert.True(lm.AverageLogProbability("requester") > lm.AverageLogProbability("xq9zjkvw"));
        var withSelf = new NameLanguageModel(["zzqx", "requests"]);
        var withoutSelf = new NameLanguageModel(["requests"]);
        Assert.Equal(withoutSelf.AverageLogProbability("zzqx"), withSelf.AverageLogProbability("zzqx"), 9);
    }
}
