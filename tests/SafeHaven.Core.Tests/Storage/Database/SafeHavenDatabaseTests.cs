using Dapper;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Storage.Database;

public sealed class SqliteSafeHavenDatabaseTests() : SafeHavenDatabaseTests(DatabaseProvider.Sqlite);

public sealed class PostgresSafeHavenDatabaseTests() : SafeHavenDatabaseTests(DatabaseProvider.Postgres);

/// <summary>Write transactions against each real engine.</summary>
public abstract class SafeHavenDatabaseTests(DatabaseProvider provider) : TestDatabase(provider)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SchemaMigrations.ApplyAsync(Database, "test", [Migration.Portable(1, "counters",
            "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO counters (name, value) VALUES ('hits', 0)")], CancellationToken.None);
    }

    [Fact]
    public async Task An_exception_inside_a_write_rolls_back_everything_it_wrote()
    {
        var failure = await Assert.ThrowsAsync<InvalidDataException>(() => Database.WriteAsync<int>(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("UPDATE counters SET value = 41 WHERE name = 'hits'", transaction: transaction);
            await connection.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('misses', 1)", transaction: transaction);
            throw new InvalidDataException("the audit entry could not be written");
        }, CancellationToken.None));

        Assert.Equal("the audit entry could not be written", failure.Message);
        await using var reader = await OpenReplica().OpenAsync(CancellationToken.None);
        Assert.Equal([("hits", 0L)], (await reader.QueryAsync<(string, long)>("SELECT name, value FROM counters")).ToList());
    }

    [Fact]
    public async Task Writers_that_take_the_dialects_lock_never_lose_an_update()
    {
        // Read-modify-write from two replicas at once: a lost update shows as a total below 40.
        var replicas = new[] { Database, OpenReplica() };
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => replicas[i % 2].WriteAsync(async (connection, transaction) =>
        {
            if (replicas[i % 2].Dialect.LockSql("counters") is { } lockSql)
            {
                await connection.ExecuteAsync(lockSql, new { name = "counters" }, transaction);
            }
            var value = await connection.ExecuteScalarAsync<long>("SELECT value FROM counters WHERE name = 'hits'", transaction: transaction);
            await Task.Delay(1);
            await connection.ExecuteAsync("UPDATE counters SET value = @next WHERE name = 'hits'", new { next = value + 1 }, transaction);
        }, CancellationToken.None))));

        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(40, await connection.ExecuteScalarAsync<long>("SELECT value FROM counters WHERE name = 'hits'"));
    }

    [Fact]
    public async Task A_duplicate_key_is_recognised_as_a_unique_violation()
    {
        var duplicate = await Assert.ThrowsAnyAsync<Exception>(() => Database.WriteAsync((connection, transaction) =>
            connection.ExecuteAsync("INSERT INTO counters (name, value) VALUES ('hits', 1)", transaction: transaction), CancellationToken.None));

        Assert.True(Database.Dialect.IsUniqueViolation(duplicate), duplicate.ToString());
        Assert.False(Database.Dialect.IsUniqueViolation(new InvalidOperationException()));
    }
}

public sealed class SafeHavenDatabaseOptionsTests
{
    [Theory]
    [InlineData("mysql", "SafeHaven:Database:Provider 'mysql' is not a database provider (supported: sqlite, postgres).")]
    [InlineData("postgres", "SafeHaven:Database:ConnectionString is required with SafeHaven:Database:Provider=postgres")]
    public void A_provider_that_cannot_be_opened_is_refused_with_the_key_to_fix(string provider, string message)
    {
        var options = new SafeHavenOptions { DataDirectory = Path.GetTempPath(), Database = { Provider = provider } };

        var refused = Assert.Throws<OptionsValidationException>(() => SafeHavenDatabase.Create(options));

        Assert.Contains(message, refused.Message);
    }
}
