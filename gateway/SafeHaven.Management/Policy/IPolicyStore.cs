using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Policy;

/// <summary>Policy values set at runtime; a null value leaves the configured one in force.</summary>
public sealed record PolicySettings(int? Tier = null, int? MinimumAgeDays = null, int? MaximumLagDays = null, double? ModelThreshold = null);

public enum AllowlistEntryStatus
{
    /// <summary>Added by hand; waits for a Referee's approval and is not in effect.</summary>
    Pending,
    Approved,
    Rejected,
}

/// <summary>An allowlist entry added through the management API, with its provenance.</summary>
public sealed record AllowlistEntryRecord(
    string Ecosystem, string Name, string Entry, string AddedBy, string Reason, DateTimeOffset AddedAt,
    AllowlistEntryStatus Status, string? DecidedBy, string? DecisionReason, DateTimeOffset? DecidedAt);

/// <summary>Runtime policy: settings over configuration, and hand-added allowlist entries with their approvals.</summary>
public interface IPolicyStore
{
    PolicySettings GetSettings();

    /// <summary>Sets the non-null values of <paramref name="changes"/>; <paramref name="clear"/> names settings to return to configuration.</summary>
    Task SetSettingsAsync(PolicySettings changes, IReadOnlyCollection<string> clear, AuditRecord audit, CancellationToken cancellationToken);

    IReadOnlyList<AllowlistEntryRecord> ListAllowlistEntries(string? ecosystem);

    /// <summary>False when an entry of that name exists in the ecosystem.</summary>
    Task<bool> AddAllowlistEntryAsync(AllowlistEntryRecord entry, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>Approves or rejects a pending entry; false when there is no pending entry of that name.</summary>
    Task<bool> DecideAllowlistEntryAsync(string ecosystem, string name, AllowlistEntryStatus decision, string decidedBy, string reason, AuditRecord audit, CancellationToken cancellationToken);

    Task<bool> RemoveAllowlistEntryAsync(string ecosystem, string name, AuditRecord audit, CancellationToken cancellationToken);
}
