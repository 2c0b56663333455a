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
}
