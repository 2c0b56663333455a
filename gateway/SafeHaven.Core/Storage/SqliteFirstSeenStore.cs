using Dapper;
using Microsoft.Data.Sqlite;

namespace SafeHaven.Core.Storage;

/// <summary>First-seen times in the embedded SQLite file: one row per ecosystem and key, inserted once, never updated.</summary>
public sealed class SqliteFirstSeenStore : IFirstSeenStore
{
    private readonly string _connectionString;

    public SqliteFirstSeenStore(string connectionString)
    {
        SQLitePCL.Batteries_V2.Init();
        _connectionString = connectionString;
        using var connection = Open();
        connection.Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS first_seen (
                ecosystem     TEXT    NOT NULL,
                key           TEXT    NOT NULL,
                first_seen_at INTEGER NOT NULL,
                PRIMARY KEY (ecosystem, key)
            );
            """);
    }

    public static SqliteFirstSeenStore ForFile(string path)
    {
        return new SqliteFirstSeenStore(SqliteFiles.ConnectionStringFor(path));
    }

    private SqliteConnection Open()
    {
        return SqliteFiles.Open(_connectionString);
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOrRecordAsync(
        string ecosystem, IReadOnlyCollection<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DateTimeOffset>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return result;
        }
        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO first_seen (ecosystem, key, first_seen_at) VALUES ($ecosystem, $key, $now)
            ON CONFLICT (ecosystem, key) DO NOTHING;
            SELECT first_seen_at FROM first_seen WHERE ecosystem = $ecosystem AND key = $key;
            """;
        insert.Parameters.AddWithValue("$ecosystem", ecosystem);
        var keyParameter = insert.Parameters.Add("$key", SqliteType.Text);
        insert.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (result.ContainsKey(key))
            {
                continue;
            }
            keyParameter.Value = key;
            var at = (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            result[key] = DateTimeOffset.FromUnixTimeMilliseconds(at);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }
}
