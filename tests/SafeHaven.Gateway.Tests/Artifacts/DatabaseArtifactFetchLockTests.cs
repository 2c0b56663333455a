using Dapper;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Tests.Support;

namespace SafeHaven.Gateway.Tests.Artifacts;

/// <summary>
/// The claim replicas take on an artifact's first fetch, on a real PostgreSQL, each "replica" a database handle of
/// its own (its own connection pool), as two appliance processes have.
/// </summary>
public sealed class DatabaseArtifactFetchLockTests : IAsyncLifetime
{
    private string _connectionString = "";
    private readonly List<SafeHavenDatabase> _databases = [];

    public async Task InitializeAsync() => _connectionString = await PostgresServer.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }

    private DatabaseArtifactFetchLock Replica(TimeSpan maximumWait, out SafeHavenDatabase database)
    {
        database = SafeHavenDatabase.ForPostgres(_connectionString);
        _databases.Add(database);
        return new DatabaseArtifactFetchLock(database, maximumWait);
    }

    [Fact]
    public async Task A_second_replica_waits_for_the_first_to_finish_its_fetch()
    {
        var a = Replica(TimeSpan.FromMinutes(1), out _);
        var b = Replica(TimeSpan.FromMinutes(1), out _);

        var held = await a.AcquireAsync("sha256:aa", CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await b.TryAcquireAsync("sha256:aa", CancellationToken.None));
        // Another file is not held up.
        await using (var other = await b.TryAcquireAsync("sha256:bb", CancellationToken.None))
        {
            Assert.NotNull(other);
        }

        var waiting = b.AcquireAsync("sha256:aa", CancellationToken.None);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(second);
    }

    [Fact]
    public async Task A_wait_past_its_bound_gives_up_the_claim_rather_than_the_fetch()
    {
        var a = Replica(TimeSpan.FromMinutes(1), out _);
        var impatient = Replica(TimeSpan.FromMilliseconds(300), out _);
        await using var held = await a.AcquireAsync("pypi:http://upstream.example/f.whl", CancellationToken.None);

        var started = DateTime.UtcNow;
        Assert.Null(await impatient.AcquireAsync("pypi:http://upstream.example/f.whl", CancellationToken.None));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_claim_of_a_replica_that_dies_mid_fetch_passes_to_the_next()
    {
        var dying = Replica(TimeSpan.FromMinutes(1), out _);
        var next = Replica(TimeSpan.FromMinutes(1), out var nextDatabase);
        var held = await dying.AcquireAsync("sha256:cc", CancellationToken.None);
        Assert.NotNull(held);
        var waiting = next.AcquireAsync("sha256:cc", CancellationToken.None);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        // What kill -9 does to the holder's session: the server sees its connection end.
        await using (var admin = await nextDatabase.OpenAsync(CancellationToken.None))
        {
            var ended = await admin.ExecuteScalarAsync<int>(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext('sha256:cc')::oid) t");
            Assert.Equal(1, ended);
        }

        await using var taken = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(taken);
        await held.DisposeAsync(); // its connection is gone: releasing does not throw
    }

    [Fact]
    public void The_sqlite_provider_has_no_claim_across_processes()
    {
        var file = Path.Combine(Path.GetTempPath(), "safehaven-lock-" + Guid.NewGuid().ToString("N") + ".db");
        var database = SafeHavenDatabase.ForSqliteFile(file);
        _databases.Add(database);
        var refused = Assert.Throws<ArgumentException>(() => new DatabaseArtifactFetchLock(database, TimeSpan.FromSeconds(1)));
        Assert.Contains("postgres", refused.Message);
    }
}
