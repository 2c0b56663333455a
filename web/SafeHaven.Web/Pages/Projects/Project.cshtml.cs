using Microsoft.AspNetCore.Mvc;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Web.Pages.Projects;

/// <summary>
/// One project: its members and their roles, the memberships waiting for a Dataset Provider Representative's
/// counter-approval, and its work packages with where their classification stands. The forms shown are exactly what
/// the caller may do (<see cref="ProjectActions.AppointableBy"/> and the others the API uses); every change goes
/// through <see cref="ProjectActions"/>, so a refusal reads as the API's.
/// </summary>
public sealed class ProjectModel(IProjectStore projects, IUserStore users, ProjectActions actions) : ProjectPage(actions)
{
    public sealed record PendingRow(PendingMembership Pending, string Waiting, string? Refusal);

    public sealed record WorkPackageRow(WorkPackageRecord WorkPackage, ClassificationOutcome Outcome);

    public IReadOnlyList<RoleAssignment> Members { get; private set; } = [];

    public IReadOnlyList<PendingRow> Pending { get; private set; } = [];

    public IReadOnlyList<WorkPackageRow> WorkPackages { get; private set; } = [];

    /// <summary>The roles the caller may give and take away here (empty: no member forms).</summary>
    public IReadOnlyList<Role> Appointable { get; private set; } = [];

    public bool MayCreateWorkPackage { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAddAsync(string? user, string? role, CancellationToken cancellationToken)
    {
        if (!await LoadProjectAsync(cancellationToken))
        {
            return Page();
        }
        var added = await Actions.AddMemberAsync(Caller, Project, user?.Trim() ?? "", role ?? "", cancellationToken);
        var message = added.Value?.Pending is { } pending
            ? ProviderApproval.Waiting(pending, added.Value.ProjectHasRepresentative)
            : $"{user} is now {RoleNames.Describe(added.Value?.Granted?.Role ?? default)} in {Project}.";
        return await AfterAsync(added, message, () => LoadAsync(cancellationToken));
    }

    public async Task<IActionResult> OnPostRemoveAsync(string? user, string? role, CancellationToken cancellationToken)
    {
        if (!await LoadProjectAsync(cancellationToken))
        {
            return Page();
        }
        var removed = await Actions.RemoveMemberAsync(Caller, Project, user ?? "", role ?? "", cancellationToken);
        return await AfterAsync(removed, $"{user} is no longer {role} in {Project}.", () => LoadAsync(cancellationToken));
    }

    public Task<IActionResult> OnPostApproveAsync(string? user, string? role, string? reason, CancellationToken cancellationToken) =>
        DecideAsync(user, role, reason, approve: true, cancellationToken);

    public Task<IActionResult> OnPostRejectAsync(string? user, string? role, string? reason, CancellationToken cancellationToken) =>
        DecideAsync(user, role, reason, approve: false, cancellationToken);

    public async Task<IActionResult> OnPostWorkPackageAsync(string? name, string? title, CancellationToken cancellationToken)
    {
        if (!await LoadProjectAsync(cancellationToken))
        {
            return Page();
        }
        var created = await Actions.CreateWorkPackageAsync(Caller, Project, name?.Trim() ?? "", title?.Trim() ?? "", cancellationToken);
        return await AfterAsync(created, $"Work package {name} created: its classifiers can now classify it.", () => LoadAsync(cancellationToken));
    }

    private async Task<IActionResult> DecideAsync(string? user, string? role, string? reason, bool approve, CancellationToken cancellationToken)
    {
        if (!await LoadProjectAsync(cancellationToken))
        {
            return Page();
        }
        var decided = await Actions.DecidePendingAsync(Caller, Project, user ?? "", role ?? "", approve, reason, cancellationToken);
        return await AfterAsync(decided, approve ? $"Approved: {user} is now {role} in {Project}." : $"Rejected: {user} will not be {role} in {Project}.",
            () => LoadAsync(cancellationToken));
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (Record is null && !await LoadProjectAsync(cancellationToken))
        {
            return;
        }
        Members = (await users.ListProjectRolesAsync(Project, cancellationToken)).OrderBy(m => m.Role).ThenBy(m => m.User, StringComparer.Ordinal).ToList();
        var hasRepresentative = ProjectActions.HasRepresentative(Members);
        Pending = (await projects.ListPendingMembershipsAsync(Project, cancellationToken))
            .Select(p => new PendingRow(p, ProviderApproval.Waiting(p, hasRepresentative), ProviderApproval.Refusal(p, Caller)))
            .ToList();
        var workPackages = new List<WorkPackageRow>();
        foreach (var wp in await projects.ListWorkPackagesAsync(Project, cancellationToken))
        {
            workPackages.Add(new WorkPackageRow(wp, WorkPackageClassification.Decide(await projects.GetClassificationsAsync(Project, wp.Name, cancellationToken))));
        }
        WorkPackages = workPackages;
        Appointable = ProjectActions.AppointableBy(Caller, Project);
        MayCreateWorkPackage = ProjectActions.MayCreateWorkPackage(Caller, Project);
    }
}
