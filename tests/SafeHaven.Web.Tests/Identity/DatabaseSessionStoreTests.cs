using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Tests.Identity;

/// <summary>
/// Sessions and the data protection key ring in the appliance's database, as two replicas use them: each replica is a
/// service provider of its own (its own key ring cache, its own connections) over one database.
/// </summary>
public abstract class DatabaseSessionStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);

    private readonly List<ServiceProvider> _replicas = [];
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await WebSchema.ApplyAsync(Database, CancellationToken.None);
    }

    /// <summary>A replica's data protection and session store, registered as the web application registers them.</summary>
    private (IDataProtectionProvider Protection, DatabaseSessionStore Sessions) Replica()
    {
        var database = OpenReplica();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().SetApplicationName("SafeHaven");
        services.AddOptions<KeyManagementOptions>().Configure(keys => keys.XmlRepository = new DatabaseXmlRepository(database));
        var provider = services.BuildServiceProvider();
        _replicas.Add(provider);
        var protection = provider.GetRequiredService<IDataProtectionProvider>();
        return (protection, new DatabaseSessionStore(database, protection, new WebOptions { IdleTimeoutMinutes = (int)Idle.TotalMinutes }, _time));
    }

    private static AuthenticationTicket Ticket(string name) => new(
        new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim("safehaven:authenticated-by", "oidc")], "test")),
        new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow }, WebAuthentication.CookieScheme);

    [Fact]
    public async Task A_session_started_on_one_replica_is_served_by_another_and_after_a_restart()
    {
        var a = Replica();
        var key = await a.Sessions.StoreAsync(Ticket("alice"), CancellationToken.None);
        // Anything replica A protects (the session cookie, an anti-forgery token) is read by B with the shared key ring.
        var cookie = a.Protection.CreateProtector("cookie").Protect("payload");

        var b = Replica();
        var served = await b.Sessions.RetrieveAsync(key, CancellationToken.None);
        Assert.Equal("alice", served?.Principal.Identity?.Name);
        Assert.Equal("oidc", served!.Principal.FindFirst("safehaven:authenticated-by")?.Value);
        Assert.Equal("payload", b.Protection.CreateProtector("cookie").Unprotect(cookie));

        // A restart: every replica gone, a new one started on the same database.
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        _replicas.Clear();
        var restarted = Replica();
        Assert.Equal("alice", (await restarted.Sessions.RetrieveAsync(key, CancellationToken.None))?.Principal.Identity?.Name);
        await using var connection = Database.Open();
        Assert.Equal(1, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM web_data_protection_keys"));
    }

    [Fact]
    public async Task Signing_out_on_one_replica_ends_the_session_on_all()
    {
        var a = Replica();
        var b = Replica();
        var key = await a.Sessions.StoreAsync(Ticket("bob"), CancellationToken.None);
        Assert.NotNull(await b.Sessions.RetrieveAsync(key, CancellationToken.None));

        await b.Sessions.RemoveAsync(key, CancellationToken.None);

        Assert.Null(await a.Sessions.RetrieveAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Use_slides_the_expiry_and_an_idle_session_ends_and_is_purged()
    {
        var a = Replica();
        var b = Replica();
        var used = await a.Sessions.StoreAsync(Ticket("carol"), CancellationToken.None);
        var idle = await a.Sessions.StoreAsync(Ticket("dave"), CancellationToken.None);

        // Used every 20 minutes, on either replica, for an hour and a half: longer than the idle timeout, still a session.
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(20));
            Assert.NotNull(await (i % 2 == 0 ? b : a).Sessions.RetrieveAsync(used, CancellationToken.None));
        }
        Assert.Null(await b.Sessions.RetrieveAsync(idle, CancellationToken.None));

        // Expired rows go: the idle one was deleted when asked for; a sign-in after the other's expiry purges it.
        await using var connection = Database.Open();
        Assert.Equal(1, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM web_sessions"));
        _time.Advance(Idle + TimeSpan.FromSeconds(1));
        await b.Sessions.StoreAsync(Ticket("erin"), CancellationToken.None);
        Assert.Equal(1, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM web_sessions"));
        Assert.Null(await a.Sessions.RetrieveAsync(used, CancellationToken.None));
    }

    [Fact]
    public async Task The_table_holds_neither_the_session_key_nor_the_claims_in_clear()
    {
        var a = Replica();
        var key = await a.Sessions.StoreAsync(Ticket("frank-the-researcher"), CancellationToken.None);

        await using var connection = Database.Open();
        var (id, ticket) = connection.QuerySingle<(string, byte[])>("SELECT id, ticket FROM web_sessions");
        Assert.NotEqual(key, id);
        Assert.Equal(-1, ticket.AsSpan().IndexOf("frank-the-researcher"u8));
        // Tampering with the stored ticket is not a session.
        ticket[^1] ^= 0xff;
        connection.Execute("UPDATE web_sessions SET ticket = @ticket", new { ticket });
        Assert.Null(await a.Sessions.RetrieveAsync(key, CancellationToken.None));
    }

    public override async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

public sealed class SqliteDatabaseSessionStoreTests() : DatabaseSessionStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresDatabaseSessionStoreTests() : DatabaseSessionStoreTests(DatabaseProvider.Postgres);
