using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Projects;

public sealed record ProjectRecord(string Name, string Title, DateTimeOffset CreatedAt, string CreatedBy);

public sealed record WorkPackageRecord(string Project, string Name, string Title, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>Projects, their work packages and the classifications recorded for them; changes are audited atomically.</summary>
public interface IProjectStore
{
    Task<ProjectRecord?> GetProjectAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ProjectRecord>> ListProjectsAsync(CancellationToken cancellationToken);

    /// <summary>False when a project of that name exists.</summary>
    Task<bool> CreateProjectAsync(ProjectRecord project, AuditRecord audit, CancellationToken cancellationToken);

    Task<WorkPackageRecord?> GetWorkPackageAsync(string project, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<WorkPackageRecord>> ListWorkPackagesAsync(string project, CancellationToken cancellationToken);

    /// <summary>False when the work package exists.</summary>
    Task<bool> CreateWorkPackageAsync(WorkPackageRecord workPackage, AuditRecord audit, CancellationToken cancellationToken);

    Task<IReadOnlyList<Classification>> GetClassificationsAsync(string project, string workPackage, CancellationToken cancellationToken);

    /// <summary>Records (or replaces) one classifier's classification in one role.</summary>
    Task RecordClassificationAsync(string project, string workPackage, Classification classification, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>The memberships of the project waiting for a Dataset Provider Representative's counter-approval.</summary>
    Task<IReadOnlyList<PendingMembership>> ListPendingMembershipsAsync(string project, CancellationToken cancellationToken);

    Task<PendingMembership?> GetPendingMembershipAsync(string project, string user, Role role, CancellationToken cancellationToken);

    /// <summary>False when the same nomination is already pending.</summary>
    Task<bool> ProposeMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>
    /// Approves a pending membership: it is removed and the role granted, with the audit entry, atomically. False when
    /// it was no longer pending (decided meanwhile).
    /// </summary>
    Task<bool> ApproveMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken);

    /// <summary>Removes a pending membership (rejected or withdrawn). False when it was no longer pending.</summary>
    Task<bool> RemovePendingMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken);
}
