using Dapper;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Storage.Database;

public sealed class SqliteSchemaMigrationsTests() : SchemaMigrationsTests(DatabaseProvider.Sqlite);

public sealed class PostgresSchemaMigrationsTests() : SchemaMigrationsTests(DatabaseProvider.Postgres);

/// <summary>Schema migrations against each provider: the real engine, many replicas' handles on one database.</summary>
public abstract class SchemaMigrationsTests(DatabaseProvider provider) : TestDatabase(provider)
{
    // Steps that fail when run twice (no IF NOT EXISTS, a row inserted), so a migration applied twice shows.
    private static readonly Migration[] Steps =
    [
        Migration.Portable(1, "create widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO widgets (id, name) VALUES (1, 'first')"),
        Migration.Portable(2, "add colour", "ALTER TABLE widgets ADD COLUMN colour TEXT NULL; INSERT INTO widgets (id, name, colour) VALUES (2, 'second', 'red')"),
    ];

    [Fact]
    public async Task Two_replicas_starting_together_apply_each_migration_exactly_once()
    {
        var a = Database;
        var b = OpenReplica();

        // Four starts at once, two through each replica's own connections.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            SchemaMigrations.ApplyAsync(i % 2 == 0 ? a : b, "widgets", Steps, CancellationToken.None))));

        await using var connection = await b.OpenAsync(CancellationToken.None);
        Assert.Equal([1, 2], (await connection.QueryAsync<int>("SELECT version FROM schema_migrations WHERE area = 'widgets' ORDER BY version")).ToList());
        Assert.Equal(["first", "second"], (await connection.QueryAsync<string>("SELECT name FROM widgets ORDER BY id")).ToList());
    }

    [Fact]
    public async Task A_later_build_applies_only_its_new_steps()
    {
        await SchemaMigrations.ApplyAsync(Database, "widgets", Steps[..1], CancellationToken.None);
        await SchemaMigrations.ApplyAsync(OpenReplica(), "widgets", Steps, CancellationToken.None);
        await SchemaMigrations.ApplyAsync(Database, "widgets", Steps, CancellationToken.None);

        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM widgets"));
        // Another area in the same database keeps its own versions.
        await SchemaMigrations.ApplyAsync(Database, "gadgets", [Migration.Portable(1, "create gadgets", "CREATE TABLE gadgets (id INTEGER PRIMARY KEY)")], CancellationToken.None);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT MAX(version) FROM schema_migrations WHERE area = 'gadgets'"));
    }

    [Fact]
    public async Task A_database_written_by_a_newer_build_is_refused_and_left_alone()
    {
        await SchemaMigrations.ApplyAsync(Database, "widgets", Steps, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SchemaMigrations.ApplyAsync(OpenReplica(), "widgets", Steps[..1], CancellationToken.None));

        Assert.Contains("'widgets' is at version 2 ('add colour'), newer than this SafeHaven build knows (it knows up to version 1, 'create widgets')", refused.Message);
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM widgets"));
    }

    [Fact]
    public async Task A_failing_step_leaves_the_area_as_it_was()
    {
        Migration[] broken =
        [
            Steps[0],
            Migration.Portable(2, "broken", "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1)"),
        ];
        await SchemaMigrations.ApplyAsync(Database, "gadgets", [Migration.Portable(1, "create gadgets", "CREATE TABLE gadgets (id INTEGER PRIMARY KEY)")], CancellationToken.None);

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => SchemaMigrations.ApplyAsync(Database, "widgets", broken, CancellationToken.None));

        // Nothing of the failed start is visible: neither step 1 nor step 2's first statement.
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM schema_migrations WHERE area = 'widgets'"));
        await SchemaMigrations.ApplyAsync(Database, "widgets", Steps, CancellationToken.None);
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM widgets"));
    }
}
