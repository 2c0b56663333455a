using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Management.Audit;

/// <summary>
/// The chain rule: entry <c>n</c> stores the hash of entry <c>n-1</c> and its own hash over every stored field
/// (length-prefixed, so no two different entries hash the same text). Editing a field breaks that entry's hash;
/// deleting an entry breaks the sequence and the next entry's link; deleting the newest entries is caught by the
/// head record written with each append.
/// </summary>
public static class AuditChain
{
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>The name of the lock that admits one writer at a time to the head of the chain (PostgreSQL).</summary>
    public const string HeadLock = "safehaven:audit-chain-head";

    public static string ComputeHash(long sequence, long atMilliseconds, string actor, string action, string target, string? project, string details, string previousHash)
    {
        var text = new StringBuilder();
        void Field(string? value)
        {
            if (value is null)
            {
                text.Append("-1:;");
                return;
            }
            text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
        }
        Field("safehaven-audit-v1");
        Field(sequence.ToString(CultureInfo.InvariantCulture));
        Field(atMilliseconds.ToString(CultureInfo.InvariantCulture));
        Field(actor);
        Field(action);
        Field(target);
        Field(project);
        Field(details);
        Field(previousHash);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// Appends <paramref name="record"/> inside the caller's write transaction (from <see cref="SafeHavenDatabase.WriteAsync{T}"/>),
    /// so the entry commits or rolls back with the change it records. On PostgreSQL the transaction first takes the
    /// chain's advisory lock (held to its end): two replicas never extend the chain from the same head. On SQLite the
    /// transaction's <c>BEGIN IMMEDIATE</c> already admits one writer. The audit tables must exist
    /// (<see cref="AuditSchema.ApplyAsync"/>).
    /// </summary>
    public static async Task<AuditEntry> AppendAsync(SqlDialect dialect, DbConnection connection, DbTransaction transaction, AuditRecord record, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(record);
        if (dialect.LockSql(HeadLock) is { } lockSql)
        {
            await connection.ExecuteAsync(new CommandDefinition(lockSql, new { name = HeadLock }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        var head = await connection.QuerySingleOrDefaultAsync<HeadRow>(new CommandDefinition(
            "SELECT seq AS Seq, hash AS Hash FROM mgmt_audit_log ORDER BY seq DESC LIMIT 1", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var sequence = (head?.Seq ?? 0) + 1;
        var previous = head?.Hash ?? GenesisHash;
        var at = now.ToUnixTimeMilliseconds();
        var details = AuditDetails.Serialize(record.Details);
        var hash = ComputeHash(sequence, at, record.Actor, record.Action, record.Target, record.Project, details, previous);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO mgmt_audit_log (seq, at, actor, action, target, project, details, previous_hash, hash)
            VALUES (@sequence, @at, @actor, @action, @target, @project, @details, @previous, @hash)
            """,
            new { sequence, at, actor = record.Actor, action = record.Action, target = record.Target, project = record.Project, details, previous, hash },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO mgmt_audit_head (id, seq, hash) VALUES (1, @sequence, @hash)
                ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
            """,
            new { sequence, hash }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new AuditEntry(sequence, DateTimeOffset.FromUnixTimeMilliseconds(at), record.Actor, record.Action, record.Target, record.Project, record.Details, previous, hash);
    }

    internal sealed class HeadRow
    {
        public long Seq { get; set; }
        public string Hash { get; set; } = "";
    }
}
