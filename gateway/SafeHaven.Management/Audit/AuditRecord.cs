using System.Text.Json;

namespace SafeHaven.Management.Audit;

/// <summary>What happened, by whom, to what: the part of an audit entry the caller supplies.</summary>
public sealed record AuditRecord(string Actor, string Action, string Target, string? Project, IReadOnlyDictionary<string, string?> Details)
{
    public static AuditRecord Of(string actor, string action, string target, string? project = null, params (string Key, string? Value)[] details) =>
        new(actor, action, target, project, details.Where(d => d.Value is not null).ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal));
}

/// <summary>One stored entry of the hash-chained audit log.</summary>
public sealed record AuditEntry(
    long Sequence, DateTimeOffset At, string Actor, string Action, string Target, string? Project,
    IReadOnlyDictionary<string, string?> Details, string PreviousHash, string Hash);

/// <summary>Which entries <see cref="IAuditLog.QueryAsync"/> returns; every filter is optional.</summary>
public sealed record AuditFilter(
    string? Actor = null, string? Action = null, string? Target = null, string? Project = null,
    DateTimeOffset? Since = null, DateTimeOffset? Until = null, long? AfterSequence = null, int Limit = 100);

/// <summary>The outcome of checking the whole chain: intact, or the first entry that is not what was written.</summary>
public sealed record AuditVerification(bool Intact, long Entries, string? HeadHash, long? FirstBrokenSequence, string? Problem);

/// <summary>The append-only, hash-chained record of every change and decision.</summary>
public interface IAuditLog
{
    /// <summary>Appends one entry (for decisions that change nothing else; changes append with their stores).</summary>
    Task<AuditEntry> AppendAsync(AuditRecord record, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, CancellationToken cancellationToken);

    Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken);
}

internal static class AuditDetails
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    /// <summary>Details as stored: JSON with keys in ordinal order, so the stored text is canonical.</summary>
    public static string Serialize(IReadOnlyDictionary<string, string?> details) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string?>(details.ToDictionary(d => d.Key, d => d.Value), StringComparer.Ordinal), Options);

    public static IReadOnlyDictionary<string, string?> Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string?>>(json, Options) ?? [];
        }
        catch (JsonException)
        {
            return new Dictionary<string, string?> { ["unreadable"] = json };
        }
    }
}
