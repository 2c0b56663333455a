using Microsoft.Extensions.DependencyInjection;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.MirrorSync.Cluster;
using SafeHaven.MirrorSync.Jobs;

namespace SafeHaven.MirrorSync;

public static class MirrorSyncStartup
{
    /// <summary>
    /// At Tier 3+, the appliance is not ready until every mirror's closure is computed; a policy change
    /// (allowlist edited, tier changed) recomputes it at once.
    /// </summary>
    public static void RequireClosures(IServiceProvider services, SafeHavenOptions options)
    {
        var readiness = services.GetRequiredService<ReadinessState>();
        if (options.Tier >= 3)
        {
            foreach (var mirror in services.GetServices<IMirrorEcosystem>())
            {
                readiness.Require(AllowlistClosureJob.ReadinessKey(mirror.Ecosystem));
            }
        }
        var policy = services.GetRequiredService<TierPolicyProvider>();
        var schedulers = services.GetRequiredService<ISchedulerFactory>();
        var clustered = ClusteredScheduler.AppliesTo(options);
        policy.Changed += () => _ = TriggerAsync(schedulers, clustered);
    }

    /// <summary>
    /// One replica: its own scheduler recomputes. Several: each replica that sees the change asks the clustered
    /// scheduler, which runs the asks one at a time; the first computes for the new policy and stores it, and the
    /// others find it stored and adopt it.
    /// </summary>
    private static async Task TriggerAsync(ISchedulerFactory schedulers, bool clustered)
    {
        if (clustered)
        {
            var scheduler = await ClusteredScheduler.LookupAsync(schedulers, CancellationToken.None).ConfigureAwait(false);
            await scheduler.TriggerJob(AllowlistClosureJob.Key, AllowlistClosureJob.AdoptingStored()).ConfigureAwait(false);
        }
        else
        {
            var scheduler = await schedulers.GetScheduler().ConfigureAwait(false);
            await scheduler.TriggerJob(AllowlistClosureJob.Key).ConfigureAwait(false);
        }
    }
}
