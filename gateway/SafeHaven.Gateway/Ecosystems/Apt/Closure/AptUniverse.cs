using System.Collections.Frozen;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Ecosystems.Apt.Closure;

/// <summary>A package version the tier holds back, and why (quarantine, staleness, ...): only used to explain failures.</summary>
public sealed record HeldBackPackage(AptPackage Package, string Reason);

/// <summary>
/// Every package version the tier lets through in one repository (all its suites and components), for one native
/// architecture: entries of other architectures are left out, <c>all</c> entries kept. The same (name, version,
/// architecture) listed by several suites counts once. As apt sees it without pinning, the <b>candidate</b> of a
/// name is its newest version; only candidates provide virtual packages (apt installs nothing else).
/// </summary>
public sealed class AptUniverse
{
    private readonly FrozenDictionary<string, AptPackage[]> _byName;
    private readonly FrozenDictionary<string, (AptPackage Package, AptRelation Provided)[]> _providers;
    private readonly FrozenDictionary<string, HeldBackPackage[]> _heldBack;

    public AptUniverse(IEnumerable<AptPackage> packages, string nativeArchitecture, IEnumerable<HeldBackPackage>? heldBack = null)
    {
        ArgumentNullException.ThrowIfNull(packages);
        ArgumentException.ThrowIfNullOrWhiteSpace(nativeArchitecture);
        NativeArchitecture = nativeArchitecture;
        var byName = new Dictionary<string, List<AptPackage>>(StringComparer.Ordinal);
        var seen = new HashSet<(string, Core.Packages.DebianVersion, string)>();
        foreach (var package in packages)
        {
            if (!AppliesTo(package, nativeArchitecture) || !seen.Add((package.Name, package.Version, package.Architecture)))
            {
                continue;
            }
            if (!byName.TryGetValue(package.Name, out var list))
            {
                byName[package.Name] = list = [];
            }
            list.Add(package);
        }
        // Newest first; at one version the native entry before the 'all' one.
        _byName = byName.ToFrozenDictionary(
            p => p.Key,
            p => p.Value.OrderByDescending(v => v.Version).ThenBy(v => v.Architecture == "all" ? 1 : 0).ToArray(),
            StringComparer.Ordinal);
        var providers = new Dictionary<string, List<(AptPackage, AptRelation)>>(StringComparer.Ordinal);
        foreach (var candidate in _byName.Values.Select(v => v[0]).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            foreach (var provided in candidate.Provides)
            {
                if (!providers.TryGetValue(provided.Name, out var list))
                {
                    providers[provided.Name] = list = [];
                }
                list.Add((candidate, provided));
            }
        }
        _providers = providers.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        _heldBack = (heldBack ?? [])
            .Where(h => AppliesTo(h.Package, nativeArchitecture))
            .GroupBy(h => h.Package.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.OrderByDescending(h => h.Package.Version).ToArray(), StringComparer.Ordinal);
    }

    public string NativeArchitecture { get; }

    /// <summary>The real package names in the universe.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>Every version of a real package, newest first (the first is apt's candidate); empty when none.</summary>
    public IReadOnlyList<AptPackage> Candidates(string name) => _byName.TryGetValue(name, out var versions) ? versions : [];

    /// <summary>apt's candidate for a real package: its newest version, or null.</summary>
    public AptPackage? Candidate(string name) => _byName.TryGetValue(name, out var versions) ? versions[0] : null;

    /// <summary>The entry of an exact name and version (the native one before the 'all' one), or null.</summary>
    public AptPackage? Find(string name, string version)
    {
        if (!_byName.TryGetValue(name, out var versions) || !Core.Packages.DebianVersion.TryParse(version, out var parsed))
        {
            return null;
        }
        return versions.FirstOrDefault(v => v.Version == parsed);
    }

    /// <summary>
    /// The candidates that provide <paramref name="relation"/>'s name in a way that satisfies its version part, by
    /// name: an unversioned Provides satisfies only an unversioned relation, a versioned one (<c>v (= 2)</c>) is
    /// checked against the relation's operator (policy 7.5). Architecture qualifiers are left to the caller.
    /// </summary>
    public IReadOnlyList<AptPackage> Providers(AptRelation relation)
    {
        ArgumentNullException.ThrowIfNull(relation);
        if (!_providers.TryGetValue(relation.Name, out var providers))
        {
            return [];
        }
        var result = new List<AptPackage>();
        foreach (var (package, provided) in providers)
        {
            var satisfies = relation.Operator is null || (provided.Version is { } version && relation.VersionMatches(version));
            if (satisfies && !result.Contains(package))
            {
                result.Add(package);
            }
        }
        return result;
    }

    /// <summary>Every candidate providing <paramref name="name"/>, whatever the version, with what it provides (for explaining failures).</summary>
    public IReadOnlyList<(AptPackage Package, AptRelation Provided)> AllProviders(string name) =>
        _providers.TryGetValue(name, out var providers) ? providers : [];

    /// <summary>Versions of <paramref name="name"/> the tier holds back, newest first, with the reason.</summary>
    public IReadOnlyList<HeldBackPackage> HeldBack(string name) => _heldBack.TryGetValue(name, out var held) ? held : [];

    private static bool AppliesTo(AptPackage package, string nativeArchitecture) =>
        package.Architecture == "all" || package.Architecture == nativeArchitecture;
}
