using Microsoft.Extensions.Hosting;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Gateway.Health;

namespace SafeHaven.MirrorSync.Jobs;

/// <summary>
/// At start, before the server answers: marks each repository-format mirror not ready until its first refresh ends,
/// and gives <see cref="RepositoryRefreshJob"/> one trigger per mirror (at once, then every interval).
/// </summary>
public sealed class RepositoryRefreshSchedule(IEnumerable<IRepositoryRefresh> refreshes, ISchedulerFactory schedulers, ReadinessState readiness) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var list = refreshes.ToList();
        if (list.Count == 0)
        {
            return;
        }
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        foreach (var refresh in list)
        {
            readiness.Require(refresh.ReadinessKey);
            var trigger = TriggerBuilder.Create()
                .WithIdentity($"repository-refresh-{refresh.Ecosystem}", "mirror-sync")
                .ForJob(RepositoryRefreshJob.Key)
                .UsingJobData(new JobDataMap { [RepositoryRefreshJob.EcosystemEntry] = refresh.Ecosystem })
                .StartNow()
                // A fire missed by more than Quartz's misfire threshold (a slow start on a loaded machine, a refresh that ran
                // long) runs at once: skipping to the next interval would leave the mirror not ready for a whole interval.
                .WithSimpleSchedule(s => s.WithInterval(refresh.Interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount))
                .Build();
            await scheduler.ScheduleJob(trigger, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
