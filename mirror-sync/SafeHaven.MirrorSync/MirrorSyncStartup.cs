using Microsoft.Extensions.DependencyInjection;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
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
        policy.Changed += () => _ = TriggerAsync(schedulers);
    }

    private static async Task TriggerAsync(ISchedulerFactory schedulers)
    {
        var scheduler = await schedulers.GetScheduler().ConfigureAwait(false);
        await scheduler.TriggerJob(AllowlistClosureJob.Key).ConfigureAwait(false);
    }
}
