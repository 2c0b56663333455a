using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quartz;
using SafeHaven.Core.Configuration;
using SafeHaven.MirrorSync.Cluster;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// At start: one cron trigger of <see cref="SyncJob"/> per synced mirror with <c>SafeHaven:Mirrors:&lt;eco&gt;:Sync:Schedule</c>.
/// A missed fire (the appliance was down or busy) fires once at once, then the schedule resumes. With
/// <c>SafeHaven:Database:Provider=postgres</c> the triggers live in the clustered scheduler, so a scheduled sync runs on
/// one replica only (its snapshot, in the shared database and blob store, then serves from every replica); each replica
/// re-states the same triggers at start. A sync asked for through <c>POST /api/sync/{eco}</c> runs on the replica asked.
/// </summary>
public sealed class SyncSchedule(SyncRunner runner, ISchedulerFactory schedulers, IOptions<SafeHavenOptions> options) : IHostedService
{
    /// <summary>Every configured schedule that is not a valid Quartz cron expression, in the operator's terms.</summary>
    public static IReadOnlyList<string> Validate(SafeHavenOptions options) =>
        options.Mirrors
            .Where(m => !string.IsNullOrWhiteSpace(m.Value.Sync.Schedule) && !CronExpression.TryParse(m.Value.Sync.Schedule, out _))
            .Select(m => $"SafeHaven:Mirrors:{m.Key}:Sync:Schedule: '{m.Value.Sync.Schedule}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week, e.g. \"0 0 2 * * ?\")")
            .ToList();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = ClusteredScheduler.AppliesTo(options.Value)
            ? await ClusteredScheduler.LookupAsync(schedulers, cancellationToken).ConfigureAwait(false)
            : await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        foreach (var ecosystem in runner.Ecosystems)
        {
            var schedule = options.Value.Mirrors[ecosystem].Sync.Schedule;
            if (string.IsNullOrWhiteSpace(schedule))
            {
                continue;
            }
            var trigger = TriggerBuilder.Create()
                .WithIdentity(SyncJob.TriggerName(ecosystem), "mirror-sync")
                .ForJob(SyncJob.Key)
                .UsingJobData(new JobDataMap { [SyncJob.EcosystemEntry] = ecosystem, [SyncJob.TriggerEntry] = "schedule" })
                .WithCronSchedule(schedule, cron => cron.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
            // Always re-stated: the configured schedule replaces a stored one.
            await ClusteredScheduler.StateTriggerAsync(scheduler, trigger, keepStored: _ => false, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
