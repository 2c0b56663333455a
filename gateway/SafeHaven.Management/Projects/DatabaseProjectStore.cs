using Dapper;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Storage;

namespace SafeHaven.Management.Projects;

internal sealed class DatabaseProjectStore(ManagementDatabase database) : IProjectStore
{
    public async Task<ProjectRecord?> GetProjectAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<ProjectRow>(new CommandDefinition(
            "SELECT name AS Name, title AS Title, created_at AS CreatedAt, created_by AS CreatedBy FROM mgmt_projects WHERE name = @name",
            new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<ProjectRecord>> ListProjectsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ProjectRow>(new CommandDefinition(
            "SELECT name AS Name, title AS Title, created_at AS CreatedAt, created_by AS CreatedBy FROM mgmt_projects ORDER BY name",
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public Task<bool> CreateProjectAsync(ProjectRecord project, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO mgmt_projects (name, title, created_at, created_by) VALUES (@Name, @Title, @at, @CreatedBy) ON CONFLICT (name) DO NOTHING",
                new { project.Name, project.Title, at = project.CreatedAt.ToUnixTimeMilliseconds(), project.CreatedBy }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, cancellationToken);

    public async Task<WorkPackageRecord?> GetWorkPackageAsync(string project, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<WorkPackageRow>(new CommandDefinition(
            "SELECT project AS Project, name AS Name, title AS Title, created_at AS CreatedAt, created_by AS CreatedBy FROM mgmt_work_packages WHERE project = @project AND name = @name",
            new { project, name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<WorkPackageRecord>> ListWorkPackagesAsync(string project, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<WorkPackageRow>(new CommandDefinition(
            "SELECT project AS Project, name AS Name, title AS Title, created_at AS CreatedAt, created_by AS CreatedBy FROM mgmt_work_packages WHERE project = @project ORDER BY name",
            new { project }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public Task<bool> CreateWorkPackageAsync(WorkPackageRecord workPackage, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO mgmt_work_packages (project, name, title, created_at, created_by) VALUES (@Project, @Name, @Title, @at, @CreatedBy) ON CONFLICT (project, name) DO NOTHING",
                new { workPackage.Project, workPackage.Name, workPackage.Title, at = workPackage.CreatedAt.ToUnixTimeMilliseconds(), workPackage.CreatedBy },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, cancellationToken);

    public async Task<IReadOnlyList<Classification>> GetClassificationsAsync(string project, string workPackage, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<ClassificationRow>(new CommandDefinition(
            "SELECT classifier AS Classifier, role AS Role, tier AS Tier, reason AS Reason, recorded_at AS RecordedAt, answers AS Answers FROM mgmt_classifications WHERE project = @project AND work_package = @workPackage ORDER BY recorded_at",
            new { project, workPackage }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => Roles.TryParse(r.Role, out var role)
            ? new Classification(r.Classifier, role, (int)r.Tier, r.Reason, DateTimeOffset.FromUnixTimeMilliseconds(r.RecordedAt),
                r.Answers is null ? null : r.Answers.Split(',', StringSplitOptions.RemoveEmptyEntries)) : null).OfType<Classification>().ToList();
    }

    public Task RecordClassificationAsync(string project, string workPackage, Classification classification, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO mgmt_classifications (project, work_package, classifier, role, tier, reason, recorded_at, answers)
                VALUES (@project, @workPackage, @classifier, @role, @tier, @reason, @at, @answers)
                ON CONFLICT (project, work_package, role, classifier) DO UPDATE SET tier = excluded.tier, reason = excluded.reason, recorded_at = excluded.recorded_at,
                    answers = excluded.answers
                """,
                new
                {
                    project, workPackage, classifier = classification.Classifier, role = classification.Role.ToString(), tier = classification.Tier,
                    reason = classification.Reason, at = classification.At.ToUnixTimeMilliseconds(),
                    answers = classification.Answers is null ? null : string.Join(',', classification.Answers),
                }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (true, audit);
        }, cancellationToken);

    private const string PendingColumns =
        "project AS Project, user_name AS User, role AS Role, proposed_at AS ProposedAt, proposed_by AS ProposedBy";

    public async Task<IReadOnlyList<PendingMembership>> ListPendingMembershipsAsync(string project, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<PendingRow>(new CommandDefinition(
            $"SELECT {PendingColumns} FROM mgmt_pending_memberships WHERE project = @project ORDER BY proposed_at, user_name, role",
            new { project }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToRecord()).OfType<PendingMembership>().ToList();
    }

    public async Task<PendingMembership?> GetPendingMembershipAsync(string project, string user, Role role, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<PendingRow>(new CommandDefinition(
            $"SELECT {PendingColumns} FROM mgmt_pending_memberships WHERE project = @project AND user_name = @user AND role = @role",
            new { project, user, role = role.ToString() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToRecord();
    }

    public Task<bool> ProposeMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var added = await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO mgmt_pending_memberships (project, user_name, role, proposed_at, proposed_by) VALUES (@Project, @User, @role, @at, @ProposedBy)
                ON CONFLICT (project, user_name, role) DO NOTHING
                """,
                new { pending.Project, pending.User, role = pending.Role.ToString(), at = pending.ProposedAt.ToUnixTimeMilliseconds(), pending.ProposedBy },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (added, added ? audit : null);
        }, cancellationToken);

    public Task<bool> ApproveMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mgmt_pending_memberships WHERE project = @Project AND user_name = @User AND role = @role",
                new { pending.Project, pending.User, role = pending.Role.ToString() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            if (!removed)
            {
                return (false, (AuditRecord?)null);
            }
            // Attributed to the proposer (who appointed); the approver is in the audit entry.
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO mgmt_role_assignments (user_name, role, project, assigned_at, assigned_by) VALUES (@User, @role, @Project, @now, @ProposedBy)
                ON CONFLICT (user_name, role, project) DO NOTHING
                """,
                new { pending.User, role = pending.Role.ToString(), pending.Project, now = database.Time.GetUtcNow().ToUnixTimeMilliseconds(), pending.ProposedBy },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (true, audit);
        }, cancellationToken);

    public Task<bool> RemovePendingMembershipAsync(PendingMembership pending, AuditRecord audit, CancellationToken cancellationToken) =>
        database.ChangeAsync(async (connection, transaction) =>
        {
            var removed = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM mgmt_pending_memberships WHERE project = @Project AND user_name = @User AND role = @role",
                new { pending.Project, pending.User, role = pending.Role.ToString() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
            return (removed, removed ? audit : null);
        }, cancellationToken);

    private sealed class PendingRow
    {
        public string Project { get; set; } = "";
        public string User { get; set; } = "";
        public string Role { get; set; } = "";
        public long ProposedAt { get; set; }
        public string ProposedBy { get; set; } = "";

        public PendingMembership? ToRecord() => Roles.TryParse(Role, out var role)
            ? new PendingMembership(Project, User, role, DateTimeOffset.FromUnixTimeMilliseconds(ProposedAt), ProposedBy)
            : null;
    }

    private sealed class ProjectRow
    {
        public string Name { get; set; } = "";
        public string Title { get; set; } = "";
        public long CreatedAt { get; set; }
        public string CreatedBy { get; set; } = "";

        public ProjectRecord ToRecord() => new(Name, Title, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), CreatedBy);
    }

    private sealed class WorkPackageRow
    {
        public string Project { get; set; } = "";
        public string Name { get; set; } = "";
        public string Title { get; set; } = "";
        public long CreatedAt { get; set; }
        public string CreatedBy { get; set; } = "";

        public WorkPackageRecord ToRecord() => new(Project, Name, Title, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), CreatedBy);
    }

    private sealed class ClassificationRow
    {
        public string Classifier { get; set; } = "";
        public string Role { get; set; } = "";
        public long Tier { get; set; }
        public string Reason { get; set; } = "";
        public long RecordedAt { get; set; }
        public string? Answers { get; set; }
    }
}
