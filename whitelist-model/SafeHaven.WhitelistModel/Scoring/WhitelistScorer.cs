using System.Globalization;
using SafeHaven.WhitelistModel.Features;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Scoring;

/// <summary>
/// Scores packages with a <see cref="WhitelistModelFile"/>: the probability that the package is of the kind a Tier 3 allowlist holds,
/// approved when it reaches the threshold, explained feature by feature.
/// </summary>
public sealed class WhitelistScorer : IPackageScorer
{
    /// <summary>File name of the shipped PyPI model in the <c>models</c> folder next to the binaries.</summary>
    public const string ShippedPyPIModelFile = "pypi-v1.json";

    private readonly PackageFeatureExtractor _features;

    public WhitelistScorer(WhitelistModelFile model, double? threshold = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Threshold = threshold ?? model.Threshold;
        if (Threshold is < 0 or > 1 || double.IsNaN(Threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), "threshold must be between 0 and 1");
        }
        _features = new PackageFeatureExtractor(new PopularNameIndex(model.PopularNames));
    }

    public WhitelistModelFile Model { get; }

    public double Threshold { get; }

    public PackageFeatureExtractor FeatureExtractor => _features;

    /// <summary>Path of the model shipped for an ecosystem (<c>models/&lt;eco&gt;-v1.json</c> under <see cref="AppContext.BaseDirectory"/>).</summary>
    public static string ShippedModelPath(Ecosystem ecosystem) =>
        Path.Combine(AppContext.BaseDirectory, "models", $"{ecosystem.ToId()}-v1.json");

    /// <summary>Loads a model file; throws <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> with a precise message.</summary>
    public static WhitelistScorer Load(string path, double? threshold = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }
        return new WhitelistScorer(WhitelistModelFile.FromJson(File.ReadAllText(path), path), threshold);
    }

    /// <summary>Loads the model shipped with the appliance for an ecosystem (only PyPI has one in this version).</summary>
    public static WhitelistScorer LoadShipped(Ecosystem ecosystem = Ecosystem.PyPI, double? threshold = null) =>
        Load(ShippedModelPath(ecosystem), threshold);

    public PackageScore Score(PackageMetadataRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var vector = _features.Extract(record);
        var logit = Model.Intercept;
        var used = new List<FeatureContribution>();
        var usedIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Model.Features)
        {
            var value = vector[f.Id];
            usedIds.Add(f.Id);
            var contribution = value.Value is { } x ? f.Weight * (x - f.Mean) / f.Scale : 0.0;
            logit += contribution;
            used.Add(new FeatureContribution(f.Id, value.Definition.Words, value.Value, value.Shown, contribution, Describe(value, contribution)));
        }
        var notUsed = vector.Values.Where(v => !usedIds.Contains(v.Definition.Id))
            .Select(v => new FeatureContribution(v.Definition.Id, v.Definition.Words, v.Value, v.Shown, 0, $"{v.Definition.Words}: {v.Shown} (not used by this model)"))
            .ToList();
        var score = 1.0 / (1.0 + Math.Exp(-logit));
        return new PackageScore(
            record.Name,
            score,
            Threshold,
            score >= Threshold ? ScoreDecision.Approve : ScoreDecision.Reject,
            Model.ModelVersion,
            used.OrderByDescending(c => Math.Abs(c.Contribution)).ThenBy(c => c.FeatureId, StringComparer.Ordinal).ToList(),
            notUsed);
    }

    private static string Describe(FeatureValue value, double contribution)
    {
        if (value.Value is null)
        {
            return $"{value.Definition.Words}: unknown (no effect)";
        }
        var direction = Math.Abs(contribution) < 0.05 ? "little effect" : contribution > 0 ? "pushes towards approval" : "pushes towards rejection";
        return string.Create(CultureInfo.InvariantCulture, $"{value.Definition.Words}: {value.Shown} ({direction}, {contribution:+0.00;-0.00} log-odds)");
    }
}
