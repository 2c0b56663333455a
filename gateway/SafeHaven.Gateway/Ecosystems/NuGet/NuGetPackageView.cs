using System.Globalization;
using NuGet.Versioning;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>Where a version's date comes from, best first (the one date rule).</summary>
public enum NuGetDateSource
{
    None,
    /// <summary>The registration's <c>published</c> (not the 1900 placeholder).</summary>
    Published,
    /// <summary>The RFC 3161 timestamp of the package's trusted repository signature.</summary>
    RepositorySignature,
    /// <summary>When the appliance first saw the version (recorded once, never moved).</summary>
    FirstSeen,
}

/// <summary>
/// What the appliance has learnt about a package's versions beyond upstream's registration: verified packages
/// (signed date, <c>.nuspec</c> dependencies), the pinned SHA-512, refusals, first-seen times, and whether trusted signers
/// are configured. <see cref="Generation"/> identifies it, so a view built on older knowledge is rebuilt.
/// </summary>
public sealed record NuGetKnowledge(
    IReadOnlyDictionary<string, NuGetVersionFacts> Facts, IReadOnlyDictionary<string, string> Refusals,
    IReadOnlyDictionary<string, DateTimeOffset> FirstSeen, bool TrustedSignersConfigured, long Generation)
{
    public static readonly NuGetKnowledge None = new(
        new Dictionary<string, NuGetVersionFacts>(), new Dictionary<string, string>(), new Dictionary<string, DateTimeOffset>(), false, 0);

    /// <summary>
    /// Base64 SHA-512 of each version's pinned first verified copy (the generic per-file-name pin): what the
    /// appliance serves, so what its registration states, whatever upstream's index now says.
    /// </summary>
    public IReadOnlyDictionary<string, string> PinnedSha512 { get; init; } = new Dictionary<string, string>();

    /// <summary>The artifact pins' generation this knowledge was gathered at (a newer pin rebuilds the view).</summary>
    public long PinGeneration { get; init; }
}

/// <summary>
/// What the tier lets clients see of one package at one moment: the visible versions (oldest first, NuGet's
/// order) and the decision for every version. Valid until upstream is re-read, the policy changes, or a
/// quarantine ends (<see cref="ValidUntil"/>).
/// </summary>
public sealed class NuGetPackageView
{
    public static readonly EcosystemPolicyTraits Traits = new("NuGet", VersionsEqual, CompareVersions);

    private readonly Lazy<RenderedPage> _versionList;

    public NuGetPackageView(NuGetPackageState state, PolicySnapshot policy, AllowlistClosure? closure, DateTimeOffset now, NuGetKnowledge? knowledge = null)
    {
        State = state;
        PolicyGeneration = policy.Generation;
        Closure = closure;
        Knowledge = knowledge ?? NuGetKnowledge.None;
        var decisions = new Dictionary<string, VersionDecision>(StringComparer.Ordinal);
        var dates = new Dictionary<string, (DateTimeOffset?, NuGetDateSource)>(StringComparer.Ordinal);
        var visible = new List<NuGetVersionEntry>();
        var hidden = new Dictionary<string, int>(StringComparer.Ordinal);
        DateTimeOffset? nextChange = null;
        foreach (var entry in state.Entries)
        {
            var date = DateOf(entry, Knowledge);
            dates[entry.Normalized] = date;
            var decision = Decide(state.LowerId, entry, policy.Policy, now, Knowledge, date);
            decisions[entry.Normalized] = decision;
            if (decision.Visible)
            {
                visible.Add(entry);
            }
            else
            {
                hidden[decision.Code] = hidden.GetValueOrDefault(decision.Code) + 1;
                if (decision.ChangesAt is { } changesAt && (nextChange is null || changesAt < nextChange))
                {
                    nextChange = changesAt;
                }
            }
        }
        Decisions = decisions;
        Dates = dates;
        HiddenByCode = hidden;
        Visible = visible;
        ValidUntil = nextChange ?? DateTimeOffset.MaxValue;
        _versionList = new Lazy<RenderedPage>(() => RenderedPage.Create(NuGetRenderer.FlatContainerVersions(this)));
    }

    /// <summary>The flat-container version list (<c>index.json</c>), rendered once for this view.</summary>
    public RenderedPage VersionList => _versionList.Value;

    public NuGetPackageState State { get; }
    public NuGetKnowledge Knowledge { get; }
    public long PolicyGeneration { get; }

    /// <summary>The date each version is judged by, and where it comes from (by normalised version).</summary>
    public IReadOnlyDictionary<string, (DateTimeOffset? Date, NuGetDateSource Source)> Dates { get; }

    /// <summary>How many versions the tier hides, by reason code (for <c>/healthz</c> coverage).</summary>
    public IReadOnlyDictionary<string, int> HiddenByCode { get; }

    /// <summary>
    /// The version's dependency groups: the registration's, else those of the verified package's <c>.nuspec</c>;
    /// null when neither is known yet (unknown, never "none").
    /// </summary>
    public IReadOnlyList<NuGetDependencyGroup>? DependencyGroupsOf(NuGetVersionEntry entry) =>
        entry.Leaf.DependencyGroups ?? Knowledge.Facts.GetValueOrDefault(entry.Normalized)?.DependencyGroups;

    /// <summary>The <c>published</c> to render: the date the policy used, as ISO 8601; null (omit it) when there is none.</summary>
    public string? PublishedText(NuGetVersionEntry entry) =>
        Dates.TryGetValue(entry.Normalized, out var date) && date.Date is { } value
            ? date.Source == NuGetDateSource.Published && entry.Leaf.Published is { } upstream ? upstream : value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)
            : null;

    /// <summary>The one date rule: upstream's <c>published</c>, else the trusted repository signature's timestamp, else first-seen.</summary>
    public static (DateTimeOffset? Date, NuGetDateSource Source) DateOf(NuGetVersionEntry entry, NuGetKnowledge knowledge)
    {
        if (entry.Published is { } published)
        {
            return (published, NuGetDateSource.Published);
        }
        if (knowledge.Facts.GetValueOrDefault(entry.Normalized)?.SignedAt is { } signed)
        {
            return (signed, NuGetDateSource.RepositorySignature);
        }
        return knowledge.FirstSeen.TryGetValue(entry.Normalized, out var firstSeen) ? (firstSeen, NuGetDateSource.FirstSeen) : (null, NuGetDateSource.None);
    }
    public AllowlistClosure? Closure { get; }

    /// <summary>By normalised lower-case version.</summary>
    public IReadOnlyDictionary<string, VersionDecision> Decisions { get; }

    /// <summary>The versions a client may see, oldest first.</summary>
    public IReadOnlyList<NuGetVersionEntry> Visible { get; }

    public DateTimeOffset ValidUntil { get; }

    /// <summary>
    /// The decision for one version. A version whose package was refused (a signature that does not hold, a file that
    /// differs from the pinned one) is never offered; nor is one with no upstream hash, no catalog leaf to read one from,
    /// no trusted signers to check its signature against, and no earlier verified copy: it could not be verified.
    /// Otherwise the one tier policy decides on the version's date (<see cref="DateOf"/>). A quarantine counted from
    /// the appliance's own first-seen time is reported as <c>no-upload-date</c>, so <c>/healthz</c> shows it.
    /// </summary>
    public static VersionDecision Decide(string lowerId, NuGetVersionEntry entry, TierPolicy policy, DateTimeOffset now,
        NuGetKnowledge? knowledge = null, (DateTimeOffset? Date, NuGetDateSource Source)? date = null)
    {
        knowledge ??= NuGetKnowledge.None;
        if (knowledge.Refusals.TryGetValue(entry.Normalized, out var refusal))
        {
            return new VersionDecision(false, VersionDecision.Unverifiable, $"the package {lowerId} {entry.Normalized} was refused: {refusal}");
        }
        if (!entry.Verifiable && !knowledge.TrustedSignersConfigured && !knowledge.Facts.ContainsKey(entry.Normalized))
        {
            return new VersionDecision(false, VersionDecision.Unverifiable,
                $"upstream gives no package hash for {lowerId} {entry.Normalized} and no trusted signers are configured (SafeHaven:Mirrors:nuget:TrustedSigners), so it cannot be verified");
        }
        var (when, source) = date ?? DateOf(entry, knowledge);
        var decision = policy.EvaluateVersion(new VersionFacts("nuget", lowerId, entry.Normalized, when), Traits, now);
        if (source == NuGetDateSource.FirstSeen && !decision.Visible && decision.Code == VersionDecision.Quarantined)
        {
            return decision with
            {
                Code = VersionDecision.NoUploadDate,
                Reason = $"tier {policy.Tier}: upstream gives no date for {lowerId} {entry.Normalized} and no trusted repository signature timestamp is known for it; "
                    + $"it was first seen here at {when!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z and is held until {decision.VisibleFrom!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z ({policy.MinimumAge.TotalDays:0}-day delay)",
            };
        }
        if (source == NuGetDateSource.RepositorySignature && decision.Code == VersionDecision.Aged)
        {
            return decision with { Reason = $"tier {policy.Tier}: repository signature timestamped {when!.Value.UtcDateTime:yyyy-MM-dd}, past the {policy.MinimumAge.TotalDays:0}-day quarantine" };
        }
        return decision;
    }

    private static int? CompareVersions(string left, string right) =>
        NuGetVersion.TryParse(left, out var l) && NuGetVersion.TryParse(right, out var r) ? VersionComparer.Default.Compare(l, r) : null;

    private static bool VersionsEqual(string left, string right) =>
        NuGetVersion.TryParse(left, out var l) && NuGetVersion.TryParse(right, out var r)
            ? VersionComparer.Default.Equals(l, r)
            : string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
}
