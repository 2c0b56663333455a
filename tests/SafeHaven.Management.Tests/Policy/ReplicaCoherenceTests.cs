using System.Diagnostics;
using Dapper;
using Npgsql;
using SafeHaven.Core.Configuration;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Tests.Support;
using SafeHaven.Tests.Support;
using Xunit.Abstractions;

namespace SafeHaven.Management.Tests.Policy;

/// <summary>
/// Two appliance replicas (two complete service providers, each with its own policy in force and its own change signal)
/// over one database: a policy, allowlist or threshold change made on one is in force on the other within seconds.
/// </summary>
public sealed class ReplicaCoherenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    private static Dictionary<string, string> Postgres(string connectionString, int pollSeconds) => new()
    {
        ["SafeHaven:Database:Provider"] = "postgres",
        ["SafeHaven:Database:ConnectionString"] = connectionString,
        ["SafeHaven:Database:PollSeconds"] = pollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private async Task<TimeSpan> SeenWithinAsync(string what, Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < limit, $"{what}: not in force on the other replica after {limit.TotalSeconds} s");
            await Task.Delay(25);
        }
        output.WriteLine($"{what}: in force on the other replica after {clock.Elapsed.TotalMilliseconds:F0} ms");
        return clock.Elapsed;
    }

    [Fact]
    public async Task On_PostgreSQL_a_change_on_replica_A_is_in_force_on_B_within_seconds_by_notification()
    {
        // The poll is an hour: only the notification can bring the change to B in time.
        var settings = Postgres(await PostgresServer.CreateDatabaseAsync(), pollSeconds: 3600);
        settings["SafeHaven:Tier"] = "2";
        await using var a = await ManagementHost.StartAsync(settings);
        await using var b = await ManagementHost.StartAsync(settings);
        var sm = await a.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
        Assert.Equal(2, b.PolicyProvider.Current.Policy.Tier);

        using (var response = await a.SendAsync(HttpMethod.Put, "/api/policy", sm, """{"tier": 3, "modelThreshold": 0.8, "reason": "new data agreement"}"""))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(3, a.PolicyProvider.Current.Policy.Tier);
        await SeenWithinAsync("tier and threshold", () => b.PolicyProvider.Current.Policy.Tier == 3 && b.PolicyProvider.Current.ModelThreshold == 0.8, Within);

        // An allowlist entry takes effect on B when approved on A (and not while it is pending).
        await a.Policy.AddAllowlistEntryAsync(new AllowlistEntryRecord("pypi", "shapely", "shapely", "sm", "asked for", DateTimeOffset.UtcNow,
            AllowlistEntryStatus.Pending, null, null, null), AuditRecord.Of("sm", "allowlist.entry.added", "pypi/shapely"), CancellationToken.None);
        await a.Policy.DecideAllowlistEntryAsync("pypi", "shapely", AllowlistEntryStatus.Approved, "referee", "fine",
            AuditRecord.Of("referee", "allowlist.entry.approved", "pypi/shapely"), CancellationToken.None);
        await SeenWithinAsync("approved allowlist entry", () => b.PolicyProvider.Current.AllowlistFor("pypi").Entries.Any(e => e.Name == "shapely"), Within);

        // And back the other way: B returns the threshold to configuration, A follows.
        await b.Policy.SetSettingsAsync(new PolicySettings(), ["modelThreshold"], AuditRecord.Of("sm", "policy.changed", "policy"), CancellationToken.None);
        await SeenWithinAsync("threshold reset", () => a.PolicyProvider.Current.ModelThreshold == new SafeHavenOptions().Policy.ModelThreshold, Within);
        Assert.True((await a.Audit.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task On_PostgreSQL_a_listener_whose_connection_is_killed_reconnects_and_catches_up()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var settings = Postgres(connectionString, pollSeconds: 3600);
        await using var a = await ManagementHost.StartAsync(settings);
        await using var b = await ManagementHost.StartAsync(settings);
        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync();
        const string Listeners = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'";
        var clock = Stopwatch.StartNew();
        while ((await admin.QueryAsync<int>(Listeners)).Count() < 2)
        {
            Assert.True(clock.Elapsed < Within, "the two replicas are not listening");
            await Task.Delay(25);
        }

        // What a PostgreSQL restart or a dropped connection does to the listeners.
        Assert.Equal(2, (await admin.QueryAsync<bool>($"SELECT pg_terminate_backend(pid) FROM ({Listeners}) AS l")).Count(terminated => terminated));
        await a.Policy.SetSettingsAsync(new PolicySettings(Tier: 4), [], AuditRecord.Of("sm", "policy.changed", "policy"), CancellationToken.None);

        // Reconnected (after a 2 s pause) and caught up on the change made while it was away.
        await SeenWithinAsync("tier after the listener's reconnection", () => b.PolicyProvider.Current.Policy.Tier == 4, Within + TimeSpan.FromSeconds(2));
        clock.Restart();
        while ((await admin.QueryAsync<int>(Listeners)).Count() < 2)
        {
            Assert.True(clock.Elapsed < Within, "the listeners did not come back");
            await Task.Delay(25);
        }
        await a.Policy.SetSettingsAsync(new PolicySettings(Tier: 3), [], AuditRecord.Of("sm", "policy.changed", "policy"), CancellationToken.None);
        await SeenWithinAsync("tier notified on the new connection", () => b.PolicyProvider.Current.Policy.Tier == 3, Within);
    }

    [Fact]
    public async Task On_PostgreSQL_a_change_without_a_notification_is_found_by_the_poll()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using var b = await ManagementHost.StartAsync(Postgres(connectionString, pollSeconds: 1));
        Assert.Equal(2, b.PolicyProvider.Current.Policy.Tier);

        // A change committed without NOTIFY (a notification lost with a connection): only the polled generation shows it.
        await using (var raw = new NpgsqlConnection(connectionString))
        {
            await raw.OpenAsync();
            await raw.ExecuteAsync("""
                INSERT INTO mgmt_policy_settings (key, value, updated_at, updated_by) VALUES ('tier', '4', 0, 'test');
                UPDATE mgmt_policy_generation SET generation = generation + 1;
                """);
        }

        await SeenWithinAsync("tier by poll", () => b.PolicyProvider.Current.Policy.Tier == 4, TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task On_SQLite_a_change_made_by_a_CLI_command_reaches_running_servers_by_the_polled_generation()
    {
        var data = Directory.CreateTempSubdirectory("safehaven-coherence-").FullName;
        var settings = new Dictionary<string, string> { ["SafeHaven:Database:PollSeconds"] = "1" };
        await using var server = await ManagementHost.StartAsync(settings, data);
        await using var second = await ManagementHost.StartAsync(settings, data);
        Assert.Equal(2, server.PolicyProvider.Current.Policy.Tier);

        // What 'safehaven' commands beside the server use: the stores over the same configuration.
        await using (var cli = ManagementStores.Open(new SafeHavenOptions { DataDirectory = data }))
        {
            await cli.Policy.SetSettingsAsync(new PolicySettings(Tier: 3, ModelThreshold: 0.9), [], AuditRecord.Of("cli:root", "policy.changed", "policy"), CancellationToken.None);
        }

        await SeenWithinAsync("tier set by the CLI (server)", () => server.PolicyProvider.Current.Policy.Tier == 3 && server.PolicyProvider.Current.ModelThreshold == 0.9, Within);
        await SeenWithinAsync("tier set by the CLI (second replica)", () => second.PolicyProvider.Current.Policy.Tier == 3, Within);
        Directory.Delete(data, recursive: true);
    }
}
