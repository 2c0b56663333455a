using System.Data.Common;
using Microsoft.Data.Sqlite;
using SafeHaven.Management.Audit;

namespace SafeHaven.Airlock.Storage;

/// <summary>
/// The seam to the audit chain (owned by the management stores, see /tmp/h/audit-seam.md of issue 16): appends an
/// entry inside a write transaction the airlock opened on the appliance's database, so the change and its entry commit
/// or roll back together. The audit log must live in that same database (on SQLite: the same file).
/// </summary>
internal static class AuditInTransaction
{
    public static async Task AppendAsync(
        IAuditLog audit, DbConnection connection, DbTransaction transaction, AuditRecord record, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(audit);
        // Interim body until IAuditLog.AppendAsync(DbConnection, DbTransaction, AuditRecord, CancellationToken) exists:
        // the SQLite chain rule, appended on the airlock's own BEGIN IMMEDIATE transaction.
        if (connection is SqliteConnection sqlite && transaction is SqliteTransaction sqliteTransaction)
        {
            await AuditChain.AppendAsync(sqlite, sqliteTransaction, record, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return;
        }
        throw new NotSupportedException(
            "Appending an audit entry inside an airlock transaction on PostgreSQL needs the PostgreSQL audit chain (IAuditLog.AppendAsync with a connection and transaction).");
    }
}
