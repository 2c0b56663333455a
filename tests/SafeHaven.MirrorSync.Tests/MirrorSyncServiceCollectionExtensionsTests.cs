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
    public async Task With_postgres_the_stores_live_in_postgres_and_the_index_refresh_is_a_clustered_job()
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
        // The index refresh is stored once, in the clustered scheduler's tables; the closure job stays in each replica's memory.
        Assert.Equal(["index-refresh-schedule"], (await connection.QueryAsync<string>(
            "SELECT trigger_name FROM qrtz_triggers WHERE sched_name = @name", new { name = ClusteredScheduler.Name })).ToList());
        var local = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        Assert.Null(await local.GetJobDetail(IndexRefreshJob.Key));
        Assert.NotNull(await local.GetJobDetail(AllowlistClosureJob.Key));
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

    private static IHost Build(SafeHavenOptions options)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOptions<SafeHavenOptions>().Configure(o => o.DataDirectory = options.DataDirectory);
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddMirrorSync(TimeSpan.FromHours(1), TimeSpan.FromHours(1), options);
        return builder.Build();
    }
}
