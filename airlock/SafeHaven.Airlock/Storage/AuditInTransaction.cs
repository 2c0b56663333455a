using System.Data.Common;
using SafeHaven.Management.Audit;

namespace SafeHaven.Airlock.Storage;

/// <summary>
/// The seam to the audit chain (owned by the management stores): appends an entry inside a write transaction the
/// airlock opened on the appliance's database (<see cref="AirlockDatabase.WriteAsync{T}"/>), so the change and its entry
/// commit or roll back together, on SQLite and PostgreSQL alike. The audit tables live in that same database.
/// </summary>
internal static class AuditInTransaction
{
    public static Task<AuditEntry> AppendAsync(
        AirlockDatabase database, DbConnection connection, DbTransaction transaction, AuditRecord record, TimeProvider time, CancellationToken cancellationToken) =>
        AuditChain.AppendAsync(database.Dialect, connection, transaction, record, time.GetUtcNow(), cancellationToken);
}
