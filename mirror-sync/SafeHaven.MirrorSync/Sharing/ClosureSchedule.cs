using Microsoft.Extensions.Hosting;
using Quartz;
using SafeHaven.MirrorSync.Cluster;
using SafeHaven.MirrorSync.Jobs;

namespace SafeHaven.MirrorSync.Sharing;

/// <summary>
/// Several replicas: at each replica's start, the periodic allowlist-closure trigger on the clustered scheduler is
/// stated once (a replica starting later keeps the one already stored, so no start forces a recomputation), and one run
/// is asked for that any closure stored for this replica's policy satisfies: a replica joining a running cluster adopts
/// the closure in force, and only the first replica of a new cluster, or one whose policy no stored closure matches,
/// computes.
/// </summary>
public sealed class ClosureSchedule(ISchedulerFactory schedulers, TimeSpan interval) : IHostedService
{
    public static readonly TriggerKey TriggerKey = new("allowlist-closure-schedule", "mirror-sync");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await ClusteredScheduler.LookupAsync(schedulers, cancellationToken).ConfigureAwait(false);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(TriggerKey)
            .ForJob(AllowlistClosureJob.Key)
            .StartAt(DateTimeOffset.UtcNow + interval)
            .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount))
            .Build();
        // Kept as stored (its next fire time stands) unless the interval changed.
        await ClusteredScheduler.StateTriggerAsync(scheduler, trigger, stored => stored is ISimpleTrigger simple && simple.RepeatInterval == interval, cancellationToken)
            .ConfigureAwait(false);
        await scheduler.TriggerJob(AllowlistClosureJob.Key, AllowlistClosureJob.AdoptingStored(), cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
