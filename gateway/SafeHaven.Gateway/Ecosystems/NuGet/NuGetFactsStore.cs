using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using SafeHaven.Core.Storage;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// What the appliance knows of one version from its own verification of the package (persisted). The hashes of the
/// first verified download are not here: they are the file name's pin in the <see cref="Artifacts.ArtifactFetcher"/>
/// (SHA-256 and SHA-512), the one pin every ecosystem shares.
/// </summary>
/// <param name="SignedAt">The trusted repository signature's RFC 3161 timestamp, if there is one.</param>
/// <param name="DependencyGroups">From the package's <c>.nuspec</c>.</param>
public sealed record NuGetVersionFacts(DateTimeOffset? SignedAt, string? Signer, IReadOnlyList<NuGetDependencyGroup> DependencyGroups, DateTimeOffset VerifiedAt);

/// <summary>
/// Facts learnt by verifying packages, per id and normalised version: kept in memory and persisted in the index cache
/// store under the ecosystem <c>nuget-verified</c> (apart from the indexes, so they are neither refreshed nor counted as
/// stale: they are facts about content, not copies of upstream). Refusals (a signature that does not hold, a file that
/// differs from the pinned one) are kept in memory only, so a restart, or an operator adding a trusted signer, tries again.
/// Every change bumps the package's generation, so views built on older knowledge are rebuilt.
/// </summary>
public sealed class NuGetFactsStore(IIndexCacheStore store)
{
    public const string StoreEcosystem = "nuget-verified";

    private readonly ConcurrentDictionary<string, NuGetVersionFacts?> _facts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _refusals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);

    private static string Key(string lowerId, string normalized) => lowerId + "/" + normalized;

    /// <summary>Changes whenever something is learnt about the package.</summary>
    public long Generation(string lowerId) => _generations.GetValueOrDefault(lowerId);

    /// <summary>The facts of each given version that has been verified (loaded from the store once, then from memory).</summary>
    public async Task<IReadOnlyDictionary<string, NuGetVersionFacts>> GetAsync(string lowerId, IEnumerable<string> versions, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, NuGetVersionFacts>(StringComparer.Ordinal);
        foreach (var version in versions)
        {
            var key = Key(lowerId, version);
            if (!_facts.TryGetValue(key, out var facts))
            {
                var cached = await store.GetAsync(StoreEcosystem, key, cancellationToken).ConfigureAwait(false);
                facts = cached is null ? null : JsonSerializer.Deserialize(cached.Content, NuGetFactsJsonContext.Default.NuGetVersionFacts);
                facts = _facts.GetOrAdd(key, facts);
            }
            if (facts is not null)
            {
                result[version] = facts;
            }
        }
        return result;
    }

    public async Task<NuGetVersionFacts?> GetAsync(string lowerId, string version, CancellationToken cancellationToken) =>
        (await GetAsync(lowerId, [version], cancellationToken).ConfigureAwait(false)).GetValueOrDefault(version);

    public async Task RecordVerifiedAsync(string lowerId, string version, NuGetVersionFacts facts, CancellationToken cancellationToken)
    {
        var key = Key(lowerId, version);
        await store.PutAsync(StoreEcosystem, key,
            new CachedIndex(JsonSerializer.SerializeToUtf8Bytes(facts, NuGetFactsJsonContext.Default.NuGetVersionFacts), facts.VerifiedAt, null), cancellationToken).ConfigureAwait(false);
        _facts[key] = facts;
        _refusals.TryRemove(key, out _);
        _generations.AddOrUpdate(lowerId, 1, (_, g) => g + 1);
    }

    public void RecordRefusal(string lowerId, string version, string reason)
    {
        _refusals[Key(lowerId, version)] = reason;
        _generations.AddOrUpdate(lowerId, 1, (_, g) => g + 1);
    }

    /// <summary>Why the version's package was refused, or null.</summary>
    public string? RefusalOf(string lowerId, string version) => _refusals.GetValueOrDefault(Key(lowerId, version));
}

[JsonSerializable(typeof(NuGetVersionFacts))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class NuGetFactsJsonContext : JsonSerializerContext;
