using SafeHaven.Core.Advisories;

namespace SafeHaven.Core.Tiers;

/// <summary>Whether a version may be served, and why: the reason is shown to people, so it is plain words.</summary>
public sealed record VersionDecision(bool Visible, string Code, string Reason, DateTimeOffset? VisibleFrom = null)
{
    public const string PassThrough = "pass-through";
    public const string Aged = "aged";
    public const string FastTracked = "fast-tracked";
    public const string Quarantined = "quarantined";
    public const string NoUploadDate = "no-upload-date";
    public const string Unverifiable = "unverifiable";
    public const string UnknownVersion = "unknown-version";
    public const string NotAllowlisted = "not-allowlisted";
    public const string Malicious = "malicious";

    /// <summary>When the decision may change by itself as time passes (a quarantine ending), else null.</summary>
    public DateTimeOffset? ChangesAt => Visible ? null : VisibleFrom;
}

/// <summary>The facts about one upstream version that the policy decides on.</summary>
public readonly record struct VersionFacts(string Ecosystem, string Package, string Version, DateTimeOffset? Published);

/// <summary>
/// What an ecosystem contributes to the shared policy: its advisory name, version equality and version order
/// (<see cref="CompareVersions"/> answers null when either version cannot be read; without it, ranges in
/// malicious-package records match every version: fail closed).
/// </summary>
public sealed record EcosystemPolicyTraits(string OsvEcosystem, Func<string, string, bool> VersionEquals, Func<string, string, int?>? CompareVersions = null);

/// <summary>
/// The one tier policy, shared by every ecosystem. Immutable: a configuration change builds a new one.
/// Tier 0/1 pass everything; Tier 2+ apply the quarantine delay by upstream date with the vulnerability fast-track;
/// Tier 3+ additionally restrict projects to the allowlist closure (decided by <see cref="AllowlistClosure"/>).
/// </summary>
public sealed class TierPolicy
{
    public TierPolicy(int tier, TimeSpan minimumAge, TimeSpan maximumLag, AdvisoryIndex advisories)
    {
        if (tier is < 0 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, "A tier is 0 to 4.");
        }
        Tier = tier;
        MinimumAge = minimumAge;
        MaximumLag = maximumLag;
        Advisories = advisories;
    }

    public int Tier { get; }
    public TimeSpan MinimumAge { get; }
    public TimeSpan MaximumLag { get; }
    public AdvisoryIndex Advisories { get; }

    /// <summary>
    /// A version named by a malicious-package record (<c>MAL-</c>) is never served, at any tier, allowlisted or not;
    /// null when no such record names it.
    /// </summary>
    public VersionDecision? MaliciousDecision(string package, string version, EcosystemPolicyTraits traits)
    {
        if (Advisories.MaliciousCount == 0)
        {
            return null;
        }
        var records = Advisories.MaliciousFor(traits.OsvEcosystem, package, version, traits.VersionEquals, traits.CompareVersions);
        if (records.Count == 0)
        {
            return null;
        }
        return new VersionDecision(false, VersionDecision.Malicious,
            $"{package} {version} is a known malicious package version ({string.Join(", ", records.Select(r => r.Id).Distinct())}) and is never served, at any tier");
    }

    /// <summary>Tier 2 and above hold new versions back.</summary>
    public bool AppliesQuarantine => Tier >= 2;

    /// <summary>Tier 3 and above serve only the allowlist closure.</summary>
    public bool RequiresAllowlist => Tier >= 3;

    public VersionDecision EvaluateVersion(in VersionFacts facts, EcosystemPolicyTraits traits, DateTimeOffset now)
    {
        if (MaliciousDecision(facts.Package, facts.Version, traits) is { } malicious)
        {
            return malicious;
        }
        if (!AppliesQuarantine)
        {
            return new VersionDecision(true, VersionDecision.PassThrough, $"tier {Tier}: pass-through");
        }
        if (facts.Published is not { } published)
        {
            return new VersionDecision(false, VersionDecision.NoUploadDate,
                $"tier {Tier}: upstream gives no upload date for {facts.Package} {facts.Version}, so its quarantine cannot be checked");
        }
        var visibleFrom = published + MinimumAge;
        if (now >= visibleFrom)
        {
            return new VersionDecision(true, VersionDecision.Aged, $"tier {Tier}: uploaded {published.UtcDateTime:yyyy-MM-dd}, past the {MinimumAge.TotalDays:0}-day quarantine");
        }
        var fixes = Advisories.FixesFor(traits.OsvEcosystem, facts.Package, facts.Version, traits.VersionEquals);
        if (fixes.Count > 0)
        {
            return new VersionDecision(true, VersionDecision.FastTracked,
                $"tier {Tier}: fast-tracked past the quarantine because it fixes {string.Join(", ", fixes.Select(f => f.AdvisoryId).Distinct())}");
        }
        return new VersionDecision(false, VersionDecision.Quarantined,
            $"tier {Tier}: {facts.Package} {facts.Version} was uploaded {published.UtcDateTime:yyyy-MM-dd HH:mm}Z and is quarantined until {visibleFrom.UtcDateTime:yyyy-MM-dd HH:mm}Z ({MinimumAge.TotalDays:0}-day delay)",
            visibleFrom);
    }
}
