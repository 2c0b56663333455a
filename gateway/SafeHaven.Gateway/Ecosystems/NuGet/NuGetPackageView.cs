using NuGet.Versioning;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// What the tier lets clients see of one package at one moment: the visible versions (oldest first, NuGet's
/// order) and the decision for every version. Valid until upstream is re-read, the policy changes, or a
/// quarantine ends (<see cref="ValidUntil"/>).
/// </summary>
public sealed class NuGetPackageView
{
    public static readonly EcosystemPolicyTraits Traits = new("NuGet", VersionsEqual);

    private readonly Lazy<RenderedPage> _versionList;

    public NuGetPackageView(NuGetPackageState state, PolicySnapshot policy, AllowlistClosure? closure, DateTimeOffset now)
    {
        State = state;
        PolicyGeneration = policy.Generation;
        Closure = closure;
        var decisions = new Dictionary<string, VersionDecision>(StringComparer.Ordinal);
        var visible = new List<NuGetVersionEntry>();
        DateTimeOffset? nextChange = null;
        foreach (var entry in state.Entries)
        {
            var decision = Decide(state.LowerId, entry, policy.Policy, now);
            decisions[entry.Normalized] = decision;
            if (decision.Visible)
            {
                visible.Add(entry);
            }
            else if (decision.ChangesAt is { } changesAt && (nextChange is null || changesAt < nextChange))
            {
                nextChange = changesAt;
            }
        }
        Decisions = decisions;
        Visible = visible;
        ValidUntil = nextChange ?? DateTimeOffset.MaxValue;
        _versionList = new Lazy<RenderedPage>(() => RenderedPage.Create(NuGetRenderer.FlatContainerVersions(this)));
    }

    /// <summary>The flat-container version list (<c>index.json</c>), rendered once for this view.</summary>
    public RenderedPage VersionList => _versionList.Value;

    public NuGetPackageState State { get; }
    public long PolicyGeneration { get; }
    public AllowlistClosure? Closure { get; }

    /// <summary>By normalised lower-case version.</summary>
    public IReadOnlyDictionary<string, VersionDecision> Decisions { get; }

    /// <summary>The versions a client may see, oldest first.</summary>
    public IReadOnlyList<NuGetVersionEntry> Visible { get; }

    public DateTimeOffset ValidUntil { get; }

    /// <summary>
    /// The decision for one version. A version upstream gives no hash for, and no catalog leaf to read one from,
    /// is never offered: it could not be verified. Otherwise the one tier policy decides on upstream's
    /// <c>published</c> date (unlisted versions carry none, so Tier 2+ hide them).
    /// </summary>
    public static VersionDecision Decide(string lowerId, NuGetVersionEntry entry, TierPolicy policy, DateTimeOffset now)
    {
        if (!entry.Verifiable)
        {
            return new VersionDecision(false, VersionDecision.Unverifiable,
                $"upstream gives no package hash for {lowerId} {entry.Normalized}, so it cannot be verified");
        }
        return policy.EvaluateVersion(new VersionFacts("nuget", lowerId, entry.Normalized, entry.Published), Traits, now);
    }

    private static bool VersionsEqual(string left, string right) =>
        NuGetVersion.TryParse(left, out var l) && NuGetVersion.TryParse(right, out var r)
            ? VersionComparer.Default.Equals(l, r)
            : string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
}
