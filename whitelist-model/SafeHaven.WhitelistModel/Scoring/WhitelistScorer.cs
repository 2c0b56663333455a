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
    /// <summary>File name of the shipped PyPI model without popularity history, in the <c>models</c> folder next to the binaries.</summary>
    public const string ShippedPyPIModelFile = "pypi-v1.json";

    /// <summary>File name of the shipped PyPI model that needs the monthly popularity history.</summary>
    public const string ShippedPyPIHistoryModelFile = "pypi-v2.json";

    private readonly PackageFeatureExtractor _features;

    /// <param name="model">The model.</param>
    /// <param name="threshold">Approval threshold; default: the model's.</param>
    /// <param name="history">The monthly popularity history; required when the model uses history features.</param>
    public WhitelistScorer(WhitelistModelFile model, double? threshold = null, PopularityHistory? history = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Threshold = threshold ?? model.Threshold;
        if (Threshold is < 0 or > 1 || double.IsNaN(Threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), "threshold must be between 0 and 1");
        }
        if (model.NeedsPopularityHistory && history is null)
        {
            throw new InvalidDataException($"model {model.ModelVersion} is built on the monthly popularity history: give the history file (--popularity-history, or SafeHaven:Policy:PopularityHistoryFiles).");
        }
        _features = new PackageFeatureExtractor(new PopularNameIndex(model.PopularNames), history);
    }

    public WhitelistModelFile Model { get; }

    public double Threshold { get; }

    public PackageFeatureExtractor FeatureExtractor => _features;

    /// <summary>
    /// Path of the model shipped for an ecosystem under <see cref="AppContext.BaseDirectory"/>: <c>models/&lt;eco&gt;-v2.json</c> when
    /// a popularity history is given, else <c>models/&lt;eco&gt;-v1.json</c> (scoring exactly as before the history existed).
    /// A missing v2 is an error, never a silent fall-back to v1.
    /// </summary>
    public static string ShippedModelPath(Ecosystem ecosystem, bool withPopularityHistory = false) =>
        Path.Combine(AppContext.BaseDirectory, "models", $"{ecosystem.ToId()}-{(withPopularityHistory ? "v2" : "v1")}.json");

    /// <summary>Loads a model file; throws <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> with a precise message.</summary>
    public static WhitelistScorer Load(string path, double? threshold = null, PopularityHistory? history = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file not found: {path}", path);
        }
        return new WhitelistScorer(WhitelistModelFile.FromJson(File.ReadAllText(path), path), threshold, history);
    }

    /// <summary>
    /// Loads the model shipped with the appliance for an ecosystem (only PyPI has one): with a popularity history the history
    /// model (<c>pypi-v2</c>), without one <c>pypi-v1</c>.
    /// </summary>
    public static WhitelistScorer LoadShipped(Ecosystem ecosystem = Ecosystem.PyPI, double? threshold = null, PopularityHistory? history = null)
    {
        var path = ShippedModelPath(ecosystem, history is not null);
        var model = WhitelistModelFile.FromJson(File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"model file not found: {path}", path), path);
        return new WhitelistScorer(model, threshold, model.NeedsPopularityHistory ? history : null);
    }

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
            var (raw, contribution) = value.Value is { } x ? f.Effect(x) : (0.0, 0.0);
            logit += contribution;
            used.Add(new FeatureContribution(f.Id, value.Definition.Words, value.Value, value.Shown, contribution, Describe(value, contribution, raw)));
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

    private static string Describe(FeatureValue value, double contribution, double raw)
    {
        if (value.Value is null)
        {
            return $"{value.Definition.Words}: unknown (no effect)";
        }
        var direction = Math.Abs(contribution) < 0.05 ? "little effect" : contribution > 0 ? "pushes towards approval" : "pushes towards rejection";
        var capped = Math.Abs(raw - contribution) > 1e-9 ? string.Create(CultureInfo.InvariantCulture, $", capped from {raw:+0.00;-0.00}") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{value.Definition.Words}: {value.Shown} ({direction}, {contribution:+0.00;-0.00} log-odds{capped})");
    }
}
