using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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
    /// <summary>Which project roles each appointing role may give (and take away).</summary>
    public static IReadOnlyList<Role> AppointableBy(Caller caller, string project)
    {
        var roles = new List<Role>();
        if (caller.Has(Role.ProgrammeManager))
        {
            roles.AddRange([Role.ProjectManager, Role.Investigator]);
        }
        if (caller.Has(project, Role.ProjectManager))
        {
            roles.AddRange([Role.Researcher, Role.Referee, Role.DatasetProviderRepresentative]);
        }
        return roles;
    }

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
                IUserStore users, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecidePendingAsync(project, user, role, approve: true, http, projects, users, auth, cancellationToken))
            .WithSummary("Counter-approve a pending member or Referee: the role is granted (a Dataset Provider Representative of the project who neither proposed it nor is the nominee).")
            .Accepts<DecisionRequest>("application/json").Produces<RoleAssignmentView>();

        api.MapPost("/projects/{project}/members/pending/{user}/{role}/reject", (string project, string user, string role, HttpContext http, IProjectStore projects,
                IUserStore users, IOptions<AuthOptions> auth, CancellationToken cancellationToken) =>
                DecidePendingAsync(project, user, role, approve: false, http, projects, users, auth, cancellationToken))
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
        if (!Names.IsProjectName(project))
        {
            return (null, ManagementJson.Invalid("project", Names.ProjectRule));
        }
        var caller = Caller.From(http.User)!;
        var record = caller.CanSee(project) ? await projects.GetProjectAsync(project, cancellationToken).ConfigureAwait(false) : null;
        return record is null
            ? (null, Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such project", detail: $"There is no project {project} that you can see."))
            : (record, null);
    }

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

    private static bool HasRepresentative(IEnumerable<RoleAssignment> members) => members.Any(a => a.Role == Role.DatasetProviderRepresentative);

    private static async Task<List<PendingMembershipView>> PendingAsync(string project, IProjectStore projects, IUserStore users, CancellationToken cancellationToken)
    {
        var pending = await projects.ListPendingMembershipsAsync(project, cancellationToken).ConfigureAwait(false);
        if (pending.Count == 0)
        {
            return [];
        }
        var hasRepresentative = HasRepresentative(await users.ListProjectRolesAsync(project, cancellationToken).ConfigureAwait(false));
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
    private static IResult? InvalidNameOrTitle(string name, string title)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Names.IsProjectName(name)) { errors["name"] = [Names.ProjectRule]; }
        if (!Names.IsText(title, 200)) { errors["title"] = ["1 to 200 characters, no control characters."]; }
        return errors.Count > 0 ? ManagementJson.Invalid(errors) : null;
    }

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

    private static async Task<IResult> AddMemberAsync(string project, HttpContext http, IProjectStore projects, IUserStore users,
        TierPolicyProvider policy, ProjectOptions projectOptions, TimeProvider time, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        var appointable = AppointableBy(caller, project);
        if (appointable.Count == 0)
        {
            return Forbidden($"Only a Programme Manager or the Project Manager of {project} adds people to it.");
        }
        var (request, problem) = await ManagementJson.ReadAsync<MemberRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var errors = new Dictionary<string, string[]>();
        if (!Names.IsUserName(request.User)) { errors["user"] = [Names.UserRule]; }
        if (!Roles.TryParse(request.Role, out var role) || role.IsGlobal())
        {
            errors["role"] = [$"A project role: {string.Join(", ", Roles.All.Where(r => !r.IsGlobal()))}."];
        }
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        if (!appointable.Contains(role))
        {
            return Forbidden($"You may give these roles in {project}: {string.Join(", ", appointable)}.");
        }
        if (await users.GetUserAsync(request.User, cancellationToken).ConfigureAwait(false) is not { Disabled: false })
        {
            return ManagementJson.Invalid("user", $"There is no active user {request.User}: people are added with 'safehaven users add' or by signing in through the identity provider.");
        }
        if (role == Role.Referee)
        {
            if (request.User == caller.Name)
            {
                return Forbidden($"A Project Manager never appoints themself Referee of {project}: ask another member of the Referee college.");
            }
            if (!(await users.GetRolesAsync(request.User, cancellationToken).ConfigureAwait(false)).Any(a => a.Role == Role.CollegeReferee && a.Project is null))
            {
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not in the Referee college",
                    detail: $"{request.User} is not a member of the Referee college; a Programme Manager appoints college members (POST /api/college/referees).");
            }
        }
        var existing = await users.ListProjectRolesAsync(project, cancellationToken).ConfigureAwait(false);
        if (!existing.Any(a => a.User == request.User && a.Role == role))
        {
            var hasRepresentative = HasRepresentative(existing);
            var tier = await ProviderApproval.ProjectTierAsync(project, policy.Current.Policy.Tier, projects, cancellationToken).ConfigureAwait(false);
            if (ProviderApproval.Required(projectOptions, tier, role, hasRepresentative))
            {
                var pending = new PendingMembership(project, request.User, role, time.GetUtcNow(), caller.Name);
                var proposed = await projects.ProposeMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.proposed", request.User, project,
                    ("role", role.ToString()), ("tier", tier.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("waitingFor", hasRepresentative ? "DatasetProviderRepresentative" : "a first DatasetProviderRepresentative")), cancellationToken).ConfigureAwait(false);
                if (!proposed)
                {
                    pending = await projects.GetPendingMembershipAsync(project, request.User, role, cancellationToken).ConfigureAwait(false) ?? pending;
                }
                return ManagementJson.Ok(PendingMembershipView.Of(pending, hasRepresentative), StatusCodes.Status202Accepted);
            }
        }
        var added = await users.AssignRoleAsync(request.User, role, project,
            AuditRecord.Of(caller.Name, "project.member.added", request.User, project, ("role", role.ToString())), cancellationToken).ConfigureAwait(false);
        var assignment = (await users.GetRolesAsync(request.User, cancellationToken).ConfigureAwait(false)).First(a => a.Project == project && a.Role == role);
        return ManagementJson.Ok(RoleAssignmentView.Of(assignment), added ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> DecidePendingAsync(string project, string user, string role, bool approve, HttpContext http, IProjectStore projects,
        IUserStore users, IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        if (!Names.IsUserName(user))
        {
            return ManagementJson.Invalid("user", Names.UserRule);
        }
        if (!Roles.TryParse(role, out var parsed) || parsed.IsGlobal())
        {
            return ManagementJson.Invalid("role", "A project role.");
        }
        var (request, problem) = await ManagementJson.ReadDecisionAsync(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        var caller = Caller.From(http.User)!;
        if (!caller.Has(project, Role.DatasetProviderRepresentative))
        {
            return Forbidden($"Only a Dataset Provider Representative of {project} approves or rejects its new members and Referees.");
        }
        var pending = await projects.GetPendingMembershipAsync(project, user, parsed, cancellationToken).ConfigureAwait(false);
        if (pending is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Nothing pending", detail: $"No nomination of {user} as {parsed} in {project} is waiting for approval.");
        }
        if (ProviderApproval.Refusal(pending, caller) is { } refusal)
        {
            return Forbidden(refusal);
        }
        var details = new (string, string?)[] { ("role", parsed.ToString()), ("proposedBy", pending.ProposedBy), ("reason", request.Reason) };
        if (!approve)
        {
            return await projects.RemovePendingMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.rejected", user, project, details), cancellationToken).ConfigureAwait(false)
                ? Results.NoContent()
                : Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already decided", detail: $"The nomination of {user} as {parsed} in {project} was decided meanwhile.");
        }
        // What made the nomination valid must still hold now (fail closed): an active user, and a Referee still in the college.
        if (await users.GetUserAsync(user, cancellationToken).ConfigureAwait(false) is not { Disabled: false })
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not an active user", detail: $"{user} is no longer an active user; reject the nomination instead.");
        }
        if (parsed == Role.Referee && !(await users.GetRolesAsync(user, cancellationToken).ConfigureAwait(false)).Any(a => a.Role == Role.CollegeReferee && a.Project is null))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not in the Referee college",
                detail: $"{user} is no longer a member of the Referee college; reject the nomination instead.");
        }
        if (!await projects.ApproveMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.approved", user, project, details), cancellationToken).ConfigureAwait(false))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already decided", detail: $"The nomination of {user} as {parsed} in {project} was decided meanwhile.");
        }
        var assignment = (await users.GetRolesAsync(user, cancellationToken).ConfigureAwait(false)).First(a => a.Project == project && a.Role == parsed);
        return ManagementJson.Ok(RoleAssignmentView.Of(assignment));
    }

    private static async Task<IResult> RemoveMemberAsync(string project, string user, string role, HttpContext http, IProjectStore projects, IUserStore users, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        var appointable = AppointableBy(caller, project);
        if (appointable.Count == 0)
        {
            return Forbidden($"Only a Programme Manager or the Project Manager of {project} changes its members.");
        }
        if (!Names.IsUserName(user))
        {
            return ManagementJson.Invalid("user", Names.UserRule);
        }
        if (!Roles.TryParse(role, out var parsed) || parsed.IsGlobal())
        {
            return ManagementJson.Invalid("role", "A project role.");
        }
        if (!appointable.Contains(parsed))
        {
            return Forbidden($"You may take away these roles in {project}: {string.Join(", ", appointable)}.");
        }
        var removed = await users.RemoveRoleAsync(user, parsed, project,
            AuditRecord.Of(caller.Name, "project.member.removed", user, project, ("role", parsed.ToString())), cancellationToken).ConfigureAwait(false);
        if (!removed && await projects.GetPendingMembershipAsync(project, user, parsed, cancellationToken).ConfigureAwait(false) is { } pending)
        {
            removed = await projects.RemovePendingMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.withdrawn", user, project,
                ("role", parsed.ToString()), ("proposedBy", pending.ProposedBy)), cancellationToken).ConfigureAwait(false);
        }
        return removed
            ? Results.NoContent()
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such member", detail: $"{user} is not {parsed} in {project}.");
    }

    private static async Task<IResult> CreateWorkPackageAsync(string project, HttpContext http, IProjectStore projects, TimeProvider time,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        if (!caller.Has(project, Role.ProjectManager) && !caller.Has(project, Role.Investigator))
        {
            return Forbidden($"Only the Project Manager or an Investigator of {project} creates its work packages.");
        }
        var (request, problem) = await ManagementJson.ReadAsync<WorkPackageRequest>(http.Request, auth.Value.MaxRequestBodyBytes, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return problem!;
        }
        if (InvalidNameOrTitle(request.Name, request.Title) is { } invalid)
        {
            return invalid;
        }
        var wp = new WorkPackageRecord(project, request.Name, request.Title, time.GetUtcNow(), caller.Name);
        if (!await projects.CreateWorkPackageAsync(wp, AuditRecord.Of(caller.Name, "workpackage.created", $"{project}/{request.Name}", project, ("title", request.Title)), cancellationToken).ConfigureAwait(false))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Work package exists", detail: $"{project} has a work package {request.Name}.");
        }
        return ManagementJson.Ok((await WorkPackageAsync(project, request.Name, projects, cancellationToken).ConfigureAwait(false))!, StatusCodes.Status201Created);
    }

    private static async Task<IResult> ClassifyAsync(string project, string workPackage, HttpContext http, IProjectStore projects, TimeProvider time,
        IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var (record, notVisible) = await VisibleAsync(project, http, projects, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return notVisible!;
        }
        var caller = Caller.From(http.User)!;
        var held = WorkPackageClassification.Classifiers.Where(r => caller.Has(project, r)).ToList();
        if (held.Count == 0)
        {
            return Forbidden($"Only the Investigators, Dataset Provider Representatives and Referees of {project} classify its work packages.");
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
        var errors = new Dictionary<string, string[]>();
        if (request.Tier is < 0 or > 4) { errors["tier"] = ["A tier is 0 to 4."]; }
        if (!Names.IsText(request.Reason)) { errors["reason"] = [Names.TextRule]; }
        Role role = default;
        if (request.Role is not null && (!Roles.TryParse(request.Role, out role) || !WorkPackageClassification.IsClassifier(role)))
        {
            errors["role"] = ["Investigator, DatasetProviderRepresentative or Referee."];
        }
        else if (request.Role is null && held.Count > 1)
        {
            errors["role"] = [$"You hold several classifier roles in {project} ({string.Join(", ", held)}): say which one you classify in."];
        }
        else if (request.Role is null)
        {
            role = held[0];
        }
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        if (!held.Contains(role))
        {
            return Forbidden($"You are not {role} in {project}.");
        }
        var existing = await projects.GetClassificationsAsync(project, workPackage, cancellationToken).ConfigureAwait(false);
        if (existing.FirstOrDefault(c => c.Classifier == caller.Name && c.Role != role) is { } other)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already a classifier",
                detail: $"You classified {workPackage} as {other.Role}; one person classifies a work package in one role only.");
        }
        var classification = new Classification(caller.Name, role, request.Tier, request.Reason, time.GetUtcNow());
        var outcome = WorkPackageClassification.Decide([.. existing.Where(c => !(c.Classifier == caller.Name && c.Role == role)), classification]);
        await projects.RecordClassificationAsync(project, workPackage, classification, AuditRecord.Of(caller.Name, "workpackage.classified", $"{project}/{workPackage}", project,
            ("role", role.ToString()), ("tier", request.Tier.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("reason", request.Reason),
            ("outcome", outcome.State.ToString()), ("agreedTier", outcome.AgreedTier?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("highestProposedTier", outcome.HighestProposedTier?.ToString(System.Globalization.CultureInfo.InvariantCulture))), cancellationToken).ConfigureAwait(false);
        return ManagementJson.Ok((await WorkPackageAsync(project, workPackage, projects, cancellationToken).ConfigureAwait(false))!);
    }
}
