namespace SafeHaven.WhitelistModel.Features;

/// <summary>
/// One auditable feature: a stable identifier (used in model files), its meaning in plain words,
/// and which metadata it needs.
/// </summary>
/// <param name="Id">Stable identifier, e.g. <c>days_since_first_release</c>.</param>
/// <param name="Words">Plain words, e.g. "days since first release".</param>
/// <param name="IsBinary">True for yes/no features (1 = yes).</param>
/// <param name="Needs">The metadata it is computed from, in plain words.</param>
public sealed record FeatureDefinition(string Id, string Words, bool IsBinary, string Needs);

/// <summary>A feature's value for one package: null when the metadata it needs is unknown; <see cref="Shown"/> is the value in words.</summary>
public sealed record FeatureValue(FeatureDefinition Definition, double? Value, string Shown);

/// <summary>All feature values of one package, in <see cref="FeatureCatalog.All"/> order.</summary>
public sealed class FeatureVector
{
    private readonly Dictionary<string, FeatureValue> _byId;

    public FeatureVector(IReadOnlyList<FeatureValue> values)
    {
        Values = values;
        _byId = values.ToDictionary(v => v.Definition.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<FeatureValue> Values { get; }

    /// <summary>The value of a feature by id; throws for an unknown id.</summary>
    public FeatureValue this[string id] => _byId.TryGetValue(id, out var v) ? v : throw new KeyNotFoundException($"no feature '{id}'");
}
