using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Management.Api;

/// <summary>
/// <c>/api/projects</c>: Programme Managers create projects and appoint Project Managers and Investigators; a
/// Project Manager adds existing users to their project as Researchers, Dataset Provider Representatives or Referees
/// (members of the appliance-wide Referee college that Programme Managers appoint, never the Project Manager themself);
/// classifiers record a tier per work package. A project the caller holds no role in answers 404, as if absent.
/// At a tier listed in <c>SafeHaven:Projects:RequireProviderApproval</c> (default 3 and 4) a new member or Referee is
/// pending (202) until a Dataset Provider Representative of the project approves it (<see cref="ProviderApproval"/>).
/// </summary>
internal static class ProjectEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/projects", async (HttpContext http, IProjectStore projects, CancellationToken cancellationToken) =>
            {
                var caller = Caller.From(http.User)!;
                var all = await projects.ListProjectsAsync(cancellationToken).ConfigureAwait(false);
                return ManagementJson.Ok(all.Where(p => caller.CanSee(p.Name)).Select(p => new ProjectSummary(p.Name, p.Title, p.CreatedAt, p.CreatedBy,
                    caller.ProjectRoles.TryGetValue(p.Name, out var r) ? r.Order().ToList() : [])).ToList());
            })
            .WithSummary("The projects the caller can see (all of them for System and Programme Managers).")
            .Produces<List<ProjectSummary>>();

        api.MapPost("/projects", CreateProjectAsync)
            .RequireAuthorization(ManagementPolicies.ProgrammeManager)
            .WithSummary("Create a project (Programme Manager).")
            .Accepts<ProjectRequest>("application/json").Produces<ProjectView>(StatusCodes.Status201Created);

        api.MapGet("/projects/{project}", async (string project, HttpContext http, IProjectStore projects, IUserStore users, CancellationToken cancellationToken) =>
            {
                var (record, problem) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
                return record is null ? problem! : ManagementJson.Ok(await ViewAsync(record, projects, users, cancellationToken).ConfigureAwait(false));
            })
            .WithSummary("A project with its members and work packages (its members, System and Programme Managers).")
            .Produces<ProjectView>();

        api.MapPost("/projects/{project}/members", AddMemberAsync)
            .WithSummary("Give an existing user a role in the project (Programme Manager: Project Manager, Investigator; the project's Project Manager: Researcher, Dataset Provider Representative, and Referee from the Referee college, never themself). At a tier that requires counter-approval the answer is 202 and the role is pending.")
            .Accepts<MemberRequest>("application/json").Produces<RoleAssignmentView>(StatusCodes.Status201Created)
            .Produces<PendingMembershipView>(StatusCodes.Status202Accepted);

        api.MapGet("/projects/{project}/members/pending", async (string project, HttpContext http, IProjectStore projects, IUserStore users, CancellationToken cancellationToken) =>
            {
                var (record, problem) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
                return record is null ? problem! : ManagementJson.Ok(await PendingAsync(project, projects, users, cancellationToken).ConfigureAwait(false));
            })
            .WithSummary("The project's memberships waiting for a Dataset Provider Representative's counter-approval, each with why it waits (its members, System and Programme Managers).")
            .Produces<List<PendingMembershipView>>();

        api.MapPost("/projects/{project}/members/pending/{user}/{role}/approve", (string project, string user, string role, HttpContext http, IProjectStore projects,
                ProjectActions actions, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecidePendingAsync(project, user, role, approve: true, http, projects, actions, auth, cancellationToken))
            .WithSummary("Counter-approve a pending member or Referee: the role is granted (a Dataset Provider Representative of the project who neither proposed it nor is the nominee).")
            .Accepts<DecisionRequest>("application/json").Produces<RoleAssignmentView>();

        api.MapPost("/projects/{project}/members/pending/{user}/{role}/reject", (string project, string user, string role, HttpContext http, IProjectStore projects,
                ProjectActions actions, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecidePendingAsync(project, user, role, approve: false, http, projects, actions, auth, cancellationToken))
            .WithSummary("Reject a pending member or Referee: the nomination is removed (a Dataset Provider Representative of the project who neither proposed it nor is the nominee).")
            .Accepts<DecisionRequest>("application/json").Produces(StatusCodes.Status204NoContent);

        api.MapGet("/college/referees", async (IUserStore users, CancellationToken cancellationToken) =>
                ManagementJson.Ok(await CollegeAsync(users, cancellationToken).ConfigureAwait(false)))
            .WithSummary("The members of the appliance-wide Referee college (any signed-in caller: Project Managers choose Referees from it).")
            .Produces<List<RoleAssignmentView>>();

        api.MapPost("/college/referees", AddCollegeRefereeAsync)
            .RequireAuthorization(ManagementPolicies.ProgrammeManager)
            .WithSummary("Appoint an existing user to the Referee college (Programme Manager).")
            .Accepts<CollegeRefereeRequest>("application/json").Produces<RoleAssignmentView>(StatusCodes.Status201Created);

        api.MapDelete("/college/referees/{user}", async (string user, HttpContext http, IUserStore users, CancellationToken cancellationToken) =>
            {
                if (!Names.IsUserName(user))
                {
                    return ManagementJson.Invalid("user", Names.UserRule);
                }
                var caller = Caller.From(http.User)!;
                return await users.RemoveRoleAsync(user, Role.CollegeReferee, null,
                    AuditRecord.Of(caller.Name, "college.referee.removed", user, null), cancellationToken).ConfigureAwait(false)
                    ? Results.NoContent()
                    : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not in the college", detail: $"{user} is not a member of the Referee college.");
            })
            .RequireAuthorization(ManagementPolicies.ProgrammeManager)
            .WithSummary("Remove a user from the Referee college (Programme Manager).")
            .Produces(StatusCodes.Status204NoContent);

        api.MapDelete("/projects/{project}/members/{user}/{role}", RemoveMemberAsync)
            .WithSummary("Take a role in the project away (whoever may give it).")
            .Produces(StatusCodes.Status204NoContent);

        api.MapPost("/projects/{project}/workpackages", CreateWorkPackageAsync)
            .WithSummary("Create a work package (the project's Project Manager or an Investigator).")
            .Accepts<WorkPackageRequest>("application/json").Produces<WorkPackageView>(StatusCodes.Status201Created);

        api.MapGet("/projects/{project}/workpackages/{workPackage}", async (string project, string workPackage, HttpContext http, IProjectStore projects, CancellationToken cancellationToken) =>
            {
                var (record, problem) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
                if (record is null)
                {
                    return problem!;
                }
                var view = await WorkPackageAsync(project, workPackage, projects, cancellationToken).ConfigureAwait(false);
                return view is null ? NoWorkPackage(project, workPackage) : ManagementJson.Ok(view);
            })
            .WithSummary("A work package: its classifications and whether they agree.")
            .Produces<WorkPackageView>();

        api.MapPut("/projects/{project}/workpackages/{workPackage}/classifications", ClassifyAsync)
            .WithSummary("Record the caller's classification (the project's Investigators, Dataset Provider Representatives and Referees).")
            .Accepts<ClassificationRequest>("application/json").Produces<WorkPackageView>();
    }

    private static async Task<(ProjectRecord? Project, IResult? Problem)> VisibleAsync(string project, HttpContext http, IProjectStore projects, CancellationToken cancellationToken)
    {
        var visible = await http.RequestServices.GetRequiredService<ProjectActions>().VisibleAsync(Caller.From(http.User)!, project, cancellationToken).ConfigureAwait(false);
        return visible.Succeeded ? (visible.Value, null) : (null, Answer(visible));
    }

    /// <summary>A refusal of <see cref="ProjectActions"/> as the API answers it: problem details (validation problems for a 400).</summary>
    private static IResult Answer<T>(ProjectOutcome<T> refused) => refused.Errors is { } errors
        ? ManagementJson.Invalid(errors.ToDictionary(e => e.Key, e => e.Value))
        : Results.Problem(statusCode: refused.Status, title: refused.Title, detail: refused.Detail);

    private static IResult NoWorkPackage(string project, string workPackage) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such work package", detail: $"Project {project} has no work package {workPackage}.");

    private static IResult Forbidden(string detail) => Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not allowed", detail: detail);

    private static async Task<ProjectView> ViewAsync(ProjectRecord project, IProjectStore projects, IUserStore users, CancellationToken cancellationToken)
    {
        var members = await users.ListProjectRolesAsync(project.Name, cancellationToken).ConfigureAwait(false);
        var workPackages = new List<WorkPackageSummary>();
        foreach (var wp in await projects.ListWorkPackagesAsync(project.Name, cancellationToken).ConfigureAwait(false))
        {
            var outcome = WorkPackageClassification.Decide(await projects.GetClassificationsAsync(project.Name, wp.Name, cancellationToken).ConfigureAwait(false));
            workPackages.Add(new WorkPackageSummary(wp.Name, wp.Title, outcome.State, outcome.AgreedTier, outcome.HighestProposedTier));
        }
        return new ProjectView(project.Name, project.Title, project.CreatedAt, project.CreatedBy, members.Select(RoleAssignmentView.Of).ToList(), workPackages,
            await PendingAsync(project.Name, projects, users, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<List<PendingMembershipView>> PendingAsync(string project, IProjectStore projects, IUserStore users, CancellationToken cancellationToken)
    {
        var pending = await projects.ListPendingMembershipsAsync(project, cancellationToken).ConfigureAwait(false);
        if (pending.Count == 0)
        {
            return [];
        }
        var hasRepresentative = ProjectActions.HasRepresentative(await users.ListProjectRolesAsync(project, cancellationToken).ConfigureAwait(false));
        return pending.Select(p => PendingMembershipView.Of(p, hasRepresentative)).ToList();
    }

    private static async Task<WorkPackageView?> WorkPackageAsync(string project, string workPackage, IProjectStore projects, CancellationToken cancellationToken)
    {
        if (!Names.IsProjectName(workPackage))
        {
            return null;
        }
        var wp = await projects.GetWorkPackageAsync(project, workPackage, cancellationToken).ConfigureAwait(false);
        if (wp is null)
        {
            return null;
        }
        var classifications = await projects.GetClassificationsAsync(project, workPackage, cancellationToken).ConfigureAwait(false);
        var outcome = WorkPackageClassification.Decide(classifications);
        return new WorkPackageView(wp.Project, wp.Name, wp.Title, wp.CreatedAt, wp.CreatedBy, outcome.State, outcome.CanProceed, outcome.AgreedTier,
            outcome.HighestProposedTier, outcome.Missing, outcome.Explanation, classifications);
    }

    /// <summary>The 400 for a project or work-package name and title that break the naming rules, or null when both are fine.</summary>
    private static IResult? InvalidNameOrTitle(string name, string title) =>
        ProjectActions.NameAndTitleErrors(name, title) is { Count: > 0 } errors ? ManagementJson.Invalid(errors) : null;

    private static async Task<IResult> CreateProjectAsync(HttpContext http, IProjectStore projects, IUserStore users, TimeProvider time,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (request, problem) = await ManagementJson.ReadAsync<ProjectRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        if (InvalidNameOrTitle(request.Name, request.Title) is { } invalid)
        {
            return invalid;
        }
        var caller = Caller.From(http.User)!;
        var record = new ProjectRecord(request.Name, request.Title, time.GetUtcNow(), caller.Name);
        if (!await projects.CreateProjectAsync(record, AuditRecord.Of(caller.Name, "project.created", request.Name, request.Name, ("title", request.Title)), cancellationToken).ConfigureAwait(false))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Project exists", detail: $"A project named {request.Name} exists.");
        }
        return ManagementJson.Ok(await ViewAsync(record, projects, users, cancellationToken).ConfigureAwait(false), StatusCodes.Status201Created);
    }

    private static async Task<List<RoleAssignmentView>> CollegeAsync(IUserStore users, CancellationToken cancellationToken)
    {
        var members = new List<RoleAssignmentView>();
        foreach (var user in await users.ListUsersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (user.Disabled)
            {
                continue;
            }
            members.AddRange((await users.GetRolesAsync(user.Name, cancellationToken).ConfigureAwait(false))
                .Where(a => a.Role == Role.CollegeReferee && a.Project is null).Select(RoleAssignmentView.Of));
        }
        return members;
    }

    private static async Task<IResult> AddCollegeRefereeAsync(HttpContext http, IUserStore users, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (request, problem) = await ManagementJson.ReadAsync<CollegeRefereeRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        if (!Names.IsUserName(request.User))
        {
            return ManagementJson.Invalid("user", Names.UserRule);
        }
        if (await users.GetUserAsync(request.User, cancellationToken).ConfigureAwait(false) is not { Disabled: false })
        {
            return ManagementJson.Invalid("user", $"There is no active user {request.User}.");
        }
        var caller = Caller.From(http.User)!;
        var added = await users.AssignRoleAsync(request.User, Role.CollegeReferee, null,
            AuditRecord.Of(caller.Name, "college.referee.added", request.User, null), cancellationToken).ConfigureAwait(false);
        var assignment = (await users.GetRolesAsync(request.User, cancellationToken).ConfigureAwait(false)).First(a => a.Project is null && a.Role == Role.CollegeReferee);
        return ManagementJson.Ok(RoleAssignmentView.Of(assignment), added ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> AddMemberAsync(string project, HttpContext http, IProjectStore projects, ProjectActions actions,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        if (ProjectActions.AppointableBy(caller, project).Count == 0)
        {
            return Forbidden($"Only a Programme Manager or the Project Manager of {project} adds people to it.");
        }
        var (request, problem) = await ManagementJson.ReadAsync<MemberRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var added = await actions.AddMemberAsync(caller, project, request.User, request.Role, cancellationToken).ConfigureAwait(false);
        if (!added.Succeeded)
        {
            return Answer(added);
        }
        return added.Value!.Pending is { } pending
            ? ManagementJson.Ok(PendingMembershipView.Of(pending, added.Value.ProjectHasRepresentative), added.Status)
            : ManagementJson.Ok(RoleAssignmentView.Of(added.Value.Granted!), added.Status);
    }

    private static async Task<IResult> DecidePendingAsync(string project, string user, string role, bool approve, HttpContext http, IProjectStore projects,
        ProjectActions actions, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var (request, problem) = await ManagementJson.ReadDecisionAsync(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var decided = await actions.DecidePendingAsync(Caller.From(http.User)!, project, user, role, approve, request.Reason, cancellationToken).ConfigureAwait(false);
        return !decided.Succeeded ? Answer(decided)
            : decided.Value is { } assignment ? ManagementJson.Ok(RoleAssignmentView.Of(assignment))
            : Results.NoContent();
    }

    private static async Task<IResult> RemoveMemberAsync(string project, string user, string role, HttpContext http, IProjectStore projects, ProjectActions actions,
        CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var removed = await actions.RemoveMemberAsync(Caller.From(http.User)!, project, user, role, cancellationToken).ConfigureAwait(false);
        return removed.Succeeded ? Results.NoContent() : Answer(removed);
    }

    private static async Task<IResult> CreateWorkPackageAsync(string project, HttpContext http, IProjectStore projects, ProjectActions actions,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        if (!ProjectActions.MayCreateWorkPackage(caller, project))
        {
            return Forbidden(ProjectActions.NotWorkPackageCreator(project));
        }
        var (request, problem) = await ManagementJson.ReadAsync<WorkPackageRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var created = await actions.CreateWorkPackageAsync(caller, project, request.Name, request.Title, cancellationToken).ConfigureAwait(false);
        return created.Succeeded
            ? ManagementJson.Ok((await WorkPackageAsync(project, request.Name, projects, cancellationToken).ConfigureAwait(false))!, StatusCodes.Status201Created)
            : Answer(created);
    }

    private static async Task<IResult> ClassifyAsync(string project, string workPackage, HttpContext http, IProjectStore projects, ProjectActions actions,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        if (ProjectActions.ClassifierRoles(caller, project).Count == 0)
        {
            return Forbidden(ProjectActions.NotClassifier(project));
        }
        if (!Names.IsProjectName(workPackage) || await projects.GetWorkPackageAsync(project, workPackage, cancellationToken).ConfigureAwait(false) is null)
        {
            return NoWorkPackage(project, workPackage);
        }
        var (request, problem) = await ManagementJson.ReadAsync<ClassificationRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var classified = await actions.ClassifyAsync(caller, project, workPackage, request.Tier, request.Reason, request.Role, request.Answers, cancellationToken).ConfigureAwait(false);
        return classified.Succeeded
            ? ManagementJson.Ok((await WorkPackageAsync(project, workPackage, projects, cancellationToken).ConfigureAwait(false))!)
            : Answer(classified);
    }
}
