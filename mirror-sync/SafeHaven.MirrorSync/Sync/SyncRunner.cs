using Microsoft.Extensions.Logging;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.MirrorSync.Sync;

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
/// The scheduled and API-requested sync of one ecosystem around the engine's <see cref="SnapshotSync"/> (plan
/// preparation, capture through the live pipeline, publication): one run per ecosystem at a time across all replicas
/// (claimed in the shared <see cref="SyncStateStore"/>; a second request is refused, not queued), its live counts and
/// outcome there for every replica to report, and retention after each publish. A failed run publishes nothing, so the
/// last good snapshot stays current (its age shows on <c>/healthz</c>).
/// </summary>
public sealed class SyncRunner(
    SnapshotSync engine,
    SnapshotRetention retention,
    SyncStateStore states,
    TimeProvider time,
    ILogger<SyncRunner> logger)
{
    /// <summary>This process, as the replica holding a run (<c>host:pid</c>).</summary>
    public static readonly string Replica = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The ecosystems this appliance syncs: an enabled mirror with an upstream and a plan.</summary>
    public IReadOnlyList<string> Ecosystems => engine.Ecosystems;

    /// <summary>Throws <see cref="UnknownSyncEcosystemException"/> unless <paramref name="ecosystem"/> is synced here.</summary>
    public void Require(string ecosystem)
    {
        var known = Ecosystems;
        if (!known.Contains(ecosystem, StringComparer.Ordinal))
        {
            throw new UnknownSyncEcosystemException(ecosystem, known);
        }
    }

    /// <summary>Whether a run of <paramref name="ecosystem"/> is in progress on any replica.</summary>
    public async Task<bool> IsRunningAsync(string ecosystem, CancellationToken cancellationToken) =>
        (await states.GetAsync(ecosystem, cancellationToken).ConfigureAwait(false)).IsRunning(time.GetUtcNow());

    /// <summary>
    /// Runs one sync now and returns the published snapshot. Throws <see cref="SyncAlreadyRunningException"/> when one
    /// runs already (here or on another replica), and rethrows the failure of a failed run (after recording it).
    /// </summary>
    public async Task<SnapshotRecord> RunAsync(string ecosystem, string trigger, CancellationToken cancellationToken)
    {
        Require(ecosystem);
        if (!await states.TryStartAsync(ecosystem, trigger, Replica, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            throw new SyncAlreadyRunningException(ecosystem);
        }
        logger.LogInformation("{Ecosystem} sync started ({Trigger})", ecosystem, trigger);
        SnapshotRecord record;
        try
        {
            record = await RunReportingProgressAsync(ecosystem, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var reason = e is OperationCanceledException ? "cancelled" : e.Message;
            await RecordAsync(ecosystem, ct => states.FailAsync(ecosystem, Replica, time.GetUtcNow(), reason, ct)).ConfigureAwait(false);
            logger.LogError("{Ecosystem} sync failed; the last published snapshot stays current: {Reason}", ecosystem, reason);
            throw;
        }
        await RecordAsync(ecosystem, ct => states.SucceedAsync(ecosystem, Replica, time.GetUtcNow(), record, ct)).ConfigureAwait(false);
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

    /// <summary>The engine's run, its progress written to the shared state until it ends (whichever way).</summary>
    private async Task<SnapshotRecord> RunReportingProgressAsync(string ecosystem, CancellationToken cancellationToken)
    {
        var progress = new SyncProgress();
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportProgressAsync(ecosystem, progress, reporting.Token);
        try
        {
            return await engine.RunOnceAsync(ecosystem, cancellationToken, progress).ConfigureAwait(false);
        }
        finally
        {
            await reporting.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
        }
    }

    /// <summary>Writes the run's counts and heartbeat every <see cref="SyncStateStore.ProgressInterval"/> until cancelled.</summary>
    private async Task ReportProgressAsync(string ecosystem, SyncProgress progress, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SyncStateStore.ProgressInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await states.ReportProgressAsync(ecosystem, Replica, progress.Documents, progress.Artifacts, progress.Bytes, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The run goes on; its counts show again at the next report (or its end).
                    logger.LogWarning(e, "{Ecosystem}: the sync's progress could not be recorded", ecosystem);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Records a run's outcome even when the run was cancelled; a database failure is logged, not thrown over the outcome.</summary>
    private async Task RecordAsync(string ecosystem, Func<CancellationToken, Task> record)
    {
        try
        {
            await record(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The run's own outcome stands (published or not); the state shows it abandoned after SyncStateStore.StaleAfter.
            logger.LogError(e, "{Ecosystem}: the sync's outcome could not be recorded", ecosystem);
        }
    }
}
