using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Quartz;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway;
using SafeHaven.MirrorSync.Cluster;
using SafeHaven.MirrorSync.Jobs;
using SafeHaven.Tests.Support;

namespace SafeHaven.MirrorSync.Tests;

/// <summary>The gateway and the mirror jobs composed as the appliance composes them, with each database provider.</summary>
public sealed class MirrorSyncServiceCollectionExtensionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-mirrorsync-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task With_postgres_the_stores_live_in_postgres_and_the_index_refresh_and_the_closure_are_clustered_jobs()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        using var host = Build(new SafeHavenOptions
        {
            DataDirectory = _directory,
            Database = { Provider = "postgres", ConnectionString = connectionString, SchedulerCheckinIntervalSeconds = 1 },
        });
        await host.StartAsync();

        var cache = host.Services.GetRequiredService<IIndexCacheStore>();
        await cache.PutAsync("pypi", "simple/x/", new CachedIndex([1, 2], DateTimeOffset.UtcNow, null), CancellationToken.None);
        await host.Services.GetRequiredService<IFirstSeenStore>().GetOrRecordAsync("pypi", ["x-1.0.tar.gz"], DateTimeOffset.UtcNow, CancellationToken.None);

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM index_cache WHERE key = 'simple/x/'"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM first_seen"));
        Assert.False(File.Exists(Path.Combine(_directory, "safehaven.db")));
        // The index refresh and the allowlist closure are scheduled once, in the clustered scheduler's tables (besides
        // any one-off run asked for at start, which Quartz names MT_...); neither is in the replica's own scheduler.
        Assert.Equal(["allowlist-closure-schedule", "index-refresh-schedule"], (await connection.QueryAsync<string>(
            "SELECT trigger_name FROM qrtz_triggers WHERE sched_name = @name AND trigger_name NOT LIKE 'MT!_%' ESCAPE '!' ORDER BY trigger_name",
            new { name = ClusteredScheduler.Name })).ToList());
        var local = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Null(await local.GetJobDetail(IndexRefreshJob.Key));
        Assert.Null(await local.GetJobDetail(AllowlistClosureJob.Key));
        Assert.NotNull(host.Services.GetService<SafeHaven.MirrorSync.Sharing.ClosureSharing>());
        await host.StopAsync();
    }

    [Fact]
    public async Task With_sqlite_everything_stays_in_the_data_directory_and_in_memory()
    {
        using var host = Build(new SafeHavenOptions { DataDirectory = _directory });
        await host.StartAsync();

        await host.Services.GetRequiredService<IIndexCacheStore>().PutAsync("pypi", "simple/x/", new CachedIndex([1], DateTimeOffset.UtcNow, null), CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(_directory, "safehaven.db")));
        var local = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.NotNull(await local.GetJobDetail(IndexRefreshJob.Key));
        await host.StopAsync();
    }

    [Fact]
    public async Task With_postgres_a_scheduled_sync_is_one_clustered_trigger_however_many_replicas_state_it()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        SafeHavenOptions Options(string name) => new()
        {
            Tier = 0,
            DataDirectory = Directory.CreateDirectory(Path.Combine(_directory, name)).FullName,
            Database = { Provider = "postgres", ConnectionString = connectionString, SchedulerCheckinIntervalSeconds = 1 },
            // Never contacted: the cron fires at 02:00 and the test stops long before.
            Mirrors = { ["pypi"] = new MirrorOptions { Upstream = "http://127.0.0.1:9/simple/", Sync = { Schedule = "0 0 2 * * ?" } } },
        };
        using var a = Build(Options("a"), snapshots: true);
        using var b = Build(Options("b"), snapshots: true);
        await a.StartAsync();
        await b.StartAsync();

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(["snapshot-sync-pypi"], (await connection.QueryAsync<string>(
            "SELECT trigger_name FROM qrtz_triggers WHERE sched_name = @name AND trigger_name LIKE 'snapshot-sync-%'", new { name = ClusteredScheduler.Name })).ToList());
        // Not also on each replica's own in-memory scheduler.
        var local = await a.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.False(await local.Exists(new TriggerKey("snapshot-sync-pypi", "mirror-sync")));
        await b.StopAsync();
        await a.StopAsync();
    }

    private static IHost Build(SafeHavenOptions options, bool snapshots = false)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOptions<SafeHavenOptions>().Configure(o =>
        {
            o.DataDirectory = options.DataDirectory;
            o.Tier = options.Tier;
            o.Database = options.Database;
            o.Mirrors = options.Mirrors;
        });
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddMirrorSync(TimeSpan.FromHours(1), TimeSpan.FromHours(1), options);
        if (snapshots)
        {
            builder.Services.AddSnapshotSync(options);
        }
        return builder.Build();
    }
}
