using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.MirrorSync.Cluster;

/// <summary>
/// With <c>SafeHaven:Database:Provider=postgres</c>, the scheduler whose jobs run once across all replicas: Quartz's ADO job
/// store in the shared PostgreSQL, clustered. Each replica checks in every
/// <c>SafeHaven:Database:SchedulerCheckinIntervalSeconds</c>; a replica that misses its check-ins is taken for dead and
/// its triggers (and the jobs it was running, when they ask for recovery) are taken over by another.
/// Jobs whose effect lives in one replica's memory (repository refreshes that complete its readiness) stay on the
/// in-memory default scheduler of each replica; the allowlist closure runs here and is shared through the database.
/// </summary>
public static class ClusteredScheduler
{
    /// <summary>The Quartz scheduler name every replica shares (rows of the Quartz tables are keyed by it).</summary>
    public const string Name = "safehaven-cluster";

    /// <summary>Whether the appliance runs the clustered scheduler: with <c>SafeHaven:Database:Provider=postgres</c>.</summary>
    public static bool AppliesTo(SafeHavenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SafeHavenDatabase.IsPostgres(options.Database);
    }

    /// <summary>The clustered scheduler, which <see cref="AddClusteredScheduler"/> registered.</summary>
    public static async Task<IScheduler> LookupAsync(ISchedulerFactory schedulers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        return await schedulers.LookupScheduler(Name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the clustered scheduler '{Name}' is not registered");
    }

    /// <summary>
    /// Schedules <paramref name="trigger"/> in a store that may hold it already (a persistent store: stated at an earlier
    /// start, or by another replica, possibly at this same moment). A trigger already stored is replaced unless
    /// <paramref name="keepStored"/> says to keep it.
    /// </summary>
    public static async Task StateTriggerAsync(IScheduler scheduler, ITrigger trigger, Func<ITrigger, bool> keepStored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(keepStored);
        if (await scheduler.GetTrigger(trigger.Key, cancellationToken).ConfigureAwait(false) is null)
        {
            try
            {
                await scheduler.ScheduleJob(trigger, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ObjectAlreadyExistsException)
            {
                // Stated by another replica meanwhile: judged below like any stored trigger.
            }
        }
        if (await scheduler.GetTrigger(trigger.Key, cancellationToken).ConfigureAwait(false) is not { } stored || !keepStored(stored))
        {
            await scheduler.RescheduleJob(trigger.Key, trigger, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Registers the clustered scheduler (its tables migrated before it starts) with the jobs <paramref name="configure"/> adds.
    /// </summary>
    public static IServiceCollection AddClusteredScheduler(this IServiceCollection services, SafeHavenOptions options, Action<IQuartzBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!AppliesTo(options) || string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            throw new InvalidOperationException("The clustered scheduler needs SafeHaven:Database:Provider=postgres and its ConnectionString.");
        }
        var checkin = TimeSpan.FromSeconds(options.Database.SchedulerCheckinIntervalSeconds);
        services.AddSafeHavenDatabase(options);
        // Before Quartz's hosted service: its tables exist before the scheduler first reads them.
        services.AddHostedService<QuartzSchema>();
        services.AddQuartz(Name, quartz =>
        {
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(options.Database.ConnectionString);
                store.UseSystemTextJsonSerializer();
                store.UseClustering(cluster =>
                {
                    cluster.CheckinInterval = checkin;
                    // A replica is presumed dead after two missed check-ins. (Clustering gives each replica its own generated instance id.)
                    cluster.CheckinMisfireThreshold = checkin * 2;
                });
            });
            configure(quartz);
        });
        services.AddQuartzHostedService(Name, hosted => hosted.WaitForJobsToComplete = false);
        return services;
    }

    private sealed class QuartzSchema(SafeHavenDatabase database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            SchemaMigrations.ApplyAsync(database, QuartzTables.Area, QuartzTables.Migrations, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
