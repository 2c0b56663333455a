using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Cran.Dates;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>A version with the tier's decision on it.</summary>
public sealed record CranCandidate(CranPackage Package, VersionDecision Decision);

/// <summary>
/// The one version of a package that R will see (R never backtracks: one version per package): the newest
/// visible current version, else, when the current ones are held back by the quarantine, the newest visible
/// archived one. <see cref="Reason"/> says why there is none.
/// </summary>
public sealed record CranChoice(string Name, CranPackage? Chosen, IReadOnlyList<CranCandidate> Candidates, string? Reason)
{
    public static readonly EcosystemPolicyTraits Traits = new("CRAN", VersionsEqual, CompareVersions);

    /// <summary>When a decision here may change by itself (a quarantine ending), else null.</summary>
    public DateTimeOffset? ChangesAt => Candidates.Select(c => c.Decision.ChangesAt).Where(d => d is not null).Min();

    /// <summary>The decision for one version, current or archived.</summary>
    public static VersionDecision Decide(CranPackage package, TierPolicy policy, DateTimeOffset now)
    {
        if (!package.Archived && (package.Md5 is null || package.Md5.Length != 32 || !package.Md5.All(char.IsAsciiHexDigit)))
        {
            return new VersionDecision(false, VersionDecision.Unverifiable, $"upstream gives no MD5sum for {package.FileName}, so it cannot be verified");
        }
        if (package.Version is null)
        {
            return policy.AppliesQuarantine
                ? new VersionDecision(false, VersionDecision.UnknownVersion, $"tier {policy.Tier}: '{package.VersionText}' of {package.Name} is not an R package version")
                : new VersionDecision(true, VersionDecision.PassThrough, $"tier {policy.Tier}: pass-through");
        }
        var decision = policy.EvaluateVersion(new VersionFacts("cran", package.Name, package.VersionText, package.Published), Traits, now);
        if (package.DateSource == CranDateSource.FirstSeen && decision.Code == VersionDecision.Quarantined)
        {
            // Only the appliance's own clock dates it: held as undated until that clock has run the delay.
            return decision with
            {
                Code = VersionDecision.NoUploadDate,
                Reason = $"tier {policy.Tier}: upstream publishes no date for {package.FileName} (not in PACKAGES, web/packages/packages.rds, " +
                    $"src/contrib/Meta/archive.rds nor its DESCRIPTION); this appliance first saw it {package.Published!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z " +
                    $"and holds it until {decision.VisibleFrom!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z ({policy.MinimumAge.TotalDays:0}-day delay)",
            };
        }
        return decision;
    }

    /// <summary>Hidden only until time passes: by the quarantine, or by the first-seen clock of an undated version.</summary>
    public static bool IsHeldBack(VersionDecision decision) =>
        !decision.Visible && decision.Code is VersionDecision.Quarantined or VersionDecision.NoUploadDate;

    /// <summary>
    /// Decides every current version; true when the archive should be consulted: none is visible and at least one
    /// is held back by the quarantine or is undated (so an older, dated version may stand in for it).
    /// </summary>
    public static bool NeedsArchive(IReadOnlyList<CranPackage> current, TierPolicy policy, DateTimeOffset now)
    {
        if (!policy.AppliesQuarantine)
        {
            return false;
        }
        var decisions = current.Select(p => Decide(p, policy, now)).ToList();
        return decisions.All(d => !d.Visible) && decisions.Any(d => IsHeldBack(d) || d.Code == VersionDecision.NoUploadDate);
    }

    /// <summary>
    /// Chooses among the current versions and, when given, archived ones (consulted only if no current one is
    /// visible). Archived versions are decided newest first, and only until one is visible.
    /// </summary>
    public static CranChoice Choose(string name, IReadOnlyList<CranPackage> current, IReadOnlyList<CranPackage>? archived, TierPolicy policy, DateTimeOffset now)
    {
        var candidates = current.Select(p => new CranCandidate(p, Decide(p, policy, now))).ToList();
        var chosen = Newest(candidates.Where(c => c.Decision.Visible));
        if (chosen is null && archived is not null)
        {
            foreach (var package in archived.OrderByDescending(p => p.Version))
            {
                var candidate = new CranCandidate(package, Decide(package, policy, now));
                candidates.Add(candidate);
                if (candidate.Decision.Visible)
                {
                    chosen = package;
                    break;
                }
            }
        }
        return new CranChoice(name, chosen, candidates, chosen is null ? NoVersionReason(name, candidates, policy) : null);
    }

    /// <summary>Why no version of a package is visible, in the words an operator and a user need.</summary>
    private static string NoVersionReason(string name, IReadOnlyList<CranCandidate> candidates, TierPolicy policy)
    {
        if (candidates.Count == 0)
        {
            return $"upstream has no package '{name}'";
        }
        var details = string.Join("; ", candidates.Select(c => $"{c.Package.VersionText}: {c.Decision.Reason}").Take(5));
        if (candidates.All(c => IsHeldBack(c.Decision) && c.Decision.ChangesAt is not null))
        {
            var until = candidates.Min(c => c.Decision.ChangesAt!.Value);
            var undated = candidates.All(c => c.Decision.Code == VersionDecision.NoUploadDate);
            return (undated
                ? $"every version of '{name}' is undated upstream and held by this appliance's first-seen clock until {until.UtcDateTime:yyyy-MM-dd HH:mm}Z"
                : $"every version of '{name}' is in quarantine until {until.UtcDateTime:yyyy-MM-dd HH:mm}Z at the earliest") + $" (tier {policy.Tier}): {details}";
        }
        return $"no version of '{name}' is visible at tier {policy.Tier}: {details}";
    }

    private static CranPackage? Newest(IEnumerable<CranCandidate> candidates)
    {
        CranPackage? best = null;
        foreach (var candidate in candidates)
        {
            var package = candidate.Package;
            if (best is null || (package.Version is not null && (best.Version is null || package.Version > best.Version)))
            {
                best = package;
            }
        }
        return best;
    }

    private static int? CompareVersions(string left, string right) =>
        RVersion.TryParse(left, out var l) && RVersion.TryParse(right, out var r) ? l.CompareTo(r) : null;

    private static bool VersionsEqual(string left, string right) =>
        RVersion.TryParse(left, out var l) && RVersion.TryParse(right, out var r) ? l == r : left == right;
}

/// <summary>
/// What the tier lets R see at one moment: the <c>PACKAGES</c> index (one version per package) and why each
/// missing package is missing. At Tier 2+, a package whose dependencies (Depends, Imports, LinkingTo; base and
/// recommended packages excepted) are not all listed in a satisfying version is not listed either, since R would
/// fail to install it. Valid until upstream is re-read, the policy or closure changes, or a quarantine ends.
/// </summary>
public sealed class CranView
{
    /// <summary>Fields of an archived version's DESCRIPTION that go into <c>PACKAGES</c> (what <c>write_PACKAGES</c> writes).</summary>
    private static readonly FrozenSet<string> IndexFields = new[]
    {
        "Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "Enhances", "License",
        "License_is_FOSS", "License_restricts_use", "OS_type", "Archs", "NeedsCompilation", "Date/Publication",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The <c>X-SafeHaven-Policy</c> code of a package left out because of its dependencies.</summary>
    public const string DependenciesUnavailable = "dependencies-unavailable";

    private readonly Lazy<(byte[] Plain, byte[] Gzip, string ETag)> _rendered;

    public CranView(CranIndexState state, PolicySnapshot policy, AllowlistClosure? closure, IReadOnlyList<CranChoice> choices, DateTimeOffset now)
    {
        State = state;
        PolicyGeneration = policy.Generation;
        Closure = closure;
        Choices = choices.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);
        var listed = choices.Where(c => c.Chosen is not null).ToDictionary(c => c.Name, c => c.Chosen!, StringComparer.Ordinal);
        var excluded = new Dictionary<string, string>(StringComparer.Ordinal);
        if (policy.Policy.AppliesQuarantine)
        {
            Prune(listed, excluded);
        }
        Listed = choices.Where(c => listed.ContainsKey(c.Name)).Select(c => listed[c.Name]).ToList();
        ListedByName = listed.ToFrozenDictionary(StringComparer.Ordinal);
        Excluded = excluded.ToFrozenDictionary(StringComparer.Ordinal);
        var changesAt = choices.Select(c => c.ChangesAt).Where(d => d is not null && d > now).Min();
        ValidUntil = changesAt ?? DateTimeOffset.MaxValue;
        _rendered = new Lazy<(byte[], byte[], string)>(Render);
    }

    public CranIndexState State { get; }
    public long PolicyGeneration { get; }
    public AllowlistClosure? Closure { get; }
    public FrozenDictionary<string, CranChoice> Choices { get; }

    /// <summary>The versions in <c>PACKAGES</c>, in upstream order.</summary>
    public IReadOnlyList<CranPackage> Listed { get; }
    public FrozenDictionary<string, CranPackage> ListedByName { get; }

    /// <summary>Packages with a visible version that are left out because of their dependencies, with the reason.</summary>
    public FrozenDictionary<string, string> Excluded { get; }

    public DateTimeOffset ValidUntil { get; }

    public byte[] Packages => _rendered.Value.Plain;
    public byte[] PackagesGz => _rendered.Value.Gzip;
    public string ETag => _rendered.Value.ETag;

    private void Prune(Dictionary<string, CranPackage> listed, Dictionary<string, string> excluded)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var (name, package) in listed.ToList())
            {
                var reason = package.DependencyError is { } error ? $"its dependencies cannot be read: {error}" : null;
                foreach (var dependency in package.Dependencies)
                {
                    if (reason is not null)
                    {
                        break;
                    }
                    if (listed.TryGetValue(dependency.Name, out var served))
                    {
                        if (served.Version is null || !dependency.IsSatisfiedBy(served.Version))
                        {
                            reason = $"it needs {dependency}, and the version served at this tier is {served.VersionText} (R never backtracks)";
                        }
                    }
                    else if (excluded.TryGetValue(dependency.Name, out var why))
                    {
                        reason = $"it needs {dependency}, which is not listed because {why}";
                    }
                    else if (Choices.TryGetValue(dependency.Name, out var choice) && choice.Reason is not null)
                    {
                        reason = $"it needs {dependency}: {choice.Reason}";
                    }
                    else if (State.ByName.ContainsKey(dependency.Name))
                    {
                        reason = $"it needs {dependency}, which is not on the approved list nor a dependency of an approved package";
                    }
                    else
                    {
                        reason = $"it needs {dependency}, which upstream does not have";
                    }
                }
                if (reason is not null)
                {
                    listed.Remove(name);
                    excluded[name] = reason;
                    changed = true;
                }
            }
        }
        while (changed);
    }

    /// <summary>The <c>PACKAGES</c> record R sees for a listed version (archived ones point R at the archive with <c>Path:</c>).</summary>
    public static DcfRecord IndexRecord(CranPackage package) => package.Archived
        ? package.Record.Only(IndexFields).With("MD5sum", package.Md5).With("Path", $"Archive/{package.Name}")
        : package.Record;

    private (byte[], byte[], string) Render()
    {
        var plain = Encoding.UTF8.GetBytes(Dcf.Render(Listed.Select(IndexRecord)));
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(plain).AsSpan(0, 16)) + "\"";
        return (plain, CranIndexParser.Gzip(plain), etag);
    }
}
