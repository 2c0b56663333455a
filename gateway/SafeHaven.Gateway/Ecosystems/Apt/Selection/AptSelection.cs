using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;

namespace SafeHaven.Gateway.Ecosystems.Apt.Selection;

/// <summary>Why an upstream package is or is not listed: a <see cref="VersionDecision"/> code and plain words.</summary>
public sealed record AptDecision(bool Visible, string Code, string Reason);

/// <summary>The packages each verified index lists at the tier, and why every other one is not listed.</summary>
public sealed record AptSelection(
    IReadOnlyDictionary<string, IReadOnlyList<(VerifiedIndex Index, IReadOnlyList<DatedPackage> Visible)>> Suites,
    IReadOnlyDictionary<string, AptDecision> Hidden,
    IReadOnlyDictionary<string, int> HiddenByCode,
    IReadOnlyList<string> Broken);

/// <summary>
/// The one tier policy applied to apt. Each (package, version, architecture) is decided by <see cref="TierPolicy"/>
/// with its date (the earliest verified <c>Release</c> that listed it): pass-through at Tier 0/1, quarantine with the
/// advisory fast-track at Tier 2+, where an <c>Undelayed</c> (security) repository skips the quarantine; at Tier 3+
/// only the allowlist closure. Then, at Tier 2+, a package whose <c>Depends</c> or <c>Pre-Depends</c> cannot all be
/// met by what is listed (or by an <c>Essential</c>/<c>Priority: required</c> package every Debian system has) is
/// not listed either, repeated until nothing changes: apt fails rather than backtracks, so a listed package must install.
/// </summary>
public static class AptSelector
{
    public const string Ecosystem = "apt";
    public const string DependenciesUnavailable = "dependencies-unavailable";
    public const string Undelayed = "undelayed";

    public static readonly EcosystemPolicyTraits Traits = new("Debian",
        (a, b) => DebianVersion.TryParse(a, out var x) && DebianVersion.TryParse(b, out var y) && x!.Equals(y),
        (a, b) => DebianVersion.TryParse(a, out var x) && DebianVersion.TryParse(b, out var y) ? x!.CompareTo(y) : null);

    /// <summary>
    /// The policy traits for a suite: OSV names Debian's advisories by release (<c>Debian:12</c>), which the suite's
    /// <c>Release</c> gives in its <c>Version</c> (e.g. <c>12.8</c>); a suite without one (testing, unstable, another
    /// distribution) is matched as <c>Debian</c>.
    /// </summary>
    public static EcosystemPolicyTraits TraitsOf(VerifiedSuite suite) =>
        suite.Release.Version is { } version && version.Split('.')[0] is var major && major.Length > 0 && major.All(char.IsAsciiDigit)
            ? Traits with { OsvEcosystem = "Debian:" + major }
            : Traits;

    /// <summary>The pool file name key of <see cref="AptSelection.Hidden"/>: repository and <c>Filename</c>.</summary>
    public static string FileKey(string repository, string filename) => repository + "\n" + filename;

    private static string PackageKey(string repository, AptPackage p) => DatedPackage.DateKey(repository, p);

    /// <summary>
    /// The decision for one package by date and advisories and, when <paramref name="applyAllowlist"/>, the allowlist
    /// closure (not yet its dependencies). The closure itself is computed over what passes without the allowlist.
    /// </summary>
    public static AptDecision Decide(VerifiedSuite suite, DatedPackage dated, TierPolicy policy, AllowlistClosure? closure, bool applyAllowlist, DateTimeOffset now)
    {
        var repository = suite.Repository;
        var traits = TraitsOf(suite);
        var package = dated.Package;
        var version = package.Version.ToString();
        if (policy.MaliciousDecision(package.Name, version, traits) is { } malicious)
        {
            return new AptDecision(false, malicious.Code, malicious.Reason);
        }
        if (applyAllowlist && policy.RequiresAllowlist && (closure is null || !closure.Contains(package.Name)))
        {
            return new AptDecision(false, VersionDecision.NotAllowlisted,
                $"tier {policy.Tier}: '{package.Name}' is not on the approved list nor a dependency of an approved package");
        }
        if (policy.AppliesQuarantine && repository.Undelayed)
        {
            return new AptDecision(true, Undelayed, $"tier {policy.Tier}: repository '{repository.Name}' is undelayed (security fixes skip the quarantine)");
        }
        var decision = policy.EvaluateVersion(new VersionFacts(Ecosystem, package.Name, version, dated.FirstListed), traits, now);
        if (decision.Code == VersionDecision.Quarantined && TrackerCodename(suite) is { } codename)
        {
            var (source, sourceVersion) = SourceOf(package);
            if (sourceVersion is not null && policy.Advisories.TrackerFixFor(source, codename, sourceVersion) is { } fix)
            {
                var others = fix.EntryCount > 1 ? $" and {fix.EntryCount - 1} more tracker entries" : "";
                return new AptDecision(true, VersionDecision.FastTracked,
                    $"tier {policy.Tier}: fast-tracked past the quarantine because source package {source} {sourceVersion} carries the fix for {fix.EntryId}{others} in {codename} (Debian security tracker: fixed in {fix.FixedVersion})");
            }
        }
        return new AptDecision(decision.Visible, decision.Code, decision.Reason);
    }

    private static readonly string[] CodenameSuffixes = ["-proposed-updates", "-security", "-updates"];

    /// <summary>
    /// The release name the Debian security tracker files a suite's fixes under: the <c>Codename</c> of its
    /// <c>Release</c>, less the <c>-security</c>, <c>-updates</c> or <c>-proposed-updates</c> of the suites that carry
    /// fixes to that release (backports are not: their versions are not the release's). Null without a codename.
    /// </summary>
    public static string? TrackerCodename(VerifiedSuite suite)
    {
        if (suite.Release.Codename is not { Length: > 0 } codename)
        {
            return null;
        }
        foreach (var suffix in CodenameSuffixes)
        {
            if (codename.EndsWith(suffix, StringComparison.Ordinal) && codename.Length > suffix.Length)
            {
                return codename[..^suffix.Length];
            }
        }
        return codename;
    }

    /// <summary>
    /// The source package a binary is built from, as the tracker names it, and its version: the <c>Source</c> field
    /// (<c>foo</c>, or <c>foo (1.2-3)</c> when the source version differs from the binary's), else the binary's own
    /// name and version. The version is null when the one in parentheses cannot be read: then nothing is fast-tracked.
    /// </summary>
    public static (string Source, DebianVersion? Version) SourceOf(AptPackage package)
    {
        var field = package.Stanza["Source"]?.Trim();
        if (string.IsNullOrEmpty(field))
        {
            return (package.Name, package.Version);
        }
        var open = field.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return (field, package.Version);
        }
        var name = field[..open].Trim();
        var close = field.IndexOf(')', open);
        var versionText = close > open ? field[(open + 1)..close].Trim() : "";
        // A source version that cannot be read is not guessed at (fail closed: no fast-track).
        return (name, DebianVersion.TryParse(versionText, out var sourceVersion) ? sourceVersion : null);
    }

    public static AptSelection Select(IReadOnlyList<VerifiedSuite> suites, TierPolicy policy, AllowlistClosure? closure, DateTimeOffset now)
    {
        var hidden = new Dictionary<string, AptDecision>(StringComparer.Ordinal);
        var visible = new HashSet<string>(StringComparer.Ordinal);
        // Every Debian system has its Essential and Priority: required packages installed: a dependency they meet is met.
        var baseSystem = new Dictionary<string, List<AptPackage>>(StringComparer.Ordinal);
        var byArchitecture = new Dictionary<string, Dictionary<string, (AptRepository Repository, AptPackage Package)>>(StringComparer.Ordinal);
        var architectures = suites.SelectMany(s => s.Repository.Architectures).Where(a => a != "all").Distinct(StringComparer.Ordinal).ToList();
        foreach (var suite in suites)
        {
            foreach (var index in suite.Indexes)
            {
                foreach (var dated in index.Packages)
                {
                    var package = dated.Package;
                    var key = PackageKey(suite.Repository.Name, package);
                    var byDate = Decide(suite, dated, policy, closure: null, applyAllowlist: false, now);
                    var decision = policy.RequiresAllowlist && byDate.Visible ? Decide(suite, dated, policy, closure, applyAllowlist: true, now) : byDate;
                    if (byDate.Visible && (package.Essential || package.Priority == "required"))
                    {
                        foreach (var architecture in ArchitecturesOf(package, architectures))
                        {
                            AddTo(baseSystem, architecture, package);
                        }
                    }
                    if (!decision.Visible)
                    {
                        hidden[FileKey(suite.Repository.Name, package.Filename)] = decision;
                        continue;
                    }
                    visible.Add(key);
                    foreach (var architecture in ArchitecturesOf(package, architectures))
                    {
                        if (!byArchitecture.TryGetValue(architecture, out var set))
                        {
                            byArchitecture[architecture] = set = new(StringComparer.Ordinal);
                        }
                        set.TryAdd(key, (suite.Repository, package));
                    }
                }
            }
        }

        var broken = new List<string>();
        if (policy.AppliesQuarantine)
        {
            foreach (var (architecture, set) in byArchitecture)
            {
                var installed = new AptUniverse(baseSystem.TryGetValue(architecture, out var b) ? b : [], architecture);
                while (true)
                {
                    var universe = new AptUniverse(set.Values.Select(v => v.Package), architecture);
                    var removed = new List<(string Key, AptRepository Repository, AptPackage Package, string Missing)>();
                    foreach (var (key, (repository, package)) in set)
                    {
                        if (AptDependencies.FirstUnmet(package, universe, installed) is { } missing)
                        {
                            removed.Add((key, repository, package, missing));
                        }
                    }
                    if (removed.Count == 0)
                    {
                        break;
                    }
                    foreach (var (key, repository, package, missing) in removed)
                    {
                        set.Remove(key);
                        visible.Remove(key);
                        var reason = $"tier {policy.Tier}: {package.Name} {package.Version} ({package.Architecture}) is not listed because its dependency '{missing}' is not served at this tier on {architecture}";
                        hidden[FileKey(repository.Name, package.Filename)] = new AptDecision(false, DependenciesUnavailable, reason);
                        broken.Add(reason);
                    }
                }
            }
        }

        var result = new Dictionary<string, IReadOnlyList<(VerifiedIndex, IReadOnlyList<DatedPackage>)>>(StringComparer.Ordinal);
        foreach (var suite in suites)
        {
            result[suite.Key] = suite.Indexes
                .Select(index => (index, (IReadOnlyList<DatedPackage>)index.Packages.Where(d => visible.Contains(PackageKey(suite.Repository.Name, d.Package))).ToList()))
                .ToList();
        }
        var byCode = hidden.Values.GroupBy(d => d.Code, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new AptSelection(result, hidden, byCode, broken);
    }

    private static IEnumerable<string> ArchitecturesOf(AptPackage package, IReadOnlyList<string> architectures) =>
        package.Architecture == "all" ? architectures : architectures.Where(a => a == package.Architecture);

    private static void AddTo(Dictionary<string, List<AptPackage>> map, string key, AptPackage package)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }
        list.Add(package);
    }
}
