using Dapper;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management.Audit;

/// <summary>The audit log in the appliance database; UPDATE and DELETE are refused by triggers as well.</summary>
internal sealed class DatabaseAuditLog(ManagementDatabase database) : IAuditLog
{
    public Task<AuditEntry> AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        database.ChangeAsync<AuditEntry>(async (connection, transaction) =>
        {
            var entry = await AuditChain.AppendAsync(database.Database.Dialect, connection, transaction, record, database.Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return (entry, null);
        }, cancellationToken);

    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (filter.Actor is not null) { where.Add("actor = @Actor"); }
        if (filter.Action is not null) { where.Add("(action = @Action OR action LIKE @ActionPrefix ESCAPE '\\')"); }
        if (filter.Target is not null) { where.Add("target = @Target"); }
        if (filter.Project is not null) { where.Add("project = @Project"); }
        if (filter.Since is not null) { where.Add("at >= @Since"); }
        if (filter.Until is not null) { where.Add("at < @Until"); }
        if (filter.AfterSequence is not null) { where.Add("seq > @AfterSequence"); }
        var sql = "SELECT seq AS Seq, at AS At, actor AS Actor, action AS Action, target AS Target, project AS Project, details AS Details, previous_hash AS PreviousHash, hash AS Hash FROM mgmt_audit_log"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY seq LIMIT @Limit";
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(sql, new
        {
            filter.Actor,
            filter.Action,
            ActionPrefix = filter.Action is null ? null : EscapeLike(filter.Action) + ".%",
            filter.Target,
            filter.Project,
            Since = filter.Since?.ToUnixTimeMilliseconds(),
            Until = filter.Until?.ToUnixTimeMilliseconds(),
            filter.AfterSequence,
            filter.Limit,
        }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToEntry()).ToList();
    }

    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var previous = AuditChain.GenesisHash;
        long expected = 1;
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            "SELECT seq, at, actor, action, target, project, details, previous_hash, hash FROM mgmt_audit_log ORDER BY seq",
            cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var sequence = reader.GetInt64(0);
                if (sequence != expected)
                {
                    return Broken(expected - 1, previous, expected, sequence > expected
                        ? $"entry {expected} is missing (deleted?): the log jumps from {expected - 1} to {sequence}"
                        : $"entry {sequence} is out of order");
                }
                var stored = reader.GetString(8);
                var previousHash = reader.GetString(7);
                if (!string.Equals(previousHash, previous, StringComparison.Ordinal))
                {
                    return Broken(expected - 1, previous, sequence, $"entry {sequence} does not link to entry {sequence - 1} (an entry before it was deleted or replaced)");
                }
                var computed = AuditChain.ComputeHash(sequence, reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), previousHash);
                if (!string.Equals(computed, stored, StringComparison.Ordinal))
                {
                    return Broken(expected - 1, previous, sequence, $"entry {sequence} was edited: its content no longer matches its hash");
                }
                previous = stored;
                expected++;
            }
        }
        var count = expected - 1;
        var head = await connection.QuerySingleOrDefaultAsync<AuditChain.HeadRow>(new CommandDefinition(
            "SELECT seq AS Seq, hash AS Hash FROM mgmt_audit_head WHERE id = 1", cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (head is not null && head.Seq != count)
        {
            return Broken(count, previous, count + 1, head.Seq > count
                ? $"entries {count + 1} to {head.Seq} are missing (deleted from the end of the log)"
                : $"the head record names entry {head.Seq}, but the log has {count}");
        }
        if (head is not null && !string.Equals(head.Hash, previous, StringComparison.Ordinal))
        {
            return Broken(count, previous, count, $"entry {count} was replaced: it does not match the head record");
        }
        if (head is null && count > 0)
        {
            return Broken(count, previous, 1, "the head record is missing");
        }
        return new AuditVerification(true, count, count == 0 ? null : previous, null, null);
    }

    private static AuditVerification Broken(long entries, string head, long sequence, string problem) =>
        new(false, entries, head, sequence, problem);

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private sealed class Row
    {
        public long Seq { get; set; }
        public long At { get; set; }
        public string Actor { get; set; } = "";
        public string Action { get; set; } = "";
        public string Target { get; set; } = "";
        public string? Project { get; set; }
        public string Details { get; set; } = "";
        public string PreviousHash { get; set; } = "";
        public string Hash { get; set; } = "";

        public AuditEntry ToEntry() => new(Seq, DateTimeOffset.FromUnixTimeMilliseconds(At), Actor, Action, Target, Project,
            AuditDetails.Deserialize(Details), PreviousHash, Hash);
    }
}
