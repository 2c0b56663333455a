using System.Data.Common;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Policy;

namespace SafeHaven.Management.Storage;

/// <summary>
/// The management stores' view of the appliance's database: every change runs in one write transaction together with
/// its audit entry, so a change is never made without its record, on SQLite and PostgreSQL alike. A change to the
/// runtime policy also advances the policy generation in that transaction (and on PostgreSQL notifies the other
/// replicas at commit), so every replica rebuilds its policy within seconds.
/// </summary>
internal sealed class ManagementDatabase
{
    private ManagementDatabase(SafeHavenDatabase database, TimeProvider time)
    {
        Database = database;
        Time = time;
    }

    public SafeHavenDatabase Database { get; }

    public TimeProvider Time { get; }

    /// <summary>The generations this process has seen (built its policy from) or is committing itself.</summary>
    public PolicyGenerations Generations { get; } = new();

    /// <summary>Applies the audit and management migrations (one replica at a time) and returns the stores' database.</summary>
    public static async Task<ManagementDatabase> OpenAsync(SafeHavenDatabase database, TimeProvider time, CancellationToken cancellationToken)
    {
        await ManagementSchema.ApplyAsync(database, cancellationToken).ConfigureAwait(false);
        return new ManagementDatabase(database, time);
    }

    public DbConnection Open() => Database.Open();

    public ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => Database.OpenAsync(cancellationToken);

    /// <summary>Runs <paramref name="change"/> and appends the audit entry it returns, atomically.</summary>
    public Task<T> ChangeAsync<T>(Func<DbConnection, DbTransaction, Task<(T Result, AuditRecord? Audit)>> change, CancellationToken cancellationToken) =>
        ChangeAsync(change, policy: false, cancellationToken);

    /// <summary>
    /// As <see cref="ChangeAsync{T}(Func{DbConnection, DbTransaction, Task{ValueTuple{T, AuditRecord}}}, CancellationToken)"/>;
    /// a change that happened (returned an audit entry) with <paramref name="policy"/> set also advances the policy generation.
    /// </summary>
    public async Task<T> ChangeAsync<T>(Func<DbConnection, DbTransaction, Task<(T Result, AuditRecord? Audit)>> change, bool policy, CancellationToken cancellationToken)
    {
        long? generation = null;
        try
        {
            return await Database.WriteAsync(async (connection, transaction) =>
            {
                var (result, audit) = await change(connection, transaction).ConfigureAwait(false);
                if (audit is not null)
                {
                    await AuditChain.AppendAsync(Database.Dialect, connection, transaction, audit, Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                    if (policy)
                    {
                        generation = await PolicyGenerations.AdvanceAsync(Database, connection, transaction, cancellationToken).ConfigureAwait(false);
                        // Before the commit: this process rebuilds its own policy after the change, and must not take its
                        // own notification for another replica's change.
                        Generations.CommittingLocally(generation.Value);
                    }
                }
                return result;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch when (generation is not null)
        {
            Generations.NotCommitted(generation.Value);
            throw;
        }
    }
}
