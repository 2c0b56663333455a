using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;

namespace SafeHaven.Management.Api;

public sealed record CallerView(string Name, string AuthenticatedBy, IReadOnlyList<Role> GlobalRoles, IReadOnlyDictionary<string, IReadOnlyList<Role>> ProjectRoles)
{
    public static CallerView Of(Caller caller) => new(caller.Name, caller.AuthenticatedBy, caller.GlobalRoles.Order().ToList(),
        caller.ProjectRoles.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => (IReadOnlyList<Role>)p.Value.Order().ToList()));
}

public sealed record PolicyValues(int Tier, int MinimumAgeDays, int MaximumLagDays, double ModelThreshold);

public sealed record PolicyView(long Generation, PolicyValues InForce, PolicyValues Configured, PolicySettings Overrides, IReadOnlyDictionary<string, int> AllowlistEntriesInForce);

public sealed record AllowlistFileView(string Path, IReadOnlyList<string> Entries, string ApprovedBy);

public sealed record AllowlistView(string Ecosystem, IReadOnlyList<string> InForce, IReadOnlyList<AllowlistEntryRecord> Entries, IReadOnlyList<AllowlistFileView> Files);

public sealed record UserView(string Name, DateTimeOffset CreatedAt, string CreatedBy, bool Disabled, IReadOnlyList<RoleAssignmentView> Roles);

public sealed record RoleAssignmentView(string User, Role Role, string? Project, DateTimeOffset AssignedAt, string AssignedBy)
{
    public static RoleAssignmentView Of(RoleAssignment a) => new(a.User, a.Role, a.Project, a.AssignedAt, a.AssignedBy);
}

public sealed record ProjectSummary(string Name, string Title, DateTimeOffset CreatedAt, string CreatedBy, IReadOnlyList<Role> YourRoles);

public sealed record ProjectView(string Name, string Title, DateTimeOffset CreatedAt, string CreatedBy, IReadOnlyList<RoleAssignmentView> Members,
    IReadOnlyList<WorkPackageSummary> WorkPackages, IReadOnlyList<PendingMembershipView> PendingMembers);

/// <summary>A nomination waiting for a Dataset Provider Representative's counter-approval; it grants nothing yet.</summary>
public sealed record PendingMembershipView(string Project, string User, Role Role, DateTimeOffset ProposedAt, string ProposedBy, bool CanProceed, string Explanation)
{
    public static PendingMembershipView Of(PendingMembership pending, bool projectHasRepresentative) =>
        new(pending.Project, pending.User, pending.Role, pending.ProposedAt, pending.ProposedBy, projectHasRepresentative, ProviderApproval.Waiting(pending, projectHasRepresentative));
}

public sealed record WorkPackageSummary(string Name, string Title, ClassificationState State, int? AgreedTier, int? HighestProposedTier);

public sealed record WorkPackageView(
    string Project, string Name, string Title, DateTimeOffset CreatedAt, string CreatedBy,
    ClassificationState State, bool CanProceed, int? AgreedTier, int? HighestProposedTier, IReadOnlyList<Role> Missing, string Explanation,
    IReadOnlyList<Classification> Classifications);

public sealed record AuditEntryView(long Sequence, DateTimeOffset At, string Actor, string Action, string Target, string? Project, IReadOnlyDictionary<string, string?> Details, string PreviousHash, string Hash)
{
    public static AuditEntryView Of(AuditEntry e) => new(e.Sequence, e.At, e.Actor, e.Action, e.Target, e.Project, e.Details, e.PreviousHash, e.Hash);
}

public sealed record MirrorSyncView(
    string Ecosystem, bool Enabled, DateTimeOffset? UpstreamLastSuccess, DateTimeOffset? UpstreamLastFailure, string? UpstreamLastError,
    long StaleResponses, DateTimeOffset? ClosureComputedAt, int? ClosurePackages, int? ClosureUnsatisfied);

public sealed record SyncView(int Tier, long PolicyGeneration, IReadOnlyList<MirrorSyncView> Mirrors, IReadOnlyList<SafeHaven.Gateway.Snapshots.SnapshotSyncReport> Snapshots);
