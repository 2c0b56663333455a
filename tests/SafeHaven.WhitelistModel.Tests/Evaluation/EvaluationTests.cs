using SafeHaven.WhitelistModel.Evaluation;

namespace SafeHaven.WhitelistModel.Tests.Evaluation;

/// <summary>Small reference data built in memory, shaped like the shared data files.</summary>
internal static class TinyData
{
    public static readonly string[] Popular = ["requests", "numpy", "pandas", "django", "flask", "scipy", "matplotlib", "pytest", "attrs", "click"];

    public static IReadOnlyList<SnapshotRow> Snapshot()
    {
        var lines = new List<string> { "name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary" };
        for (var i = 0; i < Popular.Length; i++)
        {
            lines.Add($"{Popular[i]}\t{i + 1}.{i + 3}.2\t2026-10\t{i * 7 + 1}\tA popular package number {i}");
        }
        lines.Add("sparsesvd\t0.2.2\t2013-12\t\tSparse SVD");
        lines.Add("characteristic\t14.3.0\t2014-12\t\tAttributes without boilerplate");
        for (var i = 0; i < 300; i++)
        {
            lines.Add($"tail-project-{i:D3}\t0.{i % 4}.0\t{2015 + i % 11}-{1 + i % 12:D2}\t\tSome project {i}");
        }
        using var reader = new StringReader(string.Join('\n', lines) + "\n");
        return ReferenceData.ReadSnapshot(reader, "tiny snapshot");
    }

    public static IReadOnlyList<MaliciousRow> Malicious()
    {
        var lines = new List<string> { "name\tosv_id\tpublished\tversions" };
        var day = new DateTime(2023, 1, 1);
        var i = 0;
        // Campaign A: near-identical names over several months; campaign B: digits + "aa"; then singletons.
        foreach (var n in new[] { "reqeusts", "reqeust", "reqeustss" })
        {
            lines.Add($"{n}\tMAL-A-{i}\t{day.AddDays(30 * i++):yyyy-MM-dd}T00:00:00Z\t1.0.0");
        }
        foreach (var n in new[] { "18923aa", "191239aa", "2000aa" })
        {
            lines.Add($"{n}\tMAL-B-{i}\t{day.AddDays(40 * i++):yyyy-MM-dd}T00:00:00Z\t");
        }
        var rng = new Random(1);
        for (var k = 0; k < 60; k++)
        {
            var name = new string(Enumerable.Range(0, 8).Select(_ => (char)('a' + rng.Next(26))).ToArray());
            lines.Add($"{name}\tMAL-C-{k}\t{day.AddDays(5 * k):yyyy-MM-dd}T00:00:00Z\t{(k % 3 == 0 ? "99.0.1" : "0.0.1")}");
        }
        using var reader = new StringReader(string.Join('\n', lines) + "\n");
        return ReferenceData.ReadMalicious(reader, "tiny malicious");
    }

    public static IReadOnlyList<string> Allowlist() => [.. Popular, "sparsesvd", "characteristic"];

    /// <summary>
    /// Build times shaped like <c>malicious/pypi-malicious-build-times.tsv</c>: most names built well before their report
    /// (a backfill), two with an uploader-set 2016-01-01 time that must not be believed, some missing.
    /// </summary>
    public static IReadOnlyList<BuildTimeRow> BuildTimes()
    {
        var lines = new List<string> { "name\tversions\tfirst_build\tlast_build\thas_repo_url\trequires_dist_count" };
        var rows = Malicious();
        for (var k = 0; k < rows.Count; k++)
        {
            var m = rows[k];
            if (k % 10 == 9)
            {
                continue;
            }
            var first = k < 2 ? new DateTime(2016, 1, 1) : m.Published.UtcDateTime.AddDays(-200 + k * 3);
            lines.Add($"{m.Name}\t{string.Join(',', m.Versions.DefaultIfEmpty("0.0.1"))}\t{first:yyyy-MM-ddTHH:mm:ss}\t{first.AddHours(2):yyyy-MM-ddTHH:mm:ss}\tfalse\t0");
        }
        using var reader = new StringReader(string.Join('\n', lines) + "\n");
        return ReferenceData.ReadBuildTimes(reader, "tiny build times");
    }

    /// <summary>Monthly top lists shaped like <c>popularity/pypi-top-monthly.tsv.gz</c>: the popular names every month of 2022-2026, characteristic until 2019.</summary>
    public static SafeHaven.WhitelistModel.Features.PopularityHistory History()
    {
        var lines = new List<string> { "month\trank\tname\tdownload_count" };
        for (var month = new DateOnly(2018, 2, 1); month <= new DateOnly(2026, 4, 1); month = month.AddMonths(1))
        {
            for (var i = 0; i < Popular.Length; i++)
            {
                lines.Add($"{month:yyyy-MM}\t{i + 1}\t{Popular[i]}\t{1000 - i}");
            }
            if (month.Year < 2020)
            {
                lines.Add($"{month:yyyy-MM}\t{Popular.Length + 1}\tcharacteristic\t10");
            }
        }
        return SafeHaven.WhitelistModel.Features.PopularityHistory.Read(new StringReader(string.Join('\n', lines) + "\n"), "tiny history");
    }
}

public sealed class CampaignGrouperTests
{
    [Fact]
    public void Near_identical_names_share_a_campaign()
    {
        var names = new[] { "reqeusts", "reqeustss", "18923aa", "191239aa", "colorama-py", "colourama-py", "unrelated", "py" };
        var groups = CampaignGrouper.Group(names);
        Assert.Equal(groups[0], groups[1]);
        Assert.Equal(groups[2], groups[3]);
        Assert.Equal(groups[4], groups[5]);
        Assert.NotEqual(groups[0], groups[2]);
        Assert.NotEqual(groups[6], groups[0]);
        Assert.NotEqual(groups[7], groups[6]);
        Assert.Equal("aa", CampaignGrouper.Skeleton("18923aa"));
        Assert.Equal("#", CampaignGrouper.Skeleton("90456984689490856"));
    }
}

public sealed class EvaluationDatasetTests
{
    [Fact]
    public void The_split_keeps_campaigns_together_and_follows_time()
    {
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), ["numpy"], TinyData.Malicious(), new SplitSettings(Seed: 3, LongTailSample: 200));
        var malicious = examples.Where(e => e.Source == ExampleSource.Malicious).ToList();

        // Every campaign lies in exactly one split part, including those whose members were reported months apart.
        Assert.All(malicious.GroupBy(e => e.Campaign), g => Assert.Single(g.Select(e => e.Split).Distinct()));
        var campaignA = malicious.Where(e => e.Record.Name.StartsWith("reqeust", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, campaignA.Count);
        Assert.Single(campaignA.Select(e => e.Campaign).Distinct());

        // Time: every training campaign started no later than every validation campaign, and those no later than every test one.
        DateTimeOffset? Start(SplitPart part, bool latest)
        {
            var starts = malicious.Where(e => e.Split == part).GroupBy(e => e.Campaign).Select(g => g.Min(e => e.Record.ObservedAt)).ToList();
            return latest ? starts.Max() : starts.Min();
        }
        Assert.True(Start(SplitPart.Train, latest: true) <= Start(SplitPart.Validation, latest: false));
        Assert.True(Start(SplitPart.Validation, latest: true) <= Start(SplitPart.Test, latest: false));

        // Every class appears in every part; the long tail is unranked and never allowlisted.
        foreach (var part in Enum.GetValues<SplitPart>())
        {
            foreach (var source in Enum.GetValues<ExampleSource>())
            {
                Assert.Contains(examples, e => e.Split == part && e.Source == source);
            }
        }
        Assert.All(examples.Where(e => e.Source == ExampleSource.LongTail), e => Assert.Null(e.Record.DownloadRank));
        Assert.Equal(200, examples.Count(e => e.Source == ExampleSource.LongTail));
        Assert.Single(examples, e => e.Core);
    }

    [Fact]
    public void Malicious_records_carry_only_what_the_report_says()
    {
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(LongTailSample: 10));
        var m = examples.First(e => e.Record.Name == "reqeusts").Record;
        Assert.Equal("1.0.0", m.LatestVersion);
        Assert.Null(m.Summary);
        Assert.Null(m.FirstRelease);
        Assert.Null(m.LatestRelease);
        Assert.Null(m.HasSourceRepository);
        Assert.Null(m.DownloadRank);
        Assert.True(m.PopularityKnown);
        var noVersion = examples.First(e => e.Record.Name == "18923aa").Record;
        Assert.Null(noVersion.LatestVersion);
    }

    [Fact]
    public void Snapshot_records_know_the_package_was_on_the_index_by_the_end_of_its_latest_month_and_no_earlier()
    {
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(LongTailSample: 10));
        var old = examples.First(e => e.Record.Name == "characteristic").Record;
        Assert.Null(old.FirstRelease);
        Assert.Equal(new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero), old.KnownOnIndexBy);
        var recent = examples.First(e => e.Record.Name == "requests").Record;
        Assert.Equal(ReferenceData.SnapshotDate, recent.KnownOnIndexBy); // month 2026-10 ends when the snapshot was taken
    }

    [Fact]
    public void The_age_experiment_treats_malicious_names_as_new_uploads_only_when_asked_and_the_model_records_it()
    {
        var plain = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(LongTailSample: 10));
        Assert.All(plain.Where(e => e.Source == ExampleSource.Malicious), e => Assert.Null(e.Record.FirstRelease));
        var settings = new SplitSettings(LongTailSample: 10, MaliciousAsNewUploads: true);
        var fresh = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), settings);
        Assert.All(fresh.Where(e => e.Source == ExampleSource.Malicious), e => Assert.Equal(e.Record.ObservedAt, e.Record.FirstRelease));

        var trained = ModelTraining.Train(fresh, TinyData.Popular, new TrainingSettings { Split = settings });
        Assert.True(ModelTraining.SplitSettingsOf(trained.Model).MaliciousAsNewUploads);
        var shipped = ModelTraining.Train(plain, TinyData.Popular, new TrainingSettings { Split = new SplitSettings(LongTailSample: 10) });
        Assert.False(shipped.Model.Training.ContainsKey("maliciousAsNewUploads"));
        Assert.False(ModelTraining.SplitSettingsOf(shipped.Model).MaliciousAsNewUploads);
    }

    [Fact]
    public void The_same_seed_gives_the_same_split()
    {
        var a = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(Seed: 5, LongTailSample: 100));
        var b = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(Seed: 5, LongTailSample: 100));
        Assert.Equal(a.Select(e => (e.Record.Name, e.Split)), b.Select(e => (e.Record.Name, e.Split)));
    }
}

public sealed class HonestTimeTests
{
    private static IReadOnlyList<LabelledExample> Build() =>
        EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(Seed: 3, LongTailSample: 100, HonestTime: true), TinyData.BuildTimes());

    [Fact]
    public void Malicious_names_are_observed_at_their_believable_build_time_else_at_their_report()
    {
        var builds = TinyData.BuildTimes().ToDictionary(b => b.NormalizedName);
        foreach (var e in Build().Where(e => e.Source == ExampleSource.Malicious))
        {
            var life = e.Lifetime!;
            Assert.Equal(life.Upload, e.Record.ObservedAt);
            if (builds.TryGetValue(e.Record.NormalizedName, out var b) && b.FirstBuild!.Value.Year > 2016)
            {
                Assert.True(life.UploadFromBuild);
                Assert.Equal(b.FirstBuild, life.Upload);
                Assert.Equal(b.LastBuild, life.LastBuild);
            }
            else
            {
                Assert.False(life.UploadFromBuild); // no build time, or the uploader's 2016-01-01
                Assert.Equal(life.Reported, life.Upload);
            }
        }
    }

    [Fact]
    public void The_split_follows_upload_time_campaign_by_campaign()
    {
        var malicious = Build().Where(e => e.Source == ExampleSource.Malicious).ToList();
        Assert.All(malicious.GroupBy(e => e.Campaign), g => Assert.Single(g.Select(e => e.Split).Distinct()));
        // Campaigns are ordered by their first upload: each part's campaigns start no earlier than every earlier part's campaigns.
        DateTimeOffset[] Starts(SplitPart p) => malicious.Where(e => e.Split == p).GroupBy(e => e.Campaign).Select(g => g.Min(e => e.Lifetime!.Upload)).ToArray();
        Assert.True(Starts(SplitPart.Validation).Min() >= Starts(SplitPart.Train).Max());
        Assert.True(Starts(SplitPart.Test).Min() >= Starts(SplitPart.Validation).Max());
    }

    [Fact]
    public void Uploads_in_one_burst_with_one_version_shape_are_one_campaign()
    {
        var t = new DateTimeOffset(2023, 2, 25, 21, 0, 0, TimeSpan.Zero);
        string[] names = ["adad", "adcandy", "zqxv", "lonely", "other-shape"];
        DateTimeOffset?[] uploads = [t, t.AddMinutes(4), t.AddMinutes(12), t.AddHours(5), t.AddMinutes(2)];
        string?[] versions = ["4.57", "10.49", "3.1", "9.9", "0.0.1"];
        var c = CampaignGrouper.GroupWithUploads(names, uploads, versions);
        Assert.Equal(c[0], c[1]);           // 4 minutes apart, both N.N
        Assert.Equal(c[1], c[2]);           // 8 minutes after the previous N.N upload (chained)
        Assert.NotEqual(c[0], c[3]);        // hours later
        Assert.NotEqual(c[0], c[4]);        // in the burst but another version shape (N.N.N)
        Assert.Equal("9.9.9", CampaignGrouper.VersionShape("0.0.1"));
        Assert.Equal("9.9", CampaignGrouper.VersionShape("10.49"));
    }
}

public sealed class ModelTrainingTests
{
    private static TrainingSettings SmallV2(ModelAlgorithm algorithm) => TrainingSettings.V2 with
    {
        Split = new SplitSettings(Seed: 7, LongTailSample: 150, HonestTime: true),
        Algorithm = algorithm,
        TargetMaliciousRejection = 0.99,
        PopularNames = 10,
    };

    [Theory]
    [InlineData(ModelAlgorithm.Logistic)]
    [InlineData(ModelAlgorithm.Gam)]
    public void Training_v2_is_deterministic_same_seed_same_data_same_model_file(ModelAlgorithm algorithm)
    {
        string Train()
        {
            var settings = SmallV2(algorithm);
            var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), settings.Split, TinyData.BuildTimes());
            return ModelTraining.Train(examples, ModelTraining.PopularNamesByRank(TinyData.Snapshot()), settings, TinyData.History()).Model.ToJson();
        }
        var first = Train();
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(first)));
        var second = Train();
        Assert.Equal(hash, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(second))));
        Assert.Equal(first, second);
        var model = SafeHaven.WhitelistModel.Scoring.WhitelistModelFile.FromJson(first, "trained");
        Assert.True(model.NeedsPopularityHistory);
        Assert.Equal(0.9205, model.Threshold);
        Assert.Contains(model.Features, f => f.Id == SafeHaven.WhitelistModel.Features.FeatureCatalog.EverPopular.Id);
        Assert.Equal("true", model.Training["honestTime"]);
    }

    [Fact]
    public void Gam_shape_functions_are_monotone_in_their_expected_direction()
    {
        var settings = SmallV2(ModelAlgorithm.Gam);
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), settings.Split, TinyData.BuildTimes());
        var model = ModelTraining.Train(examples, ModelTraining.PopularNamesByRank(TinyData.Snapshot()), settings, TinyData.History()).Model;
        Assert.NotEmpty(model.Features);
        Assert.All(model.Features, f =>
        {
            Assert.NotNull(f.BinEffects);
            if (ModelFeatureSets.ExpectedSigns.TryGetValue(f.Id, out var sign))
            {
                var e = f.BinEffects!;
                Assert.All(Enumerable.Range(1, e.Count - 1), i => Assert.True(sign * (e[i] - e[i - 1]) >= -1e-9, $"{f.Id} bins {e[i - 1]} then {e[i]}"));
            }
        });
        Assert.Equal([1.0, 2.0, 2.0, 3.0], TreeTraining.Monotone([1.0, 3.0, 1.0, 3.0], +1));
        Assert.Equal([3.0, 2.0, 2.0], TreeTraining.Monotone([3.0, 1.0, 3.0], -1));
    }

    [Fact]
    public void Training_is_deterministic_from_the_seed()
    {
        string Train()
        {
            var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), new SplitSettings(Seed: 11, LongTailSample: 150));
            var popular = ModelTraining.PopularNamesByRank(TinyData.Snapshot());
            return ModelTraining.Train(examples, popular, new TrainingSettings { Split = new SplitSettings(Seed: 11, LongTailSample: 150) }).Model.ToJson();
        }
        var first = Train();
        Assert.Equal(first, Train());
        Assert.Contains("\"seed\": \"11\"", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Kept_risk_and_trust_indicators_push_in_their_stated_direction()
    {
        var settings = new TrainingSettings { Split = new SplitSettings(Seed: 4, LongTailSample: 150) };
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), settings.Split);
        var model = ModelTraining.Train(examples, ModelTraining.PopularNamesByRank(TinyData.Snapshot()), settings).Model;
        Assert.All(model.Features, f =>
        {
            if (ModelFeatureSets.ExpectedSigns.TryGetValue(f.Id, out var sign))
            {
                Assert.NotEqual(-sign, Math.Sign(f.Weight));
            }
        });
        Assert.True(model.Training.ContainsKey("droppedForWrongSign"));
    }

    [Fact]
    public void The_threshold_is_chosen_on_validation_and_the_split_is_recorded()
    {
        var settings = new TrainingSettings { Split = new SplitSettings(Seed: 2, LongTailSample: 150), TargetMaliciousRejection = 1.0 };
        var examples = EvaluationDataset.Build(TinyData.Snapshot(), TinyData.Allowlist(), [], TinyData.Malicious(), settings.Split);
        var result = ModelTraining.Train(examples, ModelTraining.PopularNamesByRank(TinyData.Snapshot()), settings);
        var scorer = new SafeHaven.WhitelistModel.Scoring.WhitelistScorer(result.Model);
        var validationMalicious = examples.Where(e => e.Split == SplitPart.Validation && e.Source == ExampleSource.Malicious);
        Assert.All(validationMalicious, e => Assert.True(scorer.Score(e.Record).Score < result.Model.Threshold));
        Assert.Equal(settings.Split, ModelTraining.SplitSettingsOf(result.Model));
        var figures = ModelEvaluation.Evaluate(scorer, examples);
        Assert.Equal(1.0, figures.Single(f => f.Split == SplitPart.Validation).RejectionMalicious);
        Assert.Contains("ROC-AUC", ModelEvaluation.ToMarkdown(figures, scorer), StringComparison.Ordinal);
    }
}

public sealed class MetricsTests
{
    [Fact]
    public void Roc_and_pr_auc_on_known_rankings()
    {
        (double, bool)[] perfect = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        Assert.Equal(1.0, Metrics.RocAuc(perfect));
        Assert.Equal(1.0, Metrics.PrAuc(perfect));
        (double, bool)[] mixed = [(0.9, true), (0.8, false), (0.7, true), (0.1, false)];
        Assert.Equal(0.75, Metrics.RocAuc(mixed));
        Assert.Equal((1.0 + 2.0 / 3) / 2, Metrics.PrAuc(mixed), 12);
        (double, bool)[] tied = [(0.5, true), (0.5, false)];
        Assert.Equal(0.5, Metrics.RocAuc(tied));
    }

    [Fact]
    public void Threshold_for_rejection_approves_at_most_the_allowed_share()
    {
        var negatives = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToList();
        var t = Metrics.ThresholdForRejection(negatives, 0.995);
        Assert.Equal(5, negatives.Count(s => s >= t));
        Assert.True(Metrics.ThresholdForRejection([0.3, 0.7], 1.0) > 0.7);
    }
}

public sealed class ThresholdChoiceTests
{
    [Fact]
    public void The_threshold_sits_between_the_rejected_negatives_and_the_lowest_approved_positive()
    {
        var negatives = Enumerable.Range(0, 200).Select(i => i / 1000.0).Append(0.9).ToList(); // one outlier above all positives
        double[] positives = [0.3, 0.5, 0.95];
        var t = Metrics.ChooseThreshold(negatives, positives, 0.99);
        Assert.InRange(t, 0.2, 0.3); // between the highest tolerated negative (0.199) and the lowest positive (0.3)
        Assert.Equal(3, positives.Count(p => p >= t));
        Assert.Equal(1, negatives.Count(n => n >= t)); // only the outlier
        Assert.True(Metrics.ChooseThreshold([0.1, 0.2], [0.05], 1.0) > 0.2); // no positive approvable: keep the rejection target
    }
}
