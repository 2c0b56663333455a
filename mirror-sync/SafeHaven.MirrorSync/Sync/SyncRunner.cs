using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>Captures one ecosystem's served surface as blobs and returns the manifest (not yet published).</summary>
public interface ISyncCapture
{
    Task<SnapshotManifest> CaptureAsync(ISnapshotPlan plan, SnapshotScope scope, EcosystemSyncState progress, CancellationToken cancellationToken);
}

/// <summary>The ecosystem has no snapshot plan, or its mirror is not configured and enabled.</summary>
public sealed class UnknownSyncEcosystemException(string ecosystem, IEnumerable<string> known)
    : Exception($"'{ecosystem}' is not a synced mirror of this appliance (synced: {string.Join(", ", known.DefaultIfEmpty("none"))})")
{
    public string Ecosystem => ecosystem;
}

/// <summary>A run of the ecosystem is already in progress; runs never overlap.</summary>
public sealed class SyncAlreadyRunningException(string ecosystem)
    : Exception($"a sync of {ecosystem} is already running")
{
    public string Ecosystem => ecosystem;
}

/// <summary>
/// One sync of one ecosystem: <see cref="ISnapshotPlan.PrepareAsync"/> (apt and conda re-read upstream), capture of
/// every document and artifact in scope, then <see cref="SnapshotPublisher"/> makes the new snapshot current, and
/// retention forgets the old ones. One run per ecosystem at a time; a failed run publishes nothing, so the last good
/// snapshot stays current (its age shows on <c>/healthz</c>).
/// </summary>
public sealed class SyncRunner(
    IEnumerable<ISnapshotPlan> plans,
    ISyncCapture capture,
    SnapshotPublisher publisher,
    SnapshotRetention retention,
    SyncStatus status,
    TierPolicyProvider policy,
    IOptionsMonitor<SafeHavenOptions> options,
    TimeProvider time,
    ILogger<SyncRunner> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new(StringComparer.Ordinal);

    /// <summary>The ecosystems this appliance syncs: a plan, and an enabled mirror configured for it.</summary>
    public IReadOnlyList<string> Ecosystems => plans
        .Select(p => p.Ecosystem)
        .Where(e => options.CurrentValue.Mirrors.TryGetValue(e, out var m) && m.Enabled)
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <summary>Throws <see cref="UnknownSyncEcosystemException"/> unless <paramref name="ecosystem"/> is synced here.</summary>
    public ISnapshotPlan PlanFor(string ecosystem)
    {
        var known = Ecosystems;
        return known.Contains(ecosystem, StringComparer.Ordinal)
            ? plans.First(p => p.Ecosystem == ecosystem)
            : throw new UnknownSyncEcosystemException(ecosystem, known);
    }

    /// <summary>Whether a run of <paramref name="ecosystem"/> is in progress.</summary>
    public bool IsRunning(string ecosystem) => status.Get(ecosystem).RunningSince is not null;

    /// <summary>The scope a sync of <paramref name="ecosystem"/> captures now (the tier and the mirror's Sync section).</summary>
    public SnapshotScope ScopeFor(string ecosystem)
    {
        var tier = policy.Current.Policy.Tier;
        var sync = options.CurrentValue.Mirrors.TryGetValue(ecosystem, out var mirror) ? mirror.Sync : new MirrorSyncOptions();
        var packages = new HashSet<string>(sync.Packages.Select(p => p.Trim()).Where(p => p.Length > 0), StringComparer.OrdinalIgnoreCase);
        var followAll = tier >= 3;
        return new SnapshotScope(tier, packages, followAll, sync.Prefetch ?? followAll);
    }

    /// <summary>
    /// Runs one sync now and returns the published snapshot. Throws <see cref="SyncAlreadyRunningException"/> when one
    /// runs already, and rethrows the failure of a failed run (after recording it).
    /// </summary>
    public async Task<SnapshotRecord> RunAsync(string ecosystem, string trigger, CancellationToken cancellationToken)
    {
        var plan = PlanFor(ecosystem);
        var gate = _running.GetOrAdd(ecosystem, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new SyncAlreadyRunningException(ecosystem);
        }
        var state = status.Get(ecosystem);
        try
        {
            state.Start(time.GetUtcNow(), trigger);
            var scope = ScopeFor(ecosystem);
            logger.LogInformation("{Ecosystem} sync started ({Trigger}): tier {Tier}, prefetch {Prefetch}, {Packages} named packages",
                ecosystem, trigger, scope.Tier, scope.Prefetch, scope.Packages.Count);
            await plan.PrepareAsync(cancellationToken).ConfigureAwait(false);
            var manifest = await capture.CaptureAsync(plan, scope, state, cancellationToken).ConfigureAwait(false);
            var record = await publisher.PublishAsync(manifest, cancellationToken).ConfigureAwait(false);
            state.Succeed(time.GetUtcNow(), record);
            logger.LogInformation("{Ecosystem} snapshot {Id} published: {Documents} documents, {Artifacts} artifacts, {Bytes} bytes",
                ecosystem, record.Id, record.Documents, record.Artifacts, record.Bytes);
            try
            {
                await retention.ApplyAsync(ecosystem, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The snapshot is published; retention runs again after the next one.
                logger.LogWarning(e, "{Ecosystem}: snapshot retention failed; old snapshots are kept until the next sync", ecosystem);
            }
            return record;
        }
        catch (Exception e)
        {
            var reason = e is OperationCanceledException ? "cancelled" : e.Message;
            state.Fail(time.GetUtcNow(), reason);
            logger.LogError(e, "{Ecosystem} sync failed; the last published snapshot stays current: {Reason}", ecosystem, reason);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }
}
