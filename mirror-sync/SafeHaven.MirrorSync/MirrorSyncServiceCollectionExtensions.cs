using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Snapshots;
using SafeHaven.MirrorSync.Cluster;
using SafeHaven.MirrorSync.GarbageCollection;
using SafeHaven.MirrorSync.Jobs;
using SafeHaven.MirrorSync.Sharing;
using SafeHaven.MirrorSync.Sync;

namespace SafeHaven.MirrorSync;

public static class MirrorSyncServiceCollectionExtensions
{
    /// <summary>
    /// Registers the scheduled mirror jobs on Quartz. On one machine (SQLite) every job runs on the in-memory scheduler.
    /// With <c>SafeHaven:Database:Provider=postgres</c> the jobs whose effect is shared run on the clustered PostgreSQL
    /// scheduler, once across all replicas: the index refresh (the shared index cache) and the allowlist closure
    /// (computed once, stored in the database, adopted by every replica through <see cref="ClosureSharing"/>).
    /// Repository refreshes, which complete one replica's readiness, stay on each replica's in-memory scheduler.
    /// </summary>
    public static IServiceCollection AddMirrorSync(this IServiceCollection services, TimeSpan closureInterval, TimeSpan refreshInterval, SafeHavenOptions? options = null)
    {
        var clustered = options is not null && ClusteredScheduler.AppliesTo(options);
        services.AddQuartz(quartz =>
        {
            if (!clustered)
            {
                quartz.AddJob<AllowlistClosureJob>(job => job.WithIdentity(AllowlistClosureJob.Key).StoreDurably());
                quartz.AddTrigger(trigger => trigger
                    .ForJob(AllowlistClosureJob.Key)
                    .WithIdentity(ClosureSchedule.TriggerKey)
                    .StartNow()
                    // Late (a slow start on a loaded machine): run at once, never wait an interval with /readyz at 503.
                    .WithSimpleSchedule(s => s.WithInterval(closureInterval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount)));
                AddIndexRefresh(quartz, refreshInterval);
            }
            quartz.AddJob<RepositoryRefreshJob>(job => job.WithIdentity(RepositoryRefreshJob.Key).StoreDurably());
            quartz.AddJob<SyncJob>(job => job.WithIdentity(SyncJob.Key).StoreDurably());
        });
        if (clustered)
        {
            services.AddClusteredScheduler(options!, quartz =>
            {
                AddIndexRefresh(quartz, refreshInterval);
                // Its trigger is stated by ClosureSchedule, kept as it is when another replica stated it already.
                quartz.AddJob<AllowlistClosureJob>(job => job.WithIdentity(AllowlistClosureJob.Key).StoreDurably());
                // Scheduled snapshot syncs: once across replicas (SyncSchedule states their cron triggers there).
                quartz.AddJob<SyncJob>(job => job.WithIdentity(SyncJob.Key).StoreDurably());
            });
            services.AddClosureSharing(TimeSpan.FromSeconds(options!.Database.ClosurePollSeconds));
            services.AddHostedService(sp => new ClosureSchedule(sp.GetRequiredService<ISchedulerFactory>(), closureInterval));
        }
        // Registered before Quartz's own hosted service and before the web server: readiness is required before the first answer.
        services.AddHostedService<RepositoryRefreshSchedule>();
        services.AddQuartzHostedService(options => options.WaitForJobsToComplete = false);
        return services;
    }

    private static void AddIndexRefresh(IQuartzBuilder quartz, TimeSpan refreshInterval)
    {
        quartz.AddJob<IndexRefreshJob>(job => job.WithIdentity(IndexRefreshJob.Key).StoreDurably());
        quartz.AddTrigger(trigger => trigger
            .ForJob(IndexRefreshJob.Key)
            .WithIdentity("index-refresh-schedule", "mirror-sync")
            .StartAt(DateTimeOffset.UtcNow + refreshInterval)
            .WithSimpleSchedule(s => s.WithInterval(refreshInterval).RepeatForever()));
    }

    /// <summary>
    /// Scheduled sync and snapshots (<see cref="SyncRunner"/>, <c>/api/sync</c>, the <c>snapshots</c> section of
    /// <c>/healthz</c>, retention) and the snapshot garbage collector with the blob references it consults.
    /// Needs the gateway's services (blob store, index cache, the ecosystems' snapshot plans) and <see cref="AddMirrorSync"/>.
    /// </summary>
    public static IServiceCollection AddSnapshotSync(this IServiceCollection services, SafeHavenOptions options)
    {
        services.AddSafeHavenSnapshots(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => SyncStateStore.OpenAsync(sp.GetRequiredService<SafeHavenDatabase>(), CancellationToken.None).GetAwaiter().GetResult());
        services.AddSingleton<ForgottenSnapshots>();
        services.AddSingleton<SnapshotRetention>();
        services.AddSingleton<SyncRunner>();
        services.AddHostedService<SyncSchedule>();
        services.AddSingleton<SyncReports>();
        services.AddSingleton<ISnapshotSyncReports>(sp => sp.GetRequiredService<SyncReports>());
        services.AddSingleton<IHealthContributor, SyncHealth>();
        services.AddSingleton<IBlobReferences, ArtifactCacheReferences>();
        services.AddSingleton<SnapshotGarbageCollector>();
        return services;
    }

    /// <summary>
    /// Several replicas over one PostgreSQL: closures computed on one replica are stored in the shared database and
    /// adopted by the others (polled every <paramref name="pollInterval"/>). <see cref="AddMirrorSync"/> calls it with PostgreSQL.
    /// </summary>
    public static IServiceCollection AddClosureSharing(this IServiceCollection services, TimeSpan pollInterval)
    {
        services.AddSingleton(sp => new ClosureSharing(sp.GetRequiredService<SafeHavenDatabase>(), sp.GetRequiredService<AllowlistClosureRegistry>(),
            sp.GetRequiredService<TierPolicyProvider>(), sp.GetRequiredService<ReadinessState>(), sp.GetRequiredService<ILogger<ClosureSharing>>(), pollInterval));
        services.AddHostedService(sp => sp.GetRequiredService<ClosureSharing>());
        return services;
    }
}
