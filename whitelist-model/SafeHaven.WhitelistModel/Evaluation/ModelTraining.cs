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
        TrainingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var popular = popularNamesByRank.Take(settings.PopularNames).ToList();
        var extractor = new PackageFeatureExtractor(new PopularNameIndex(popular));

        var train = examples.Where(e => e.Split == SplitPart.Train).ToList();
        var counts = train.GroupBy(e => e.Source).ToDictionary(g => g.Key, g => g.Count());
        double Share(ExampleSource s) => s == ExampleSource.Allowlisted ? 1.0 : 0.5;
        var vectors = train.Select(e => extractor.Extract(e.Record)).ToList();
        var features = settings.Features.ToList();
        var dropped = new List<string>();
        LogisticFit fit;
        while (true)
        {
            var trainingExamples = train.Select((e, i) =>
                new TrainingExample(features.Select(id => vectors[i][id].Value).ToArray(), e.Label, Share(e.Source) * train.Count / 2.0 / counts[e.Source])).ToList();
            fit = LogisticTrainer.Fit(features, trainingExamples, settings.L2);
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

        var provisional = new WhitelistModelFile
        {
            ModelVersion = settings.ModelVersion,
            Ecosystem = "pypi",
            Intercept = fit.Intercept,
            Features = fit.Features,
            Threshold = 0.5,
            PopularNames = popular,
        };
        var scorer = new WhitelistScorer(provisional);
        var validationMalicious = examples.Where(e => e.Split == SplitPart.Validation && e.Source == ExampleSource.Malicious)
            .Select(e => scorer.Score(e.Record).Score).ToList();
        var validationAllowlisted = examples.Where(e => e.Split == SplitPart.Validation && e.Source == ExampleSource.Allowlisted)
            .Select(e => scorer.Score(e.Record).Score).ToList();
        var inv = CultureInfo.InvariantCulture;
        var threshold = Metrics.ChooseThreshold(validationMalicious, validationAllowlisted, settings.TargetMaliciousRejection);

        var training = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["algorithm"] = "L2-regularised logistic regression (Newton/IRLS, MathNet.Numerics)",
            ["seed"] = settings.Split.Seed.ToString(inv),
            ["longTailSample"] = settings.Split.LongTailSample.ToString(inv),
            ["trainShare"] = settings.Split.TrainShare.ToString(inv),
            ["validationShare"] = settings.Split.ValidationShare.ToString(inv),
            ["l2"] = settings.L2.ToString(inv),
            ["popularNames"] = popular.Count.ToString(inv),
            ["targetMaliciousRejection"] = settings.TargetMaliciousRejection.ToString(inv),
            ["thresholdChosenOn"] = $"validation split ({validationAllowlisted.Count} allowlisted, {validationMalicious.Count} malicious): among thresholds rejecting at least {settings.TargetMaliciousRejection.ToString("P1", inv)} of the malicious names, the range approving the most allowlisted packages; its middle in log-odds",
            ["trainExamples"] = string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")),
            ["iterations"] = fit.Iterations.ToString(inv),
            ["droppedForWrongSign"] = string.Join(", ", dropped),
            ["data"] = $"{ReferenceData.SnapshotFile}; {ReferenceData.ReferenceAllowlistFile}; {ReferenceData.CoreAllowlistFile}; {ReferenceData.MaliciousFile}",
        };
        if (settings.Split.MaliciousAsNewUploads)
        {
            training["maliciousAsNewUploads"] = "true";
        }
        return new TrainingResult(provisional with { Threshold = threshold, Training = training }, examples, fit.Iterations);
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
            t.TryGetValue("maliciousAsNewUploads", out var fresh) && bool.Parse(fresh));
    }
}
