using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.WhitelistModel.Scoring;

/// <summary>
/// One feature of a model and its effect on the log-odds; an unknown value contributes 0.
/// Linear (logistic models): <c>Weight * (x - Mean) / Scale</c>. Additive (tree models): when <see cref="BinUpperBounds"/> is set,
/// the effect of the first bin whose upper bound is at least x. Either way the effect is clipped to ±<see cref="MaxEffect"/>
/// when that is set, so that one name- or version-shape feature can never outweigh strong popularity evidence.
/// </summary>
public sealed record ModelFeature
{
    public required string Id { get; init; }
    public double Mean { get; init; }
    public double Scale { get; init; } = 1.0;
    public double Weight { get; init; }

    /// <summary>Largest effect, either way, in log-odds; null: unbounded (popularity evidence).</summary>
    public double? MaxEffect { get; init; }

    /// <summary>Additive models: ascending bin upper bounds (the last is +infinity, written as null in JSON is not allowed, so a large number).</summary>
    public IReadOnlyList<double>? BinUpperBounds { get; init; }

    /// <summary>Additive models: the effect (log-odds) of each bin.</summary>
    public IReadOnlyList<double>? BinEffects { get; init; }

    /// <summary>The effect of a known value x on the log-odds, before and after the cap.</summary>
    public (double Raw, double Capped) Effect(double x)
    {
        double raw;
        if (BinUpperBounds is { } bounds && BinEffects is { } effects)
        {
            var i = 0;
            while (i < bounds.Count - 1 && x > bounds[i])
            {
                i++;
            }
            raw = effects[i];
        }
        else
        {
            raw = Weight * (x - Mean) / Scale;
        }
        return (raw, MaxEffect is { } cap ? Math.Clamp(raw, -cap, cap) : raw);
    }
}

/// <summary>
/// The versioned, serialised whitelist model: a regularised logistic regression over named features, its default threshold
/// (chosen on the validation split), the popular names its name features compare against, and how it was trained.
/// </summary>
public sealed record WhitelistModelFile
{
    /// <summary>Format of <c>pypi-v1</c> (linear features only); still read.</summary>
    public const string FormatV1 = "safehaven-whitelist-model/1";

    /// <summary>Adds capped effects, additive (binned) features and the model kind.</summary>
    public const string CurrentFormat = "safehaven-whitelist-model/2";

    public string Format { get; init; } = CurrentFormat;
    public required string ModelVersion { get; init; }
    public required string Ecosystem { get; init; }
    /// <summary>How the effects were fitted, in words (e.g. logistic regression, boosted trees per feature); informational.</summary>
    public string Kind { get; init; } = "logistic regression";
    public required double Intercept { get; init; }
    public required IReadOnlyList<ModelFeature> Features { get; init; }
    public required double Threshold { get; init; }
    public required IReadOnlyList<string> PopularNames { get; init; }
    public IReadOnlyDictionary<string, string> Training { get; init; } = new Dictionary<string, string>();

    /// <summary>True when a feature is built from the monthly popularity history, so scoring needs the history file.</summary>
    [JsonIgnore]
    public bool NeedsPopularityHistory => Features.Any(f => SafeHaven.WhitelistModel.Features.FeatureCatalog.PopularityHistoryFeatures.Any(h => h.Id == f.Id));

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static WhitelistModelFile FromJson(string json, string source)
    {
        WhitelistModelFile? model;
        try
        {
            model = JsonSerializer.Deserialize<WhitelistModelFile>(json, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"model file {source} is not a valid whitelist model: {ex.Message}", ex);
        }
        if (model is null || (model.Format != CurrentFormat && model.Format != FormatV1))
        {
            throw new InvalidDataException($"model file {source} has format '{model?.Format}', expected '{CurrentFormat}' or '{FormatV1}'.");
        }
        var badBins = model.Features.Where(f => (f.BinUpperBounds is null) != (f.BinEffects is null)
            || (f.BinUpperBounds is { } b && (b.Count == 0 || b.Count != f.BinEffects!.Count))).Select(f => f.Id).ToList();
        if (badBins.Count > 0)
        {
            throw new InvalidDataException($"model file {source}: features {string.Join(", ", badBins)} need as many bin upper bounds as bin effects.");
        }
        var unknown = model.Features.Select(f => f.Id).Where(id => SafeHaven.WhitelistModel.Features.FeatureCatalog.Find(id) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"model file {source} uses features this build does not know: {string.Join(", ", unknown)}.");
        }
        return model;
    }
}
