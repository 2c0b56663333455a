using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;

namespace SafeHaven.Gateway.Ecosystems.Conda.Selection;

/// <summary>Why an upstream record is or is not listed: a <see cref="VersionDecision"/> code and plain words.</summary>
public sealed record CondaDecision(bool Visible, string Code, string Reason);

/// <summary>
/// The one tier policy applied to conda records. A record without a <c>sha256</c> is never listed (it could not be
/// verified). Every other record is decided by <see cref="TierPolicy"/> with its date (its <c>timestamp</c>, else the
/// appliance's first-seen time): pass-through at Tier 0/1, quarantine with the advisory fast-track at Tier 2+, and at
/// Tier 3+ only packages in the allowlist closure. A known malicious version is never listed, at any tier.
/// <para>
/// Records whose <c>depends</c> the tier cannot meet are still listed: conda's solvers (libsolv, resolvo) backtrack
/// to another record rather than fail on one that cannot be installed, unlike apt and R, and <c>constrains</c> are
/// the solver's to enforce among what is listed. The allowlist closure is where unmet dependencies are reported.
/// </para>
/// </summary>
public static class CondaSelector
{
    public const string Ecosystem = "conda";

    /// <summary>
    /// OSV has no conda ecosystem: advisories for conda packages are matched under the name <c>conda</c>, which the
    /// site's own advisory files (and any feed that adopts the name) use. PyPI advisories are not applied to conda
    /// packages: names and builds differ (a conda package may carry a patched build of the same version).
    /// </summary>
    public const string OsvEcosystem = "conda";

    /// <summary>Versions compared by conda's own ordering (<see cref="CondaVersion"/>); an unreadable one equals only itself and orders nowhere.</summary>
    public static EcosystemPolicyTraits Traits { get; } = new(OsvEcosystem,
        (a, b) => CondaVersion.TryParse(a, out var x) && CondaVersion.TryParse(b, out var y) ? x.Equals(y) : string.Equals(a, b, StringComparison.Ordinal),
        (a, b) => CondaVersion.TryParse(a, out var x) && CondaVersion.TryParse(b, out var y) ? x.CompareTo(y) : null);

    public static CondaDecision Decide(CondaRecord record, TierPolicy policy, AllowlistClosure? closure, bool applyAllowlist, DateTimeOffset now)
    {
        if (record.Sha256 is null)
        {
            return new CondaDecision(false, VersionDecision.Unverifiable,
                $"{record.Filename} has no sha256 in upstream's repodata.json, so it cannot be verified and is never listed");
        }
        if (policy.MaliciousDecision(record.Name, record.Version, Traits) is { } malicious)
        {
            return new CondaDecision(false, malicious.Code, malicious.Reason);
        }
        if (applyAllowlist && policy.RequiresAllowlist && (closure is null || !closure.Contains(record.Name.ToLowerInvariant())))
        {
            return new CondaDecision(false, VersionDecision.NotAllowlisted,
                $"tier {policy.Tier}: '{record.Name}' is not on the approved list nor a dependency of an approved package");
        }
        var decision = policy.EvaluateVersion(new VersionFacts(Ecosystem, record.Name, record.Version, record.Published), Traits, now);
        return new CondaDecision(decision.Visible, decision.Code, decision.Reason);
    }

    /// <summary>The records of one subdir listed at the tier, in upstream order, and how many are hidden for each reason.</summary>
    public static (IReadOnlyList<CondaRecord> Listed, IReadOnlyDictionary<string, int> HiddenByCode) Select(
        IReadOnlyList<CondaRecord> records, TierPolicy policy, AllowlistClosure? closure, DateTimeOffset now)
    {
        var listed = new List<CondaRecord>();
        var hidden = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var decision = Decide(record, policy, closure, applyAllowlist: true, now);
            if (decision.Visible)
            {
                listed.Add(record);
            }
            else
            {
                hidden[decision.Code] = hidden.GetValueOrDefault(decision.Code) + 1;
            }
        }
        return (listed, hidden);
    }
}
