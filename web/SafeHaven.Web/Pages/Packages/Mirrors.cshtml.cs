using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>One mirror as the health page shows it.</summary>
public sealed record MirrorRow(
    string Ecosystem, bool Enabled, MirrorStatus Status, MirrorFreshness Freshness, AllowlistClosure? Closure);

/// <summary>
/// Each mirror's health for System Managers and Referees: upstream reads and failures, freshness (the oldest cached
/// index against the tier's staleness bound, by the same rule as <c>/healthz</c>), and the allowlist closure's
/// unsatisfiable dependencies.
/// </summary>
[RequireRole(Role.SystemManager, Role.CollegeReferee)]
public sealed class MirrorsModel(TierPolicyProvider policy, MirrorHealth health, IIndexCacheStore store, AllowlistClosureRegistry closures,
    IOptionsMonitor<SafeHavenOptions> options, TimeProvider time) : SafeHavenPage
{
    public PolicySnapshot Snapshot { get; private set; } = null!;
    public IReadOnlyList<MirrorRow> Mirrors { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Snapshot = policy.Current;
        var now = time.GetUtcNow();
        var rows = new List<MirrorRow>();
        foreach (var (ecosystem, mirror) in options.CurrentValue.Mirrors.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var enabled = mirror.Enabled && !string.IsNullOrWhiteSpace(mirror.Upstream);
            var freshness = await MirrorFreshness.ReadAsync(ecosystem, store, Snapshot, now, cancellationToken).ConfigureAwait(false);
            rows.Add(new MirrorRow(ecosystem, enabled, health.Get(ecosystem), freshness, closures.Get(ecosystem)));
        }
        Mirrors = rows;
    }
}
