using System.Text.Json;
using System.Text.Json.Serialization;

namespace SafeHaven.WhitelistModel.Scoring;

/// <summary>One weighted feature of a logistic model: standardised as (x - Mean) / Scale; unknown values contribute 0.</summary>
public sealed record ModelFeature
{
    public required string Id { get; init; }
    public required double Mean { get; init; }
    public required double Scale { get; init; }
    public required double Weight { get; init; }
}

/// <summary>
/// The versioned, serialised whitelist model: a regularised logistic regression over named features, its default threshold
/// (chosen on the validation split), the popular names its name features compare against, and how it was trained.
/// </summary>
public sealed record WhitelistModelFile
{
    public const string CurrentFormat = "safehaven-whitelist-model/1";

    public string Format { get; init; } = CurrentFormat;
    public required string ModelVersion { get; init; }
    public required string Ecosystem { get; init; }
    public required double Intercept { get; init; }
    public required IReadOnlyList<ModelFeature> Features { get; init; }
    public required double Threshold { get; init; }
    public required IReadOnlyList<string> PopularNames { get; init; }
    public IReadOnlyDictionary<string, string> Training { get; init; } = new Dictionary<string, string>();

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
        if (model is null || model.Format != CurrentFormat)
        {
            throw new InvalidDataException($"model file {source} has format '{model?.Format}', expected '{CurrentFormat}'.");
        }
        var unknown = model.Features.Select(f => f.Id).Where(id => SafeHaven.WhitelistModel.Features.FeatureCatalog.Find(id) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"model file {source} uses features this build does not know: {string.Join(", ", unknown)}.");
        }
        return model;
    }
}
