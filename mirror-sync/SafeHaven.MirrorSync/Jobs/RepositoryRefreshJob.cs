using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Gateway.Health;

namespace SafeHaven.MirrorSync.Jobs;

/// <summary>
/// Re-reads and re-publishes a whole repository-format mirror (apt), one trigger per mirror (named in the trigger's
/// data), scheduled by <see cref="RepositoryRefreshSchedule"/>: once at start, then every <see cref="IRepositoryRefresh.Interval"/>.
/// Runs never overlap (a run that outlasts the interval delays the next one); a failed run keeps the last published
/// state, and the first run, whatever its outcome, completes the mirror's readiness.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RepositoryRefreshJob(
    IEnumerable<IRepositoryRefresh> refreshes,
    ReadinessState readiness,
    ILogger<RepositoryRefreshJob> logger) : IJob
{
    public static readonly JobKey Key = new("repository-refresh", "mirror-sync");

    /// <summary>The trigger data entry naming the ecosystem to refresh.</summary>
    public const string EcosystemEntry = "ecosystem";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var ecosystem = context.MergedJobDataMap.TryGetValue(EcosystemEntry, out var value) ? value as string : null;
        var refresh = refreshes.FirstOrDefault(r => string.Equals(r.Ecosystem, ecosystem, StringComparison.Ordinal));
        if (refresh is null)
        {
            logger.LogError("Repository refresh triggered for {Ecosystem}, which has no scheduled refresh", ecosystem);
            return;
        }
        try
        {
            await refresh.RefreshAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Ecosystem}: the scheduled refresh failed; the last published state stays in force", refresh.Ecosystem);
        }
        finally
        {
            readiness.Complete(refresh.ReadinessKey);
        }
    }
}
