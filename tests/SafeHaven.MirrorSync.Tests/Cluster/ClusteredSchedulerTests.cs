using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Quartz;
using SafeHaven.Core.Configuration;
using SafeHaven.MirrorSync.Cluster;
using SafeHaven.Tests.Support;

namespace SafeHaven.MirrorSync.Tests.Cluster;

/// <summary>
/// Two appliance replicas' clustered schedulers (two hosts, each with its own Quartz scheduler instance and
/// connections) sharing one real PostgreSQL database, as two machines behind a balancer would.
/// </summary>
public sealed class ClusteredSchedulerTests : IAsyncLifetime
{
    private static readonly JobKey Key = new("recording", "test");
    private readonly List<IHost> _replicas = [];
    private readonly Fires _fires = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await PostgresServer.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await replica.StopAsync(timeout.Token);
            replica.Dispose();
        }
    }

    [Fact]
    public async Task A_scheduled_job_fires_on_exactly_one_replica_and_a_stopped_replicas_work_goes_on_at_the_other()
    {
        var a = await StartReplicaAsync("a");
        await StartReplicaAsync("b");

        await WaitUntilAsync(() => _fires.All.Count >= 8, TimeSpan.FromSeconds(30));

        // Every fire time of the trigger ran once, on one replica or the other, never on both.
        AssertEachFireTimeRanOnce();
        // Each replica is its own cluster member: no Quartz instance id is shared by the two.
        Assert.All(_fires.All.GroupBy(f => f.Instance), g => Assert.Single(g.Select(f => f.Replica).Distinct()));

        // Replica A stops: the trigger keeps firing, now only on B.
        await a.StopAsync();
        var before = _fires.All.Count;
        await WaitUntilAsync(() => _fires.All.Count >= before + 4, TimeSpan.FromSeconds(30));
        Assert.All(_fires.All.Skip(before + 1), f => Assert.Equal("b", f.Replica));
        AssertEachFireTimeRanOnce();
    }

    [Fact]
    public async Task A_job_running_on_a_replica_that_dies_is_run_again_by_another()
    {
        // Replica A connects as a role of its own, so it can be cut off from the database like a machine that died.
        await using (var admin = new NpgsqlConnection(_connectionString))
        {
            await admin.ExecuteAsync("CREATE ROLE replica_a LOGIN SUPERUSER");
        }
        var asA = new NpgsqlConnectionStringBuilder(_connectionString) { Username = "replica_a" }.ConnectionString;
        var key = new JobKey("long-running", "test");
        await StartReplicaAsync("a", asA, quartz =>
        {
            quartz.AddJob<LongRunningJob>(job => job.WithIdentity(key).StoreDurably().RequestRecovery());
            quartz.AddTrigger(trigger => trigger.ForJob(key).WithIdentity("long-running-once", "test").StartNow());
        });
        await WaitUntilAsync(() => _fires.All.Any(f => f.Replica == "a"), TimeSpan.FromSeconds(30));
        await StartReplicaAsync("b", _connectionString, _ => { });

        // A dies in the middle of the job: it never checks in again.
        await using (var admin = new NpgsqlConnection(_connectionString))
        {
            await admin.ExecuteAsync("ALTER ROLE replica_a NOLOGIN");
            await admin.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'replica_a'");
        }

        await WaitUntilAsync(() => _fires.All.Any(f => f.Replica == "b"), TimeSpan.FromSeconds(60));
        var recovered = Assert.Single(_fires.All, f => f.Replica == "b");
        // Run again because A died running it (Quartz's recovery trigger), not as a new fire of the one-shot trigger.
        Assert.True(recovered.Recovering);
        Assert.False(Assert.Single(_fires.All, f => f.Replica == "a").Recovering);
    }

    [Fact]
    public async Task The_quartz_tables_are_created_once_by_the_quartz_migration()
    {
        await Task.WhenAll(StartReplicaAsync("a"), StartReplicaAsync("b"));

        await using var connection = new NpgsqlConnection(_connectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM schema_migrations WHERE area = 'quartz'"));
        // Both replicas check in to the same cluster (each at its first check-in interval).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM qrtz_scheduler_state WHERE sched_name = @name", new { name = ClusteredScheduler.Name }) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "Both replicas should have checked in to the cluster.");
            await Task.Delay(200);
        }
    }

    private void AssertEachFireTimeRanOnce()
    {
        var fires = _fires.All;
        Assert.Equal(fires.Count, fires.Select(f => f.ScheduledAt).Distinct().Count());
    }

    private Task<IHost> StartReplicaAsync(string name) => StartReplicaAsync(name, _connectionString, quartz =>
    {
        quartz.AddJob<RecordingJob>(job => job.WithIdentity(Key).StoreDurably());
        quartz.AddTrigger(trigger => trigger.ForJob(Key).WithIdentity("recording-schedule", "test").StartNow()
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromMilliseconds(400)).RepeatForever()));
    });

    private async Task<IHost> StartReplicaAsync(string name, string connectionString, Action<IQuartzBuilder> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var services = builder.Services;
        services.AddSingleton(_fires);
        services.AddSingleton(new ReplicaName(name));
        var options = new SafeHavenOptions
        {
            DataDirectory = Path.GetTempPath(),
            Database = { Provider = "postgres", ConnectionString = connectionString, SchedulerCheckinIntervalSeconds = 1 },
        };
        services.AddClusteredScheduler(options, configure);
        var host = builder.Build();
        lock (_replicas)
        {
            _replicas.Add(host);
        }
        await host.StartAsync();
        return host;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for the scheduled job to fire.");
            await Task.Delay(100);
        }
    }

    public sealed record ReplicaName(string Value);

    public sealed record Fire(string Replica, string Instance, DateTimeOffset ScheduledAt, bool Recovering = false);

    public sealed class Fires
    {
        private readonly ConcurrentQueue<Fire> _all = new();

        public IReadOnlyList<Fire> All => [.. _all];

        public void Add(Fire fire) => _all.Enqueue(fire);
    }

    [DisallowConcurrentExecution]
    public sealed class RecordingJob(Fires fires, ReplicaName replica) : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            fires.Add(new Fire(replica.Value, context.Scheduler.SchedulerInstanceId, context.ScheduledFireTimeUtc ?? context.FireTimeUtc));
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Runs on replica A until it is cut off (or a minute passes); anywhere else it ends at once.</summary>
    public sealed class LongRunningJob(Fires fires, ReplicaName replica) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            fires.Add(new Fire(replica.Value, context.Scheduler.SchedulerInstanceId, context.ScheduledFireTimeUtc ?? context.FireTimeUtc, context.Recovering));
            if (replica.Value == "a")
            {
                await Task.Delay(TimeSpan.FromMinutes(1), cancellationToken);
            }
        }
    }
}
