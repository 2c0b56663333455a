using System.Globalization;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Scoring;

namespace SafeHaven.WhitelistModel.Evaluation;

/// <summary>Settings of one training run; all of them are recorded in the model file.</summary>
public sealed record TrainingSettings
{
    public SplitSettings Split { get; init; } = new();

    /// <summary>L2 penalty on the standardised weights.</summary>
    public double L2 { get; init; } = 1.0;

    /// <summary>Share of validation malicious names the default threshold must reject.</summary>
    public double TargetMaliciousRejection { get; init; } = 0.995;

    /// <summary>How many of the most downloaded names the model keeps for its name features.</summary>
    public int PopularNames { get; init; } = 5000;

    public string ModelVersion { get; init; } = "pypi-v1";

    /// <summary>Features the model is trained on (see <see cref="ModelFeatureSets"/>).</summary>
    public IReadOnlyList<string> Features { get; init; } = ModelFeatureSets.SameSourceFeatures;

    /// <summary>The model family: logistic regression or a GAM (boosted one-feature trees); the ensembles cannot be exported.</summary>
    public ModelAlgorithm Algorithm { get; init; } = ModelAlgorithm.Logistic;

    /// <summary>
    /// Largest effect (log-odds, either way) of any feature that is not popularity evidence
    /// (<see cref="FeatureCatalog.PopularityEvidence"/>); null: unbounded, as in <c>pypi-v1</c>.
    /// </summary>
    public double? MaxShapeEffect { get; init; }

    /// <summary>Largest share of validation long-tail packages the default threshold may approve; null: no such bound (pypi-v1).</summary>
    public double? TargetLongTailApproval { get; init; }

    /// <summary>
    /// When set, the intercept is shifted so that the threshold chosen on validation lands on this score: the same decisions,
    /// and the appliance's default <c>ModelThreshold</c> stays right when the model is swapped.
    /// </summary>
    public double? AnchorThreshold { get; init; }

    /// <summary>Settings of <c>pypi-v2</c>: honest-time split, popularity history features, bounded shape effects, GAM.</summary>
    public static TrainingSettings V2 => new()
    {
        Split = new SplitSettings(HonestTime: true),
        Features = ModelFeatureSets.HistoryFeatures,
        TargetMaliciousRejection = 0.999,
        TargetLongTailApproval = 0.05,
        MaxShapeEffect = 1.0,
        AnchorThreshold = 0.9205,
        ModelVersion = "pypi-v2",
        Algorithm = ModelAlgorithm.Gam,
    };
}

/// <summary>Named feature sets.</summary>
public static class ModelFeatureSets
{
    /// <summary>
    /// Features computable in the same way for every class of the evaluation data: from the name, the latest version,
    /// and the download ranking. Summary, dates and links are absent from the malicious reports, so they are left out.
    /// "Days on the index" can be built for both (a malicious name as a new upload: zero days) but is left out too: every
    /// malicious name is zero days old by that construction, so the feature separates the classes perfectly on paper and
    /// approves any package a week old in practice (EVALUATION.md, "Experiment: the age of a package").
    /// </summary>
    public static readonly IReadOnlyList<string> SameSourceFeatures =
    [
        FeatureCatalog.NameDigitShare.Id, FeatureCatalog.NameEndsWithDigits.Id, FeatureCatalog.NameWords.Id,
        FeatureCatalog.NameConsonantRun.Id, FeatureCatalog.NameVowelShare.Id, FeatureCatalog.NameLongestWord.Id, FeatureCatalog.NamePlausibility.Id,
        FeatureCatalog.TypoOfPopular.Id, FeatureCatalog.ExtendsPopular.Id, FeatureCatalog.JoinsPopularNames.Id,
        FeatureCatalog.IsPopular.Id, FeatureCatalog.DownloadPopularity.Id,
        FeatureCatalog.VersionPlaceholder.Id, FeatureCatalog.VersionDependencyConfusion.Id, FeatureCatalog.VersionShowsMaintenance.Id,
        FeatureCatalog.VersionNotPep440.Id, FeatureCatalog.VersionPreRelease.Id,
    ];

    /// <summary>
    /// <c>pypi-v2</c>: the same-source features, with the popularity history (ever ranked, best rank, months ranked, months since),
    /// and "dependency-confusion version" only for packages never among the most downloaded (a package ranked about 4,000th
    /// with version 223 is not a dependency-confusion upload). "Extends / joins popular names" stay out (wrong-signed in v1).
    /// </summary>
    public static readonly IReadOnlyList<string> HistoryFeatures =
    [
        FeatureCatalog.NameDigitShare.Id, FeatureCatalog.NameEndsWithDigits.Id, FeatureCatalog.NameWords.Id,
        FeatureCatalog.NameConsonantRun.Id, FeatureCatalog.NameVowelShare.Id, FeatureCatalog.NameLongestWord.Id, FeatureCatalog.NamePlausibility.Id,
        FeatureCatalog.TypoOfPopular.Id,
        FeatureCatalog.IsPopular.Id, FeatureCatalog.DownloadPopularity.Id,
        FeatureCatalog.EverPopular.Id, FeatureCatalog.BestRankPopularity.Id, FeatureCatalog.MonthsRanked.Id, FeatureCatalog.MonthsSinceRanked.Id,
        FeatureCatalog.VersionDependencyConfusionUnpopular.Id, FeatureCatalog.VersionShowsMaintenance.Id,
        FeatureCatalog.VersionNotPep440.Id, FeatureCatalog.VersionPreRelease.Id,
    ];

    /// <summary>
    /// The direction each risk or trust indicator must push for the model to keep it: +1 towards approval, -1 towards rejection.
    /// A feature whose fitted weight comes out the other way (through correlation with other features) is dropped and the model refitted,
    /// so that no explanation ever says, e.g., "looks like a typo of a popular name: pushes towards approval".
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> ExpectedSigns = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [FeatureCatalog.NameDigitShare.Id] = -1,
        [FeatureCatalog.NameEndsWithDigits.Id] = -1,
        [FeatureCatalog.NameConsonantRun.Id] = -1,
        [FeatureCatalog.NamePlausibility.Id] = +1,
        [FeatureCatalog.TypoOfPopular.Id] = -1,
        [FeatureCatalog.ExtendsPopular.Id] = -1,
        [FeatureCatalog.JoinsPopularNames.Id] = -1,
        [FeatureCatalog.IsPopular.Id] = +1,
        [FeatureCatalog.DownloadPopularity.Id] = +1,
        [FeatureCatalog.VersionPlaceholder.Id] = -1,
        [FeatureCatalog.VersionDependencyConfusion.Id] = -1,
        [FeatureCatalog.VersionDependencyConfusionUnpopular.Id] = -1,
        [FeatureCatalog.EverPopular.Id] = +1,
        [FeatureCatalog.BestRankPopularity.Id] = +1,
        [FeatureCatalog.MonthsRanked.Id] = +1,
        [FeatureCatalog.MonthsSinceRanked.Id] = -1,
        [FeatureCatalog.VersionShowsMaintenance.Id] = +1,
        [FeatureCatalog.VersionNotPep440.Id] = -1,
        [FeatureCatalog.DaysSinceFirstRelease.Id] = +1,
        [FeatureCatalog.DaysOnIndex.Id] = +1,
        [FeatureCatalog.HasSourceRepo.Id] = +1,
        [FeatureCatalog.SummaryEmpty.Id] = -1,
        [FeatureCatalog.SummaryPlaceholder.Id] = -1,
    };
}

/// <summary>The trained model and the examples it was trained and validated on.</summary>
public sealed record TrainingResult(WhitelistModelFile Model, IReadOnlyList<LabelledExample> Examples, int Iterations);

/// <summary>
/// Trains the whitelist model on the training split: positives weigh as much as all negatives together, malicious names and
/// long-tail packages half each; then picks the default threshold on the validation split.
/// </summary>
public static class ModelTraining
{
    public static TrainingResult Train(
        IReadOnlyList<LabelledExample> examples,
        IReadOnlyList<string> popularNamesByRank,
        TrainingSettings settings,
        PopularityHistory? history = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(settings);
        var popular = popularNamesByRank.Take(settings.PopularNames).ToList();
        var extractor = new PackageFeatureExtractor(new PopularNameIndex(popular), history);
        var train = examples.Where(e => e.Split == SplitPart.Train).ToList();
        var counts = train.GroupBy(e => e.Source).ToDictionary(g => g.Key, g => g.Count());
        var vectors = train.Select(e => extractor.Extract(e.Record)).ToList();
        var features = settings.Features.ToList();
        var dropped = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        double intercept;
        IReadOnlyList<ModelFeature> fitted;
        string algorithm, iterations;
        switch (settings.Algorithm)
        {
            case ModelAlgorithm.Logistic:
                LogisticFit fit;
                while (true)
                {
                    fit = LogisticTrainer.Fit(features, TrainingExamples(train, vectors, features, counts), settings.L2);
                    // Drop the wrong-signed feature with the largest standardised weight, one at a time, and refit.
                    var wrong = fit.Features
                        .Where(f => ModelFeatureSets.ExpectedSigns.TryGetValue(f.Id, out var sign) && Math.Sign(f.Weight) == -sign)
                        .OrderByDescending(f => Math.Abs(f.Weight)).ThenBy(f => f.Id, StringComparer.Ordinal)
                        .FirstOrDefault();
                    if (wrong is null)
                    {
                        break;
                    }
                    dropped.Add(wrong.Id);
                    features.Remove(wrong.Id);
                }
                (intercept, fitted) = (fit.Intercept, fit.Features);
                algorithm = "L2-regularised logistic regression (Newton/IRLS, MathNet.Numerics)";
                iterations = fit.Iterations.ToString(inv);
                break;
            case ModelAlgorithm.Gam:
                (intercept, fitted) = TreeTraining.FitGam(features, TrainingExamples(train, vectors, features, counts), settings.Split.Seed);
                algorithm = "GAM: boosted one-feature trees (Microsoft.ML.FastTree GamBinaryTrainer, 1500 iterations, learning rate 0.02, 64 bins, 1 thread), Platt-scaled to log-odds, each shape function made monotone in its expected direction";
                iterations = "1500";
                break;
            default:
                throw new ArgumentException($"{settings.Algorithm} models are measured for comparison only and cannot be written as a model file", nameof(settings));
        }
        if (settings.MaxShapeEffect is { } cap)
        {
            var evidence = FeatureCatalog.PopularityEvidence.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
            fitted = fitted.Select(f => evidence.Contains(f.Id) ? f : f with { MaxEffect = cap }).ToList();
        }

        var provisional = new WhitelistModelFile
        {
            Format = settings.Algorithm == ModelAlgorithm.Logistic && settings.MaxShapeEffect is null ? WhitelistModelFile.FormatV1 : WhitelistModelFile.CurrentFormat,
            ModelVersion = settings.ModelVersion,
            Ecosystem = "pypi",
            Kind = settings.Algorithm == ModelAlgorithm.Logistic ? "logistic regression" : "generalised additive model (boosted one-feature trees)",
            Intercept = intercept,
            Features = fitted,
            Threshold = 0.5,
            PopularNames = popular,
        };
        var scorer = new WhitelistScorer(provisional, history: history);
        var threshold = ChooseThreshold(scorer, examples, settings, out var chosenOn);
        if (settings.AnchorThreshold is { } anchor)
        {
            intercept += Logit(anchor) - Logit(threshold);
            threshold = anchor;
        }

        var training = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["algorithm"] = algorithm,
            ["seed"] = settings.Split.Seed.ToString(inv),
            ["longTailSample"] = settings.Split.LongTailSample.ToString(inv),
            ["trainShare"] = settings.Split.TrainShare.ToString(inv),
            ["validationShare"] = settings.Split.ValidationShare.ToString(inv),
            ["l2"] = settings.L2.ToString(inv),
            ["popularNames"] = popular.Count.ToString(inv),
            ["targetMaliciousRejection"] = settings.TargetMaliciousRejection.ToString(inv),
            ["thresholdChosenOn"] = chosenOn,
            ["trainExamples"] = string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")),
            ["iterations"] = iterations,
            ["droppedForWrongSign"] = string.Join(", ", dropped),
            ["data"] = $"{ReferenceData.SnapshotFile}; {ReferenceData.ReferenceAllowlistFile}; {ReferenceData.CoreAllowlistFile}; {ReferenceData.MaliciousFile}"
                + (settings.Split.HonestTime ? $"; {ReferenceData.BuildTimesFile}" : string.Empty)
                + (history is not null ? $"; {ReferenceData.PopularityHistoryFile}" : string.Empty),
        };
        if (settings.Split.MaliciousAsNewUploads)
        {
            training["maliciousAsNewUploads"] = "true";
        }
        if (settings.Split.HonestTime)
        {
            training["honestTime"] = "true";
        }
        if (settings.MaxShapeEffect is { } maxEffect)
        {
            training["maxShapeEffect"] = maxEffect.ToString(inv);
        }
        if (settings.TargetLongTailApproval is { } tail)
        {
            training["targetLongTailApproval"] = tail.ToString(inv);
        }
        if (settings.AnchorThreshold is { } anchored)
        {
            training["anchorThreshold"] = $"{anchored.ToString(inv)} (intercept shifted so that the threshold chosen on validation is this score)";
        }
        return new TrainingResult(provisional with { Intercept = intercept, Threshold = threshold, Training = training }, examples, int.Parse(iterations, inv));
    }

    /// <summary>
    /// The training examples in feature order, weighted: allowlisted packages weigh as much as all negatives together,
    /// malicious names and long-tail packages half each.
    /// </summary>
    internal static List<TrainingExample> TrainingExamples(
        IReadOnlyList<LabelledExample> train, IReadOnlyList<FeatureVector> vectors, IReadOnlyList<string> features, IReadOnlyDictionary<ExampleSource, int> counts)
    {
        static double Share(ExampleSource s) => s == ExampleSource.Allowlisted ? 1.0 : 0.5;
        return train.Select((e, i) =>
            new TrainingExample(features.Select(id => vectors[i][id].Value).ToArray(), e.Label, Share(e.Source) * train.Count / 2.0 / counts[e.Source])).ToList();
    }

    /// <summary>
    /// The default threshold, on the validation split only: reject at least the target share of malicious names and, when set,
    /// approve at most the target share of long-tail packages; within that, the range approving the most allowlisted packages, its middle in log-odds.
    /// </summary>
    internal static double ChooseThreshold(IPackageScorer scorer, IReadOnlyList<LabelledExample> examples, TrainingSettings settings, out string description)
    {
        var inv = CultureInfo.InvariantCulture;
        List<double> Scores(ExampleSource source) => examples.Where(e => e.Split == SplitPart.Validation && e.Source == source)
            .Select(e => scorer.Score(e.Record).Score).ToList();
        var malicious = Scores(ExampleSource.Malicious);
        var allowlisted = Scores(ExampleSource.Allowlisted);
        var floor = settings.TargetLongTailApproval is { } tail ? Metrics.ThresholdForRejection(Scores(ExampleSource.LongTail), 1 - tail) : 0;
        description = $"validation split ({allowlisted.Count} allowlisted, {malicious.Count} malicious): among thresholds rejecting at least {settings.TargetMaliciousRejection.ToString("P1", inv)} of the malicious names"
            + (settings.TargetLongTailApproval is { } t ? $" and approving at most {t.ToString("P1", inv)} of the long-tail packages" : string.Empty)
            + ", the range approving the most allowlisted packages; its middle in log-odds";
        return Metrics.ChooseThreshold(malicious, allowlisted, settings.TargetMaliciousRejection, floor);
    }

    internal static double Logit(double p)
    {
        var q = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return Math.Log(q / (1 - q));
    }

    /// <summary>Names ranked in the snapshot, most downloaded first.</summary>
    public static IReadOnlyList<string> PopularNamesByRank(IReadOnlyList<SnapshotRow> snapshot) =>
        snapshot.Where(r => r.Rank is not null).OrderBy(r => r.Rank).ThenBy(r => r.NormalizedName, StringComparer.Ordinal)
            .Select(r => r.NormalizedName).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Reads the split settings a model was trained with, so that evaluation rebuilds the same split.</summary>
    public static SplitSettings SplitSettingsOf(WhitelistModelFile model)
    {
        var t = model.Training;
        var inv = CultureInfo.InvariantCulture;
        var defaults = new SplitSettings();
        return new SplitSettings(
            t.TryGetValue("seed", out var seed) ? int.Parse(seed, inv) : defaults.Seed,
            t.TryGetValue("longTailSample", out var tail) ? int.Parse(tail, inv) : defaults.LongTailSample,
            t.TryGetValue("trainShare", out var tr) ? double.Parse(tr, inv) : defaults.TrainShare,
            t.TryGetValue("validationShare", out var va) ? double.Parse(va, inv) : defaults.ValidationShare,
            t.TryGetValue("maliciousAsNewUploads", out var fresh) && bool.Parse(fresh),
            t.TryGetValue("honestTime", out var honest) && bool.Parse(honest));
    }
}
