using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Core.Tiers.Sharing;

/// <summary>A closure read back from the store, with its generation and the <see cref="ClosurePolicy"/> fingerprint it was computed for.</summary>
public sealed record StoredClosure(AllowlistClosure Closure, long Generation, string Policy);

/// <summary>
/// The allowlist closures replicas share through the metadata database: one row per ecosystem holding the newest
/// computed closure (as a JSON document), when it was computed, and a generation that grows by one with every
/// store. A replica computes a closure once (the clustered Quartz store runs the closure job on one replica) and
/// the others poll <see cref="GetGenerationsAsync"/> and load what changed.
/// </summary>
public sealed class ClosureStore
{
    public const string Area = "allowlist-closures";

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "allowlist closures shared by replicas",
            """
            CREATE TABLE IF NOT EXISTS allowlist_closures (
                ecosystem TEXT NOT NULL PRIMARY KEY,
                generation INTEGER NOT NULL,
                computed_at INTEGER NOT NULL,
                policy TEXT NOT NULL,
                document BLOB NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS allowlist_closures (
                ecosystem TEXT NOT NULL PRIMARY KEY,
                generation BIGINT NOT NULL,
                computed_at BIGINT NOT NULL,
                policy TEXT NOT NULL,
                document BYTEA NOT NULL)
            """),
    ];

    private readonly SafeHavenDatabase _database;

    private ClosureStore(SafeHavenDatabase database) => _database = database;

    /// <summary>The store over <paramref name="database"/>, its table created or upgraded first.</summary>
    public static async Task<ClosureStore> OpenAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        await SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken).ConfigureAwait(false);
        return new ClosureStore(database);
    }

    /// <summary>
    /// Stores a closure computed for the policy whose <see cref="ClosurePolicy"/> fingerprint is <paramref name="policy"/>
    /// and returns its generation; null when a closure computed later is already stored (a slow computation finishing
    /// after a newer one never replaces it).
    /// </summary>
    public Task<long?> SaveAsync(AllowlistClosure closure, string policy, CancellationToken cancellationToken)
    {
        var document = ClosureDocument.From(closure).ToUtf8();
        return _database.WriteAsync((connection, transaction) => connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            """
            INSERT INTO allowlist_closures (ecosystem, generation, computed_at, policy, document) VALUES (@Ecosystem, 1, @ComputedAt, @Policy, @Document)
            ON CONFLICT (ecosystem) DO UPDATE SET generation = allowlist_closures.generation + 1, computed_at = excluded.computed_at,
                policy = excluded.policy, document = excluded.document
            WHERE excluded.computed_at >= allowlist_closures.computed_at
            RETURNING generation
            """,
            new { Ecosystem = closure.Ecosystem.ToLowerInvariant(), ComputedAt = closure.ComputedAt.ToUnixTimeMilliseconds(), Policy = policy, Document = document },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>The generation stored for each ecosystem: one small query, cheap enough to poll every few seconds.</summary>
    public async Task<IReadOnlyDictionary<string, long>> GetGenerationsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<GenerationRow>(new CommandDefinition(
            "SELECT ecosystem, generation FROM allowlist_closures", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Ecosystem, r => r.Generation, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The newest stored closure of <paramref name="ecosystem"/>, or null when none was ever stored.</summary>
    public async Task<StoredClosure?> LoadAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<DocumentRow>(new CommandDefinition(
            "SELECT generation, policy, document FROM allowlist_closures WHERE ecosystem = @Ecosystem",
            new { Ecosystem = ecosystem.ToLowerInvariant() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new StoredClosure(ClosureDocument.Parse(row.Document).ToClosure(), row.Generation, row.Policy);
    }

    private sealed record GenerationRow(string Ecosystem, long Generation);

    private sealed record DocumentRow(long Generation, string Policy, byte[] Document);
}
