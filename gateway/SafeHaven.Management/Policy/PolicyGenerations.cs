using System.Data.Common;
using System.Globalization;
using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Management.Policy;

/// <summary>
/// The policy generation: a counter in the database, advanced in the transaction of every runtime policy change
/// (settings, allowlist entries). A replica whose policy was built from an older generation rebuilds it. On PostgreSQL
/// the change also sends <c>NOTIFY safehaven_policy, '&lt;generation&gt;'</c>, delivered at commit.
/// </summary>
internal sealed class PolicyGenerations
{
    public const string Channel = "safehaven_policy";

    private long _loaded = -1;
    private long _local = -1;

    /// <summary>The generation the policy in force was built from (-1 before the first build).</summary>
    public long Loaded => Interlocked.Read(ref _loaded);

    /// <summary>Whether a replica holding <paramref name="current"/> in the database must rebuild its policy.</summary>
    public bool IsBehind(long current) => current > Math.Max(Interlocked.Read(ref _loaded), Interlocked.Read(ref _local));

    public void Built(long generation) => Max(ref _loaded, generation);

    public void CommittingLocally(long generation) => Max(ref _local, generation);

    public void NotCommitted(long generation) => Interlocked.CompareExchange(ref _local, Interlocked.Read(ref _loaded), generation);

    private static void Max(ref long field, long value)
    {
        var seen = Interlocked.Read(ref field);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref field, value, seen);
            if (previous == seen)
            {
                return;
            }
            seen = previous;
        }
    }

    public static async Task<long> AdvanceAsync(SafeHavenDatabase database, DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        var generation = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "UPDATE mgmt_policy_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation",
            transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@channel, @payload)",
                new { channel = Channel, payload = generation.ToString(CultureInfo.InvariantCulture) }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        return generation;
    }

    public static long Read(DbConnection connection, DbTransaction? transaction = null) =>
        connection.ExecuteScalar<long>("SELECT generation FROM mgmt_policy_generation WHERE id = 1", transaction: transaction);

    public static Task<long> ReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT generation FROM mgmt_policy_generation WHERE id = 1", cancellationToken: cancellationToken));
}
