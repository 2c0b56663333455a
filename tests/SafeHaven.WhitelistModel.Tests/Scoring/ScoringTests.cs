using SafeHaven.WhitelistModel.Metadata;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Tests.Scoring;

public sealed class LogisticTrainerTests
{
    private static List<TrainingExample> Examples()
    {
        var rng = new Random(7);
        var list = new List<TrainingExample>();
        for (var i = 0; i < 400; i++)
        {
            var label = i % 2 == 0;
            var signal = (label ? 1.0 : -1.0) + rng.NextDouble() * 1.5 - 0.75;
            double? noise = i % 5 == 0 ? null : rng.NextDouble();
            list.Add(new TrainingExample([signal, noise], label, label ? 1.0 : 0.5));
        }
        return list;
    }

    [Fact]
    public void Training_is_deterministic_and_learns_the_signal()
    {
        var a = LogisticTrainer.Fit(["signal", "noise"], Examples(), l2: 1.0);
        var b = LogisticTrainer.Fit(["signal", "noise"], Examples(), l2: 1.0);
        Assert.Equal(a.Intercept, b.Intercept);
        Assert.Equal(a.Features.Select(f => f.Weight), b.Features.Select(f => f.Weight));
        Assert.True(a.Features[0].Weight > 2);
        Assert.True(Math.Abs(a.Features[1].Weight) < 0.5);
        Assert.True(a.Iterations < 100);
    }

    [Fact]
    public void Stronger_regularisation_shrinks_weights_and_one_class_is_refused()
    {
        var loose = LogisticTrainer.Fit(["signal", "noise"], Examples(), l2: 0.1);
        var tight = LogisticTrainer.Fit(["signal", "noise"], Examples(), l2: 1000);
        Assert.True(Math.Abs(tight.Features[0].Weight) < Math.Abs(loose.Features[0].Weight));
        Assert.Throws<ArgumentException>(() => LogisticTrainer.Fit(["x"], [new TrainingExample([1.0], true)]));
    }
}

public sealed class WhitelistScorerTests
{
    private static WhitelistModelFile Model() => new()
    {
        ModelVersion = "test-v1",
        Ecosystem = "pypi",
        Intercept = -1.0,
        Threshold = 0.5,
        PopularNames = ["requests", "numpy"],
        Features =
        [
            new ModelFeature { Id = "among_most_downloaded", Mean = 0.1, Scale = 0.3, Weight = 2.0 },
            new ModelFeature { Id = "typo_of_popular_name", Mean = 0.1, Scale = 0.3, Weight = -1.0 },
            new ModelFeature { Id = "version_dependency_confusion", Mean = 0.0, Scale = 0.1, Weight = -0.5 },
        ],
    };

    private static PackageMetadataRecord Record(string name, int? rank, string? version = null, bool popularityKnown = true) => new()
    {
        Name = name, Ecosystem = Ecosystem.PyPI, DownloadRank = rank, PopularityKnown = popularityKnown, LatestVersion = version,
    };

    [Fact]
    public void Scores_decides_and_explains_in_words()
    {
        var scorer = new WhitelistScorer(Model());
        var popular = scorer.Score(Record("numpy", 3, "2.1.0"));
        Assert.Equal(ScoreDecision.Approve, popular.Decision);
        Assert.Equal("approve", popular.DecisionText);
        Assert.Equal("among_most_downloaded", popular.Contributions[0].FeatureId);
        Assert.Contains("pushes towards approval", popular.Contributions[0].Text, StringComparison.Ordinal);

        var typo = scorer.Score(Record("reqeusts", null, "99.0.0"));
        Assert.Equal(ScoreDecision.Reject, typo.Decision);
        Assert.Contains(typo.Contributions, c => c.FeatureId == "typo_of_popular_name" && c.Contribution < 0 && c.Text.Contains("'requests'", StringComparison.Ordinal));
        Assert.Contains(typo.Contributions, c => c.FeatureId == "version_dependency_confusion" && c.Contribution < 0);
        var expectedLogit = -1.0 + 2.0 * (0 - 0.1) / 0.3 - 1.0 * (1 - 0.1) / 0.3 - 0.5 * (1 - 0) / 0.1;
        Assert.Equal(1 / (1 + Math.Exp(-expectedLogit)), typo.Score, 12);
        Assert.Contains(typo.NotUsed, c => c.FeatureId == "summary_empty" && c.Text.Contains("not used", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_values_have_no_effect_and_threshold_can_be_overridden()
    {
        var scorer = new WhitelistScorer(Model(), threshold: 0.01);
        var s = scorer.Score(Record("something", null, null, popularityKnown: false));
        Assert.All(s.Contributions, c => Assert.Equal(0, c.Contribution));
        Assert.Contains(s.Contributions, c => c.Text.EndsWith("unknown (no effect)", StringComparison.Ordinal));
        Assert.Equal(1 / (1 + Math.Exp(1.0)), s.Score, 12);
        Assert.Equal(0.01, s.Threshold);
        Assert.Equal(ScoreDecision.Approve, s.Decision);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WhitelistScorer(Model(), 1.5));
    }

    [Fact]
    public void Model_files_round_trip_and_bad_files_are_refused()
    {
        var json = Model().ToJson();
        var back = WhitelistModelFile.FromJson(json, "memory");
        Assert.Equal(Model().Features, back.Features);
        Assert.Throws<InvalidDataException>(() => WhitelistModelFile.FromJson("{", "memory"));
        Assert.Throws<InvalidDataException>(() => WhitelistModelFile.FromJson(json.Replace("typo_of_popular_name", "no_such_feature", StringComparison.Ordinal), "memory"));
    }

    [Fact]
    public void The_shipped_pypi_model_loads_from_the_output_folder_and_scores()
    {
        var scorer = WhitelistScorer.LoadShipped();
        Assert.Equal("pypi", scorer.Model.Ecosystem);
        Assert.InRange(scorer.Threshold, 0.0, 1.0);
        var numpy = scorer.Score(Record("numpy", 20, "2.1.0"));
        var typo = scorer.Score(Record("nunpy", null, "0.0.1"));
        Assert.Equal(ScoreDecision.Approve, numpy.Decision);
        Assert.Equal(ScoreDecision.Reject, typo.Decision);
    }
}
