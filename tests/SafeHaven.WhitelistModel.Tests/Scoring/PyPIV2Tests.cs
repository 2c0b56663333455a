using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Tests.Scoring;

/// <summary>
/// The shipped <c>pypi-v2</c> against <c>pypi-v1</c> on the two real packages issue 17 names: <c>rfc3987</c> (ranked 2,955th in the
/// 2026-11 snapshot, digits are 4 of its 7 characters) and <c>pypiwin32</c> (ranked 3,914th, latest version 223). The history is
/// their real rows of the shared monthly top lists (Fixtures/pypi-top-monthly-excerpt.tsv, cut from pypi-top-monthly.tsv.gz).
/// </summary>
public sealed class PyPIV2Tests
{
    private static readonly DateTimeOffset Snapshot = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static PopularityHistory History() =>
        PopularityHistory.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pypi-top-monthly-excerpt.tsv"));

    private static PackageMetadataRecord Record(string name, string version, int? rank) => new()
    {
        Name = name,
        Ecosystem = Ecosystem.PyPI,
        ObservedAt = Snapshot,
        LatestVersion = version,
        DownloadRank = rank,
        PopularityKnown = true,
    };

    private static WhitelistScorer V2() => WhitelistScorer.LoadShipped(Ecosystem.PyPI, history: History());

    [Fact]
    public void Without_a_history_the_shipped_model_is_pypi_v1_and_with_one_pypi_v2()
    {
        Assert.Equal("pypi-v1", WhitelistScorer.LoadShipped().Model.ModelVersion);
        Assert.Equal("pypi-v2", V2().Model.ModelVersion);
        Assert.True(V2().Model.NeedsPopularityHistory);
        Assert.False(WhitelistScorer.LoadShipped().Model.NeedsPopularityHistory);
        var v2File = WhitelistModelFile.FromJson(File.ReadAllText(WhitelistScorer.ShippedModelPath(Ecosystem.PyPI, withPopularityHistory: true)), "pypi-v2");
        var refused = Assert.Throws<InvalidDataException>(() => new WhitelistScorer(v2File));
        Assert.Contains("popularity history", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_half_made_of_digits_no_longer_outweighs_a_rank_near_3000()
    {
        var record = Record("rfc3987", "1.3.8", 2955);
        var v1 = WhitelistScorer.LoadShipped().Score(record);
        Assert.Equal(ScoreDecision.Reject, v1.Decision); // today's pypi-v1: the digit share outweighs the rank
        Assert.True(v1.Contributions.Single(c => c.FeatureId == FeatureCatalog.NameDigitShare.Id).Contribution < -5);

        var v2 = V2().Score(record);
        Assert.Equal(ScoreDecision.Approve, v2.Decision);
        var digits = v2.Contributions.Single(c => c.FeatureId == FeatureCatalog.NameDigitShare.Id);
        Assert.InRange(digits.Contribution, -1.0, 0);
        Assert.Contains("best monthly rank", string.Join(" ", v2.Contributions.Select(c => c.Text)), StringComparison.Ordinal);
    }

    [Fact]
    public void Version_223_of_a_package_ranked_near_4000_is_not_dependency_confusion()
    {
        var record = Record("pypiwin32", "223", 3914);
        var v1 = WhitelistScorer.LoadShipped().Score(record);
        Assert.Equal(ScoreDecision.Reject, v1.Decision); // today's pypi-v1 flags version 223 as dependency confusion
        Assert.Equal(1, v1.Contributions.Single(c => c.FeatureId == FeatureCatalog.VersionDependencyConfusion.Id).Value);

        var v2 = V2().Score(record);
        Assert.Equal(ScoreDecision.Approve, v2.Decision);
        Assert.DoesNotContain(v2.Contributions, c => c.FeatureId == FeatureCatalog.VersionDependencyConfusion.Id);
        var confusion = v2.Contributions.Single(c => c.FeatureId == FeatureCatalog.VersionDependencyConfusionUnpopular.Id);
        Assert.Equal(0, confusion.Value);
        Assert.Contains("but among the most downloaded", confusion.Text, StringComparison.Ordinal);
        // The same version on a package that was never popular is still a dependency-confusion sign.
        var unknown = V2().Score(Record("acme-internal-billing", "223", null));
        Assert.Equal(ScoreDecision.Reject, unknown.Decision);
        Assert.Equal(1, unknown.Contributions.Single(c => c.FeatureId == FeatureCatalog.VersionDependencyConfusionUnpopular.Id).Value);
    }

    [Fact]
    public void Name_and_version_shape_effects_are_bounded_and_popularity_evidence_is_not()
    {
        var model = V2().Model;
        var evidence = FeatureCatalog.PopularityEvidence.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
        Assert.All(model.Features, f =>
        {
            if (evidence.Contains(f.Id))
            {
                Assert.Null(f.MaxEffect);
            }
            else
            {
                Assert.NotNull(f.MaxEffect);
                Assert.InRange(f.MaxEffect!.Value, 0, 1.0);
            }
        });
        // A package among the most downloaded for years, whose name is as bad as a name can be on every shape feature,
        // is still approved: the shape features together cannot reach what the popularity evidence gives.
        var numpyLike = V2().Score(Record("numpy", "2.1.0", 20));
        var shapeTotal = model.Features.Where(f => f.MaxEffect is not null).Sum(f => f.MaxEffect!.Value);
        var popularity = numpyLike.Contributions.Where(c => evidence.Contains(c.FeatureId)).Sum(c => c.Contribution);
        Assert.True(model.Intercept + popularity - shapeTotal > Logit(model.Threshold),
            $"intercept {model.Intercept} + popularity {popularity} - all shape caps {shapeTotal} must stay above the threshold");
    }

    [Fact]
    public void A_capped_effect_says_so_in_the_explanation()
    {
        var f = new ModelFeature { Id = FeatureCatalog.NameDigitShare.Id, Mean = 0, Scale = 1, Weight = -17, MaxEffect = 1 };
        Assert.Equal((-8.5, -1.0), f.Effect(0.5));
        var binned = new ModelFeature { Id = FeatureCatalog.NameWords.Id, BinUpperBounds = [1.5, 3.5, double.MaxValue], BinEffects = [0.2, -0.1, -0.4] };
        Assert.Equal(0.2, binned.Effect(1).Capped);
        Assert.Equal(-0.1, binned.Effect(3.5).Capped);
        Assert.Equal(-0.4, binned.Effect(9).Capped);
        var model = new WhitelistModelFile
        {
            ModelVersion = "capped",
            Ecosystem = "pypi",
            Intercept = 0,
            Features = [f],
            Threshold = 0.5,
            PopularNames = ["numpy"],
        };
        var score = new WhitelistScorer(model).Score(Record("ab12", "1.0", null));
        Assert.Contains("capped from -8.50", score.Contributions[0].Text, StringComparison.Ordinal);
        Assert.Equal(-1.0, score.Contributions[0].Contribution);
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));
}
