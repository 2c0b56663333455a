using System.Data.Common;
using Dapper;

namespace SafeHaven.Core.Storage.Database;

/// <summary>
/// Versioned schema migrations per area ("index-cache", "management", "airlock", "quartz", ...), recorded in
/// <c>schema_migrations(area, version, name, applied_at)</c>. Each area's pending steps are applied in one transaction by
/// exactly one replica at a time: PostgreSQL takes an advisory lock for the duration, SQLite <c>BEGIN IMMEDIATE</c>.
/// A database whose area is at a version this build does not know (written by a newer SafeHaven) is refused.
/// </summary>
public static class SchemaMigrations
{
    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            area       TEXT    NOT NULL,
            version    INTEGER NOT NULL,
            name       TEXT    NOT NULL,
            applied_at BIGINT  NOT NULL,
            PRIMARY KEY (area, version)
        )
        """;

    /// <summary>Brings <paramref name="area"/> to the last of <paramref name="migrations"/>.</summary>
    /// <exception cref="InvalidOperationException">The database holds a version of the area this build does not know.</exception>
    public static async Task ApplyAsync(SafeHavenDatabase database, string area, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrWhiteSpace(area);
        ArgumentNullException.ThrowIfNull(migrations);
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new ArgumentException($"Migrations of area '{area}' must be numbered 1, 2, 3... in order; found version {migrations[i].Version} at position {i + 1}.", nameof(migrations));
            }
        }

        await database.WriteAsync(async (connection, transaction) =>
        {
            if (database.Dialect.LockSql("schema_migrations") is { } lockSql)
            {
                // One lock for every area: the first replica also creates schema_migrations itself, and two concurrent
                // CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog. Held until this transaction ends.
                await connection.ExecuteAsync(new CommandDefinition(lockSql, new { name = "safehaven:schema_migrations" }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            await connection.ExecuteAsync(new CommandDefinition(CreateTable, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            var applied = (await connection.QueryAsync<AppliedRow>(new CommandDefinition(
                "SELECT version AS Version, name AS Name FROM schema_migrations WHERE area = @area ORDER BY version",
                new { area }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
            if (applied.Count > 0 && applied[^1].Version > migrations.Count)
            {
                var newest = applied[^1];
                throw new InvalidOperationException(
                    $"The database's schema for '{area}' is at version {newest.Version} ('{newest.Name}'), newer than this SafeHaven build knows " +
                    $"(it knows up to version {migrations.Count}{(migrations.Count > 0 ? $", '{migrations[^1].Name}'" : "")}). " +
                    "A newer SafeHaven has used this database: run that version, or restore a backup made before it upgraded the schema.");
            }
            var current = applied.Count == 0 ? 0 : applied[^1].Version;
            foreach (var migration in migrations.Skip(current))
            {
                await ExecuteScriptAsync(connection, transaction, migration.SqlFor(database.Provider), cancellationToken).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (area, version, name, applied_at) VALUES (@area, @version, @name, @at)",
                    new { area, version = migration.Version, name = migration.Name, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                    transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteScriptAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Both providers run a script of several statements in one command when it binds no parameters.
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class AppliedRow
    {
        public int Version { get; set; }
        public string Name { get; set; } = "";
    }
}
