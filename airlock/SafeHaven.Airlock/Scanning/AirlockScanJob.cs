using Quartz;

namespace SafeHaven.Airlock.Scanning;

/// <summary>
/// The Quartz job that runs inspections: on a poll schedule (<c>SafeHaven:Airlock:ScanPollSeconds</c>), and at once when
/// a deposit is marked complete or a rescan is asked for (<see cref="QuartzScanTrigger"/>). Runs may overlap; the
/// scanner's slots bound how many inspections run at once.
/// </summary>
public sealed class AirlockScanJob(AirlockScanner scanner) : IJob
{
    public static readonly JobKey Key = new("airlock-scan", "airlock");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await scanner.RunAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>Fires <see cref="AirlockScanJob"/> now.</summary>
public sealed class QuartzScanTrigger(ISchedulerFactory schedulers) : IScanTrigger
{
    public async Task PokeAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(AirlockScanJob.Key, cancellationToken).ConfigureAwait(false);
    }
}
