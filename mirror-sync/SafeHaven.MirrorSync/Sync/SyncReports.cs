using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// Builds <see cref="SnapshotSyncReport"/>s from the shared sync state and the snapshot store's current record, so every
/// replica reports the same, whichever ran the sync.
/// </summary>
public sealed class SyncReports(SyncRunner runner, SyncStateStore states, ISnapshotStore store, TierPolicyProvider policy, IOptionsMonitor<SafeHavenOptions> options, TimeProvider time) : ISnapshotSyncReports
{
    /// <summary>Synced ecosystems, and any other with a current snapshot (an imported, snapshot-only mirror).</summary>
    public async Task<IReadOnlyList<SnapshotSyncReport>> ListAsync(CancellationToken cancellationToken)
    {
        var reports = new List<SnapshotSyncReport>();
        var synced = runner.Ecosystems;
        foreach (var ecosystem in SnapshotManifest.Ecosystems.Order(StringComparer.Ordinal))
        {
            var current = await store.GetCurrentAsync(ecosystem, cancellationToken).ConfigureAwait(false);
            if (synced.Contains(ecosystem, StringComparer.Ordinal) || current is not null)
            {
                reports.Add(Describe(await states.GetAsync(ecosystem, cancellationToken).ConfigureAwait(false), current));
            }
        }
        return reports;
    }

    /// <summary>The report of one synced ecosystem; throws <see cref="UnknownSyncEcosystemException"/> for any other.</summary>
    public async Task<SnapshotSyncReport> OneAsync(string ecosystem, CancellationToken cancellationToken)
    {
        runner.Require(ecosystem);
        return Describe(await states.GetAsync(ecosystem, cancellationToken).ConfigureAwait(false),
            await store.GetCurrentAsync(ecosystem, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// What degrades <c>/healthz</c>: at Tier 2+ a current snapshot older than <c>MaximumLagDays</c> (the staleness bound
    /// holds for what is served), a last sync that failed (the previous snapshot is still served), and a run whose
    /// replica stopped reporting (it died; nothing was published).
    /// </summary>
    public static IReadOnlyList<string> Problems(string ecosystem, SnapshotRecord? current, SyncState state, TierPolicy rules, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        var problems = new List<string>();
        if (current is not null && rules.Tier >= 2 && current.CreatedAt < now - rules.MaximumLag)
        {
            problems.Add($"{ecosystem}: current snapshot {current.Id[..12]} is {(now - current.CreatedAt).TotalDays:0.0} days old, over the {rules.MaximumLag.TotalDays:0}-day bound");
        }
        if (RefreshStatus.IsFailing(state.LastSuccess, state.LastFailure))
        {
            problems.Add($"{ecosystem}: the last sync failed at {state.LastFailure:O}: {state.LastError}; snapshot {current?.Id[..12] ?? "(none)"} stays current");
        }
        if (state.IsAbandoned(now))
        {
            problems.Add($"{ecosystem}: the sync started at {state.RunningSince:O} on {state.RunningOn} stopped reporting at {state.Heartbeat:O}; nothing was published and snapshot {current?.Id[..12] ?? "(none)"} stays current");
        }
        return problems;
    }

    private SnapshotSyncReport Describe(SyncState state, SnapshotRecord? current)
    {
        var now = time.GetUtcNow();
        var ecosystem = state.Ecosystem;
        var problems = Problems(ecosystem, current, state, policy.Current.Policy, now);
        CurrentSnapshotReport? snapshot = current is null ? null
            : new CurrentSnapshotReport(current.Id, current.CreatedAt, Math.Round((now - current.CreatedAt).TotalDays, 3), current.Origin, current.Documents, current.Artifacts, current.Bytes);
        var schedule = options.CurrentValue.Mirrors.TryGetValue(ecosystem, out var mirror) ? mirror.Sync.Schedule : null;
        var running = state.IsRunning(now);
        return new SnapshotSyncReport(ecosystem, string.IsNullOrWhiteSpace(schedule) ? null : schedule, running, running ? state.RunningSince : null,
            running ? state.RunningOn : null, state.Trigger,
            state.Documents, state.Artifacts, state.Bytes, state.LastSuccess, state.LastFailure, state.LastError,
            state.LastDurationSeconds is { } seconds ? Math.Round(seconds, 3) : null, snapshot, problems);
    }
}

/// <summary><c>/healthz</c> section <c>snapshots</c>: each mirror's current snapshot (id, age) and its sync; problems degrade.</summary>
public sealed class SyncHealth(SyncReports view) : IHealthContributor
{
    public async ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        var reports = await view.ListAsync(cancellationToken).ConfigureAwait(false);
        return new HealthSection("snapshots", reports.ToDictionary(r => r.Ecosystem, r => (object)r), reports.SelectMany(r => r.Problems).ToList());
    }
}
