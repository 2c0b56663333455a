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
    /// Virtual packages only (see <see cref="Satisfiers(AptRelation)"/> for everything that meets a relation, the
    /// real package included): the candidates that provide <paramref name="relation"/>'s name in a way that satisfies its version part, by
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

    /// <summary>What apt could install to meet <paramref name="relation"/> (see the overload); empty when nothing can.</summary>
    public IReadOnlyList<AptPackage> Satisfiers(AptRelation relation) => Satisfiers(relation, null, out _);

    /// <summary>Whether some alternative of a group (<c>a | b</c>) can be met by a candidate of this universe.</summary>
    public bool CanSatisfy(IReadOnlyList<AptRelation> group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Any(relation => Satisfiers(relation).Count > 0);
    }

    /// <summary>
    /// What apt could install to meet one relation, in its order: the real package's candidate when its version and
    /// architecture fit, then the providers as apt's <c>CompareProviders</c> sorts them (those in
    /// <paramref name="preferred"/> first, standing for apt's installed packages, e.g. already in the closure; then
    /// <c>Essential: yes</c>, then <c>Important: yes</c>, then by <c>Priority</c>, required first; then by name, where
    /// apt falls back to its cache's internal order), architecture qualifiers honoured (<c>:any</c> needs <c>Multi-Arch: allowed</c>, <c>:native</c>
    /// and the native architecture are met by native and <c>all</c> packages, another architecture only by a
    /// <c>Multi-Arch: foreign</c> one). Empty, with the reason in <paramref name="failure"/>, when nothing can.
    /// </summary>
    public IReadOnlyList<AptPackage> Satisfiers(AptRelation relation, IReadOnlySet<string>? preferred, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(relation);
        var result = new List<AptPackage>();
        var reasons = new List<string>();
        var candidate = Candidate(relation.Name);
        if (candidate is not null)
        {
            if (ArchitectureProblem(relation, candidate) is { } archProblem)
            {
                reasons.Add(archProblem);
            }
            else if (!relation.VersionMatches(candidate.Version))
            {
                reasons.Add($"'{relation}': the candidate version of '{relation.Name}' at this tier is {candidate.Version} (apt installs only the candidate){HeldBackNote(relation)}");
            }
            else
            {
                result.Add(candidate);
            }
        }
        var providers = Providers(relation).ToList();
        var providerReasons = new List<string>();
        foreach (var provider in providers
            .OrderBy(p => preferred?.Contains(p.Name) == true ? 0 : 1)
            .ThenBy(p => p.Essential ? 0 : 1)
            .ThenBy(p => string.Equals(p.Stanza["Important"], "yes", StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(p => PriorityRank(p.Priority))
            .ThenBy(p => p.Name, StringComparer.Ordinal))
        {
            if (ArchitectureProblem(relation, provider) is { } archProblem)
            {
                providerReasons.Add(archProblem);
            }
            else if (!result.Contains(provider))
            {
                result.Add(provider);
            }
        }
        if (result.Count > 0)
        {
            failure = null;
            return result;
        }
        reasons.AddRange(providerReasons);
        var allProviders = AllProviders(relation.Name);
        if (candidate is null && allProviders.Count == 0)
        {
            reasons.Add($"'{relation}': no package '{relation.Name}' is served at this tier, nor any package providing it{HeldBackNote(relation)}");
        }
        else if (providers.Count == 0 && allProviders.Count > 0)
        {
            reasons.Add($"'{relation}': provided by {string.Join(", ", allProviders.Select(p => $"{p.Package.Name} {p.Package.Version} (as {p.Provided})"))}, "
                + "which does not satisfy it (an unversioned Provides satisfies no versioned relation, policy 7.5)");
        }
        failure = string.Join("; ", reasons);
        return result;
    }

    /// <summary>
    /// Whether every <c>Pre-Depends</c> and <c>Depends</c> group of <paramref name="package"/> can be met by a candidate
    /// here (one level deep, as apt checks before choosing a solution).
    /// </summary>
    public bool DependenciesSatisfiable(AptPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return package.PreDepends.Concat(package.Depends).All(CanSatisfy);
    }

    /// <summary>apt's <c>VerPriority</c> order: none (0), required, important, standard, optional, then extra and anything else.</summary>
    private static int PriorityRank(string priority) => priority.ToLowerInvariant() switch
    {
        "" => 0,
        "required" => 1,
        "important" => 2,
        "standard" => 3,
        "optional" => 4,
        _ => 5,
    };

    internal string? ArchitectureProblem(AptRelation relation, AptPackage package)
    {
        var native = NativeArchitecture;
        return relation.ArchQualifier switch
        {
            null or "native" => null,
            "any" when package.MultiArch == "allowed" => null,
            "any" => $"'{relation}': {package.Name} {package.Version} is Multi-Arch: {package.MultiArch}, and ':any' needs Multi-Arch: allowed",
            var arch when arch == native => null,
            _ when package.MultiArch == "foreign" => null,
            var arch => $"'{relation}': the packages served here are for {native} (and all); {package.Name} {package.Version} is {package.Architecture}, not {arch}, and not Multi-Arch: foreign",
        };
    }

    internal string HeldBackNote(AptRelation relation)
    {
        var held = HeldBack(relation.Name).Where(h => relation.VersionMatches(h.Package.Version)).ToList();
        return held.Count == 0
            ? ""
            : $"; held back by the tier: {string.Join(", ", held.Take(5).Select(h => $"{h.Package.Version} ({h.Reason})"))}";
    }

    private static bool AppliesTo(AptPackage package, string nativeArchitecture) =>
        package.Architecture == "all" || package.Architecture == nativeArchitecture;
}
