using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Core.Storage;

/// <summary>
/// First-seen times in the appliance's metadata database (SQLite or PostgreSQL): one row per ecosystem and key, inserted
/// once, never updated. Replicas recording the same key at once agree on one time: the first insert wins, the others read it.
/// </summary>
public sealed class FirstSeenStore : IFirstSeenStore
{
    /// <summary>
    /// Version 1 is the table SafeHaven created in <c>safehaven.db</c> before versioned migrations (IF NOT EXISTS adopts it).
    /// </summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "first_seen", Table("INTEGER"), Table("BIGINT")),
    ];

    // Batches well under SQLite's limit on bound parameters.
    private const int BatchSize = 500;

    private readonly SafeHavenDatabase _database;

    private FirstSeenStore(SafeHavenDatabase database) => _database = database;

    /// <summary>The store over <paramref name="database"/>, its schema brought up to date first.</summary>
    public static async Task<FirstSeenStore> OpenAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        await SchemaMigrations.ApplyAsync(database, "first-seen", Migrations, cancellationToken).ConfigureAwait(false);
        return new FirstSeenStore(database);
    }

    private static string Table(string integer) => $"""
        CREATE TABLE IF NOT EXISTS first_seen (
            ecosystem     TEXT    NOT NULL,
            key           TEXT    NOT NULL,
            first_seen_at {integer} NOT NULL,
            PRIMARY KEY (ecosystem, key)
        );
        """;

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> GetOrRecordAsync(
        string ecosystem, IReadOnlyCollection<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DateTimeOffset>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return result;
        }
        var distinct = keys.Distinct(StringComparer.Ordinal).ToList();
        // Usually every key is known already: read them without taking the write lock.
        await using (var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await ReadAsync(connection, null, _database.Dialect, ecosystem, distinct, result, cancellationToken).ConfigureAwait(false);
        }
        // In one order on every replica, so two transactions inserting overlapping keys never wait for each other in a cycle.
        var missing = distinct.Where(k => !result.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
        {
            return result;
        }
        await _database.WriteAsync(async (connection, transaction) =>
        {
            var at = now.ToUnixTimeMilliseconds();
            foreach (var batch in missing.Chunk(BatchSize))
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Another replica may insert the same key meanwhile: its time stands (DO NOTHING), and is read back below.
                // PostgreSQL takes the batch as one array (one round trip); SQLite, in process, runs the statement per key.
                await connection.ExecuteAsync(_database.Provider == DatabaseProvider.Postgres
                    ? new CommandDefinition(
                        "INSERT INTO first_seen (ecosystem, key, first_seen_at) SELECT @ecosystem, k, @at FROM unnest(@batch) WITH ORDINALITY AS b(k, n) ORDER BY n ON CONFLICT (ecosystem, key) DO NOTHING",
                        new { ecosystem, batch, at }, transaction, cancellationToken: cancellationToken)
                    : new CommandDefinition(
                        "INSERT INTO first_seen (ecosystem, key, first_seen_at) VALUES (@ecosystem, @key, @at) ON CONFLICT (ecosystem, key) DO NOTHING",
                        batch.Select(key => new { ecosystem, key, at }), transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            await ReadAsync(connection, transaction, _database.Dialect, ecosystem, missing, result, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static async Task ReadAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? transaction, SqlDialect dialect, string ecosystem,
        List<string> keys, Dictionary<string, DateTimeOffset> result, CancellationToken cancellationToken)
    {
        foreach (var batch in keys.Chunk(BatchSize))
        {
            var rows = await connection.QueryAsync<(string Key, long At)>(new CommandDefinition(
                "SELECT key, first_seen_at FROM first_seen WHERE ecosystem = @ecosystem AND " + dialect.InList("key", "batch"),
                new { ecosystem, batch }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var (key, at) in rows)
            {
                result[key] = DateTimeOffset.FromUnixTimeMilliseconds(at);
            }
        }
    }
}
