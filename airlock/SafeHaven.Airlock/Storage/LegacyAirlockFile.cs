using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace SafeHaven.Airlock.Storage;

/// <summary>
/// Adopts the separate <c>DATA/airlock.db</c> of earlier versions into the appliance's database, once: every row of
/// its tables is copied in one transaction together with a record of the adoption (<c>airlock_adopted_files</c>), and
/// the old file is then renamed <c>airlock.db.migrated</c> (its WAL checkpointed into it first, so the renamed file is
/// complete). A failure copies nothing and leaves the old file in place for the next start. Works for either
/// provider (rows are read from SQLite and written with parameters), so a site can move straight to PostgreSQL.
/// </summary>
internal static class LegacyAirlockFile
{
    public const string MigratedSuffix = ".migrated";

    public static async Task<bool> AdoptAsync(AirlockDatabase database, string path, CancellationToken cancellationToken)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path))
        {
            return false;
        }
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        await using (var legacy = new SqliteConnection(connectionString))
        {
            await legacy.OpenAsync(cancellationToken).ConfigureAwait(false);
            var tables = (await legacy.QueryAsync<string>(new CommandDefinition(
                "SELECT name FROM sqlite_master WHERE type = 'table'", cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            if (tables.Contains("schema_migrations"))
            {
                // The file is itself a SafeHaven database (configured as the main one): nothing to adopt.
                return false;
            }
            await legacy.ExecuteAsync(new CommandDefinition("PRAGMA wal_checkpoint(TRUNCATE)", cancellationToken: cancellationToken)).ConfigureAwait(false);
            await database.WriteAsync(async (connection, transaction) =>
            {
                var adopted = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    "SELECT COUNT(*) FROM airlock_adopted_files WHERE source = @path", new { path }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (adopted > 0)
                {
                    // Copied by an earlier start that stopped before the rename.
                    return false;
                }
                foreach (var (table, columns) in AirlockSchema.AdoptedTables.Where(t => tables.Contains(t.Table)))
                {
                    await CopyAsync(legacy, connection, transaction, table, columns, cancellationToken).ConfigureAwait(false);
                }
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO airlock_adopted_files (source, adopted_at) VALUES (@path, @now)",
                    new { path, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            if (File.Exists(path + suffix))
            {
                File.Move(path + suffix, path + MigratedSuffix + suffix, overwrite: false);
            }
        }
        return true;
    }

    /// <summary>Streams every row of <paramref name="table"/> from the old file into the same table of the database.</summary>
    private static async Task CopyAsync(
        SqliteConnection legacy, DbConnection connection, DbTransaction transaction, string table, string columns, CancellationToken cancellationToken)
    {
        var names = columns.Split(", ");
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", names.Select(n => "@" + n))})";
        var parameters = names.Select(n =>
        {
            var parameter = insert.CreateParameter();
            parameter.ParameterName = n;
            insert.Parameters.Add(parameter);
            return parameter;
        }).ToArray();

        await using var select = legacy.CreateCommand();
        select.CommandText = $"SELECT {columns} FROM {table}";
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = reader.GetValue(i);
            }
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
