using System.IO.Compression;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Features;

/// <summary>
/// The popularity-history features, on lists shaped like the shared <c>popularity/pypi-top-monthly.tsv.gz</c>
/// (month, rank, name, download_count; one list a month, names PEP 503-normalised).
/// </summary>
public sealed class PopularityHistoryTests : IDisposable
{
    private const string Lists =
        "month\trank\tname\tdownload_count\n" +
        "2020-01\t900\tslow-riser\t1000\n" +
        "2020-01\t5\tnumpy\t90000\n" +
        "2020-02\t4\tnumpy\t91000\n" +
        "2020-02\t700\tslow-riser\t1100\n" +
        "2020-03\t3\tnumpy\t92000\n" +
        "2020-04\t1\tslow-riser\t99999\n" + // only usable from 2020-05-01 on
        "2020-04\t2\tnumpy\t93000\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("safehaven-history-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PopularityHistory History() => PopularityHistory.Read(new StringReader(Lists), "memory");

    private static DateTimeOffset At(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    private static FeatureVector Features(PopularityHistory? history, string name, DateTimeOffset observed, string? version = null, int? rank = null) =>
        new PackageFeatureExtractor(new PopularNameIndex(["numpy", "pandas"]), history).Extract(new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = Ecosystem.PyPI,
            ObservedAt = observed,
            LatestVersion = version,
            DownloadRank = rank,
            PopularityKnown = true,
        });

    [Fact]
    public void Ever_among_the_most_downloaded()
    {
        Assert.Equal(1, Features(History(), "slow-riser", At(2020, 3, 1))[FeatureCatalog.EverPopular.Id].Value);
        Assert.Equal(0, Features(History(), "brand-new", At(2020, 3, 1))[FeatureCatalog.EverPopular.Id].Value);
        Assert.Contains("no (in 2 months of lists)", Features(History(), "brand-new", At(2020, 3, 1))[FeatureCatalog.EverPopular.Id].Shown, StringComparison.Ordinal);
    }

    [Fact]
    public void Best_rank_as_log10_of_15000_over_it()
    {
        var v = Features(History(), "slow-riser", At(2020, 4, 15))[FeatureCatalog.BestRankPopularity.Id];
        Assert.Equal(Math.Log10(15000.0 / 700), v.Value!.Value, 9);
        Assert.Equal("best rank 700", v.Shown);
        Assert.Equal(0, Features(History(), "brand-new", At(2020, 4, 15))[FeatureCatalog.BestRankPopularity.Id].Value);
    }

    [Fact]
    public void Months_ranked_on_a_log_scale()
    {
        var v = Features(History(), "numpy", At(2020, 5, 1))[FeatureCatalog.MonthsRanked.Id];
        Assert.Equal(Math.Log(1 + 4), v.Value!.Value, 9);
        Assert.Equal("4 months", v.Shown);
        Assert.Equal(0, Features(History(), "brand-new", At(2020, 5, 1))[FeatureCatalog.MonthsRanked.Id].Value);
    }

    [Fact]
    public void Months_since_last_ranked_and_the_cap_for_never()
    {
        // slow-riser's last usable list at 2020-08-10 is 2020-04's, complete on 2020-05-01: 3 whole months before.
        var v = Features(History(), "slow-riser", At(2020, 8, 10))[FeatureCatalog.MonthsSinceRanked.Id];
        Assert.Equal(3, v.Value);
        Assert.Contains("last ranked 2020-04", v.Shown, StringComparison.Ordinal);
        Assert.Equal(PackageFeatureExtractor.MonthsSinceCap, Features(History(), "brand-new", At(2020, 8, 10))[FeatureCatalog.MonthsSinceRanked.Id].Value);
        Assert.Equal(PackageFeatureExtractor.MonthsSinceCap, Features(History(), "numpy", At(2035, 1, 1))[FeatureCatalog.MonthsSinceRanked.Id].Value);
    }

    [Fact]
    public void No_month_after_the_scoring_date_is_used()
    {
        var history = History();
        // 2020-04's list ranks slow-riser 1st; scored during April (or on its last day) it must not count.
        foreach (var asOf in new[] { At(2020, 4, 1), At(2020, 4, 30) })
        {
            var s = history.Summarise("slow-riser", asOf);
            Assert.Equal(2, s.MonthsRanked);
            Assert.Equal(700, s.BestRank);
            Assert.Equal(new DateOnly(2020, 2, 1), s.LastRankedMonth);
            Assert.Equal(3, s.MonthsAvailable); // January, February, March lists
        }
        var after = history.Summarise("slow-riser", At(2020, 5, 1));
        Assert.Equal((3, 1), (after.MonthsRanked, after.BestRank));
        // Before the first list is complete nothing is known to have been ranked, for any package.
        Assert.False(history.Summarise("numpy", At(2020, 1, 31)).EverRanked);
        Assert.Equal(0, Features(history, "numpy", At(2020, 1, 31))[FeatureCatalog.EverPopular.Id].Value);
        // The scored features move only with the scoring date.
        Assert.Equal(Math.Log10(15000.0 / 700), Features(history, "slow-riser", At(2020, 4, 30))[FeatureCatalog.BestRankPopularity.Id].Value!.Value, 9);
        Assert.Equal(Math.Log10(15000.0 / 1), Features(history, "slow-riser", At(2020, 5, 1))[FeatureCatalog.BestRankPopularity.Id].Value!.Value, 9);
    }

    [Fact]
    public void Without_a_history_or_an_observation_date_the_history_features_are_unknown()
    {
        foreach (var f in FeatureCatalog.PopularityHistoryFeatures)
        {
            Assert.Null(Features(null, "numpy", At(2020, 5, 1), "1.0", rank: 3)[f.Id].Value);
        }
        var noDate = new PackageFeatureExtractor(new PopularNameIndex(["numpy"]), History())
            .Extract(new PackageMetadataRecord { Name = "numpy", Ecosystem = Ecosystem.PyPI, PopularityKnown = true });
        Assert.Null(noDate[FeatureCatalog.EverPopular.Id].Value);
    }

    [Fact]
    public void Dependency_confusion_counts_only_for_packages_never_among_the_most_downloaded()
    {
        Assert.Equal(1, Features(History(), "internal-tool", At(2020, 5, 1), "223")[FeatureCatalog.VersionDependencyConfusionUnpopular.Id].Value);
        Assert.Equal(0, Features(History(), "slow-riser", At(2020, 5, 1), "223")[FeatureCatalog.VersionDependencyConfusionUnpopular.Id].Value);
        Assert.Contains("but among the most downloaded", Features(History(), "slow-riser", At(2020, 5, 1), "223")[FeatureCatalog.VersionDependencyConfusionUnpopular.Id].Shown, StringComparison.Ordinal);
        Assert.Equal(0, Features(History(), "internal-tool", At(2020, 5, 1), "223", rank: 4000)[FeatureCatalog.VersionDependencyConfusionUnpopular.Id].Value);
        Assert.Equal(0, Features(History(), "internal-tool", At(2020, 5, 1), "2024.1")[FeatureCatalog.VersionDependencyConfusionUnpopular.Id].Value);
    }

    [Fact]
    public void Gzip_and_plain_files_read_the_same_and_names_are_normalised()
    {
        var plain = Path.Combine(_dir, "top.tsv");
        File.WriteAllText(plain, Lists.Replace("slow-riser", "Slow_Riser", StringComparison.Ordinal));
        var gz = Path.Combine(_dir, "top.tsv.gz");
        using (var output = File.Create(gz))
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(File.ReadAllBytes(plain));
        }
        var a = PopularityHistory.Load(plain).Summarise("slow-riser", At(2021, 1, 1));
        var b = PopularityHistory.Load(gz).Summarise("slow-riser", At(2021, 1, 1));
        Assert.Equal(a, b);
        Assert.Equal(3, a.MonthsRanked);
    }

    [Fact]
    public void A_bad_row_or_header_names_the_line()
    {
        var bad = Assert.Throws<InvalidDataException>(() => PopularityHistory.Read(new StringReader("month\trank\tname\n2020-01\tfirst\tnumpy\n"), "top.tsv"));
        Assert.Contains("top.tsv line 2", bad.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => PopularityHistory.Read(new StringReader("when\twhere\n"), "top.tsv"));
        Assert.Throws<FileNotFoundException>(() => PopularityHistory.Load(Path.Combine(_dir, "missing.tsv")));
    }
}
