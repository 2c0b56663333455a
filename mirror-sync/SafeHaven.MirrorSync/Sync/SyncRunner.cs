using System.Collections.Concurrent;
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
/// preparation, capture through the live pipeline, publication): one run per ecosystem at a time (a second request is
/// refused, not queued), its progress and outcome in <see cref="SyncStatus"/>, and retention after each publish.
/// A failed run publishes nothing, so the last good snapshot stays current (its age shows on <c>/healthz</c>).
/// </summary>
public sealed class SyncRunner(
    SnapshotSync engine,
    SnapshotRetention retention,
    SyncStatus status,
    TimeProvider time,
    ILogger<SyncRunner> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new(StringComparer.Ordinal);

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

    /// <summary>Whether a run of <paramref name="ecosystem"/> is in progress.</summary>
    public bool IsRunning(string ecosystem) => status.Get(ecosystem).RunningSince is not null;

    /// <summary>
    /// Runs one sync now and returns the published snapshot. Throws <see cref="SyncAlreadyRunningException"/> when one
    /// runs already, and rethrows the failure of a failed run (after recording it).
    /// </summary>
    public async Task<SnapshotRecord> RunAsync(string ecosystem, string trigger, CancellationToken cancellationToken)
    {
        Require(ecosystem);
        var gate = _running.GetOrAdd(ecosystem, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw new SyncAlreadyRunningException(ecosystem);
        }
        var state = status.Get(ecosystem);
        try
        {
            state.Start(time.GetUtcNow(), trigger);
            logger.LogInformation("{Ecosystem} sync started ({Trigger})", ecosystem, trigger);
            var record = await engine.RunOnceAsync(ecosystem, cancellationToken, state).ConfigureAwait(false);
            state.Succeed(time.GetUtcNow(), record);
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
            logger.LogError("{Ecosystem} sync failed; the last published snapshot stays current: {Reason}", ecosystem, reason);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }
}
