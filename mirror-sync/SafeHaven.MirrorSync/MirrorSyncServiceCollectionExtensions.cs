using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.MirrorSync.Jobs;
using SafeHaven.MirrorSync.Sharing;

namespace SafeHaven.MirrorSync;

public static class MirrorSyncServiceCollectionExtensions
{
    /// <summary>Registers the scheduled mirror jobs on Quartz (in-memory store for the embedded appliance).</summary>
    public static IServiceCollection AddMirrorSync(this IServiceCollection services, TimeSpan closureInterval, TimeSpan refreshInterval)
    {
        services.AddQuartz(quartz =>
        {
            quartz.AddJob<AllowlistClosureJob>(job => job.WithIdentity(AllowlistClosureJob.Key).StoreDurably());
            quartz.AddTrigger(trigger => trigger
                .ForJob(AllowlistClosureJob.Key)
                .WithIdentity("allowlist-closure-schedule", "mirror-sync")
                .StartNow()
                // Late (a slow start on a loaded machine): run at once, never wait an interval with /readyz at 503.
                .WithSimpleSchedule(s => s.WithInterval(closureInterval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount)));
            quartz.AddJob<IndexRefreshJob>(job => job.WithIdentity(IndexRefreshJob.Key).StoreDurably());
            quartz.AddTrigger(trigger => trigger
                .ForJob(IndexRefreshJob.Key)
                .WithIdentity("index-refresh-schedule", "mirror-sync")
                .StartAt(DateTimeOffset.UtcNow + refreshInterval)
                .WithSimpleSchedule(s => s.WithInterval(refreshInterval).RepeatForever()));
            quartz.AddJob<RepositoryRefreshJob>(job => job.WithIdentity(RepositoryRefreshJob.Key).StoreDurably());
        });
        // Registered before Quartz's own hosted service and before the web server: readiness is required before the first answer.
        services.AddHostedService<RepositoryRefreshSchedule>();
        services.AddQuartzHostedService(options => options.WaitForJobsToComplete = false);
        return services;
    }

    /// <summary>
    /// Several replicas over one PostgreSQL: closures computed on one replica are stored in the shared database and
    /// adopted by the others (polled every <paramref name="pollInterval"/>). The embedded appliance does not call this.
    /// </summary>
    public static IServiceCollection AddClosureSharing(this IServiceCollection services, TimeSpan pollInterval)
    {
        services.AddSingleton(sp => new ClosureSharing(sp.GetRequiredService<SafeHavenDatabase>(), sp.GetRequiredService<AllowlistClosureRegistry>(),
            sp.GetRequiredService<TierPolicyProvider>(), sp.GetRequiredService<ReadinessState>(), sp.GetRequiredService<ILogger<ClosureSharing>>(), pollInterval));
        services.AddHostedService(sp => sp.GetRequiredService<ClosureSharing>());
        return services;
    }
}
