using System.Globalization;
using Microsoft.AspNetCore.Http;
using SafeHaven.Core.Tiers;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Projects;

/// <summary>
/// What a project action came to: the value on success, or a refusal in the API's terms (an HTTP status, a title and
/// a detail in plain words, or field errors for a 400). The API turns it into problem details, the web pages into a
/// message; both get the same words.
/// </summary>
public sealed record ProjectOutcome<T>(int Status, T? Value, string? Title = null, string? Detail = null, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public bool Succeeded => Status < 400;

    /// <summary>The refusal in one sentence or more (field errors joined).</summary>
    public string Message => Errors is { Count: > 0 }
        ? string.Join(" ", Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))
        : Detail ?? Title ?? "";

    public ProjectOutcome<TOther> As<TOther>() => new(Status, default, Title, Detail, Errors);

    public static ProjectOutcome<T> Ok(T value, int status = StatusCodes.Status200OK) => new(status, value);

    public static ProjectOutcome<T> Forbidden(string detail) => new(StatusCodes.Status403Forbidden, default, "Not allowed", detail);

    public static ProjectOutcome<T> Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProjectOutcome<T> Invalid(IReadOnlyDictionary<string, string[]> errors) => new(StatusCodes.Status400BadRequest, default, "Invalid request", null, errors);

    public static ProjectOutcome<T> Problem(int status, string title, string detail) => new(status, default, title, detail);
}

/// <summary>A role given (<see cref="Granted"/>, <see cref="Created"/> when new) or proposed and waiting (<see cref="Pending"/>).</summary>
public sealed record MemberAdded(RoleAssignment? Granted, bool Created, PendingMembership? Pending, bool ProjectHasRepresentative);

/// <summary>
/// The project rules, in one place for the management API (<c>/api/projects</c>) and the web pages: who sees a
/// project, who gives and takes away which role, counter-approval by a Dataset Provider Representative
/// (<see cref="ProviderApproval"/>), and recording a classification (<see cref="WorkPackageClassification"/>,
/// optionally with the <see cref="ClassificationFlowchart"/> answers that led to it). Every change is audited by the
/// store together with the change.
/// </summary>
public sealed class ProjectActions(IProjectStore projects, IUserStore users, TierPolicyProvider policy, ProjectOptions options, TimeProvider time)
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

    /// <summary>The project roles a caller may classify in.</summary>
    public static IReadOnlyList<Role> ClassifierRoles(Caller caller, string project) =>
        WorkPackageClassification.Classifiers.Where(r => caller.Has(project, r)).ToList();

    public static bool MayCreateWorkPackage(Caller caller, string project) =>
        caller.Has(project, Role.ProjectManager) || caller.Has(project, Role.Investigator);

    public static string NotMemberManager(string project) => $"Only a Programme Manager or the Project Manager of {project} changes its members.";

    public static string NotClassifier(string project) => $"Only the Investigators, Dataset Provider Representatives and Referees of {project} classify its work packages.";

    public static string NotWorkPackageCreator(string project) => $"Only the Project Manager or an Investigator of {project} creates its work packages.";

    /// <summary>What is wrong with a project or work-package name and title (empty when both are fine).</summary>
    public static Dictionary<string, string[]> NameAndTitleErrors(string name, string title)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Names.IsProjectName(name)) { errors["name"] = [Names.ProjectRule]; }
        if (!Names.IsText(title, 200)) { errors["title"] = ["1 to 200 characters, no control characters."]; }
        return errors;
    }

    public static bool HasRepresentative(IEnumerable<RoleAssignment> members) => members.Any(a => a.Role == Role.DatasetProviderRepresentative);

    /// <summary>The project when the caller may see it; otherwise 404 (or 400 for a malformed name), as if absent.</summary>
    public async Task<ProjectOutcome<ProjectRecord>> VisibleAsync(Caller caller, string project, CancellationToken cancellationToken)
    {
        if (!Names.IsProjectName(project))
        {
            return ProjectOutcome<ProjectRecord>.Invalid("project", Names.ProjectRule);
        }
        var record = caller.CanSee(project) ? await projects.GetProjectAsync(project, cancellationToken).ConfigureAwait(false) : null;
        return record is null
            ? ProjectOutcome<ProjectRecord>.Problem(StatusCodes.Status404NotFound, "No such project", $"There is no project {project} that you can see.")
            : ProjectOutcome<ProjectRecord>.Ok(record);
    }

    /// <summary>
    /// Gives <paramref name="user"/> a role in the project, or proposes it (pending) where the project's tier requires a
    /// Dataset Provider Representative's counter-approval. The project must be visible to the caller (see <see cref="VisibleAsync"/>).
    /// </summary>
    public async Task<ProjectOutcome<MemberAdded>> AddMemberAsync(Caller caller, string project, string user, string roleText, CancellationToken cancellationToken)
    {
        var appointable = AppointableBy(caller, project);
        if (appointable.Count == 0)
        {
            return ProjectOutcome<MemberAdded>.Forbidden($"Only a Programme Manager or the Project Manager of {project} adds people to it.");
        }
        var errors = new Dictionary<string, string[]>();
        if (!Names.IsUserName(user)) { errors["user"] = [Names.UserRule]; }
        if (!Roles.TryParse(roleText, out var role) || role.IsGlobal())
        {
            errors["role"] = [$"A project role: {string.Join(", ", Roles.All.Where(r => !r.IsGlobal()))}."];
        }
        if (errors.Count > 0)
        {
            return ProjectOutcome<MemberAdded>.Invalid(errors);
        }
        if (!appointable.Contains(role))
        {
            return ProjectOutcome<MemberAdded>.Forbidden($"You may give these roles in {project}: {string.Join(", ", appointable)}.");
        }
        if (await users.GetUserAsync(user, cancellationToken).ConfigureAwait(false) is not { Disabled: false })
        {
            return ProjectOutcome<MemberAdded>.Invalid("user", $"There is no active user {user}: people are added with 'safehaven users add' or by signing in through the identity provider.");
        }
        if (role == Role.Referee)
        {
            if (user == caller.Name)
            {
                return ProjectOutcome<MemberAdded>.Forbidden($"A Project Manager never appoints themself Referee of {project}: ask another member of the Referee college.");
            }
            if (!await InCollegeAsync(user, cancellationToken).ConfigureAwait(false))
            {
                return ProjectOutcome<MemberAdded>.Problem(StatusCodes.Status409Conflict, "Not in the Referee college",
                    $"{user} is not a member of the Referee college; a Programme Manager appoints college members (POST /api/college/referees).");
            }
        }
        var existing = await users.ListProjectRolesAsync(project, cancellationToken).ConfigureAwait(false);
        var hasRepresentative = HasRepresentative(existing);
        if (!existing.Any(a => a.User == user && a.Role == role))
        {
            var tier = await ProviderApproval.ProjectTierAsync(project, policy.Current.Policy.Tier, projects, cancellationToken).ConfigureAwait(false);
            if (ProviderApproval.Required(options, tier, role, hasRepresentative))
            {
                var pending = new PendingMembership(project, user, role, time.GetUtcNow(), caller.Name);
                var proposed = await projects.ProposeMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.proposed", user, project,
                    ("role", role.ToString()), ("tier", tier.ToString(CultureInfo.InvariantCulture)),
                    ("waitingFor", hasRepresentative ? "DatasetProviderRepresentative" : "a first DatasetProviderRepresentative")), cancellationToken).ConfigureAwait(false);
                if (!proposed)
                {
                    pending = await projects.GetPendingMembershipAsync(project, user, role, cancellationToken).ConfigureAwait(false) ?? pending;
                }
                return ProjectOutcome<MemberAdded>.Ok(new MemberAdded(null, false, pending, hasRepresentative), StatusCodes.Status202Accepted);
            }
        }
        var added = await users.AssignRoleAsync(user, role, project,
            AuditRecord.Of(caller.Name, "project.member.added", user, project, ("role", role.ToString())), cancellationToken).ConfigureAwait(false);
        var assignment = (await users.GetRolesAsync(user, cancellationToken).ConfigureAwait(false)).First(a => a.Project == project && a.Role == role);
        return ProjectOutcome<MemberAdded>.Ok(new MemberAdded(assignment, added, null, hasRepresentative), added ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>Takes a role (or a pending nomination) away: whoever may give the role. The project must be visible to the caller.</summary>
    public async Task<ProjectOutcome<bool>> RemoveMemberAsync(Caller caller, string project, string user, string roleText, CancellationToken cancellationToken)
    {
        var appointable = AppointableBy(caller, project);
        if (appointable.Count == 0)
        {
            return ProjectOutcome<bool>.Forbidden(NotMemberManager(project));
        }
        if (!Names.IsUserName(user))
        {
            return ProjectOutcome<bool>.Invalid("user", Names.UserRule);
        }
        if (!Roles.TryParse(roleText, out var parsed) || parsed.IsGlobal())
        {
            return ProjectOutcome<bool>.Invalid("role", "A project role.");
        }
        if (!appointable.Contains(parsed))
        {
            return ProjectOutcome<bool>.Forbidden($"You may take away these roles in {project}: {string.Join(", ", appointable)}.");
        }
        var removed = await users.RemoveRoleAsync(user, parsed, project,
            AuditRecord.Of(caller.Name, "project.member.removed", user, project, ("role", parsed.ToString())), cancellationToken).ConfigureAwait(false);
        if (!removed && await projects.GetPendingMembershipAsync(project, user, parsed, cancellationToken).ConfigureAwait(false) is { } pending)
        {
            removed = await projects.RemovePendingMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.withdrawn", user, project,
                ("role", parsed.ToString()), ("proposedBy", pending.ProposedBy)), cancellationToken).ConfigureAwait(false);
        }
        return removed
            ? ProjectOutcome<bool>.Ok(true, StatusCodes.Status204NoContent)
            : ProjectOutcome<bool>.Problem(StatusCodes.Status404NotFound, "No such member", $"{user} is not {parsed} in {project}.");
    }

    /// <summary>Creates a work package (the project's Project Manager or an Investigator). The project must be visible to the caller.</summary>
    public async Task<ProjectOutcome<WorkPackageRecord>> CreateWorkPackageAsync(Caller caller, string project, string name, string title, CancellationToken cancellationToken)
    {
        if (!MayCreateWorkPackage(caller, project))
        {
            return ProjectOutcome<WorkPackageRecord>.Forbidden(NotWorkPackageCreator(project));
        }
        if (NameAndTitleErrors(name, title) is { Count: > 0 } errors)
        {
            return ProjectOutcome<WorkPackageRecord>.Invalid(errors);
        }
        var wp = new WorkPackageRecord(project, name, title, time.GetUtcNow(), caller.Name);
        return await projects.CreateWorkPackageAsync(wp, AuditRecord.Of(caller.Name, "workpackage.created", $"{project}/{name}", project, ("title", title)), cancellationToken).ConfigureAwait(false)
            ? ProjectOutcome<WorkPackageRecord>.Ok(wp, StatusCodes.Status201Created)
            : ProjectOutcome<WorkPackageRecord>.Problem(StatusCodes.Status409Conflict, "Work package exists", $"{project} has a work package {name}.");
    }

    /// <summary>
    /// A Dataset Provider Representative's decision on a pending membership: approved (the role is granted; the value is
    /// the assignment) or rejected (removed; the value is null). The project must be visible to the caller.
    /// </summary>
    public async Task<ProjectOutcome<RoleAssignment>> DecidePendingAsync(Caller caller, string project, string user, string roleText, bool approve, string? reason,
        CancellationToken cancellationToken)
    {
        if (!Names.IsUserName(user))
        {
            return ProjectOutcome<RoleAssignment>.Invalid("user", Names.UserRule);
        }
        if (!Roles.TryParse(roleText, out var parsed) || parsed.IsGlobal())
        {
            return ProjectOutcome<RoleAssignment>.Invalid("role", "A project role.");
        }
        if (!Names.IsText(reason))
        {
            return ProjectOutcome<RoleAssignment>.Invalid("reason", Names.TextRule);
        }
        if (!caller.Has(project, Role.DatasetProviderRepresentative))
        {
            return ProjectOutcome<RoleAssignment>.Forbidden($"Only a Dataset Provider Representative of {project} approves or rejects its new members and Referees.");
        }
        var pending = await projects.GetPendingMembershipAsync(project, user, parsed, cancellationToken).ConfigureAwait(false);
        if (pending is null)
        {
            return ProjectOutcome<RoleAssignment>.Problem(StatusCodes.Status404NotFound, "Nothing pending", $"No nomination of {user} as {parsed} in {project} is waiting for approval.");
        }
        if (ProviderApproval.Refusal(pending, caller) is { } refusal)
        {
            return ProjectOutcome<RoleAssignment>.Forbidden(refusal);
        }
        var details = new (string, string?)[] { ("role", parsed.ToString()), ("proposedBy", pending.ProposedBy), ("reason", reason) };
        var decidedMeanwhile = ProjectOutcome<RoleAssignment>.Problem(StatusCodes.Status409Conflict, "Already decided",
            $"The nomination of {user} as {parsed} in {project} was decided meanwhile.");
        if (!approve)
        {
            return await projects.RemovePendingMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.rejected", user, project, details), cancellationToken).ConfigureAwait(false)
                ? new ProjectOutcome<RoleAssignment>(StatusCodes.Status204NoContent, null)
                : decidedMeanwhile;
        }
        // What made the nomination valid must still hold now (fail closed): an active user, and a Referee still in the college.
        if (await users.GetUserAsync(user, cancellationToken).ConfigureAwait(false) is not { Disabled: false })
        {
            return ProjectOutcome<RoleAssignment>.Problem(StatusCodes.Status409Conflict, "Not an active user", $"{user} is no longer an active user; reject the nomination instead.");
        }
        if (parsed == Role.Referee && !await InCollegeAsync(user, cancellationToken).ConfigureAwait(false))
        {
            return ProjectOutcome<RoleAssignment>.Problem(StatusCodes.Status409Conflict, "Not in the Referee college",
                $"{user} is no longer a member of the Referee college; reject the nomination instead.");
        }
        if (!await projects.ApproveMembershipAsync(pending, AuditRecord.Of(caller.Name, "project.member.approved", user, project, details), cancellationToken).ConfigureAwait(false))
        {
            return decidedMeanwhile;
        }
        return ProjectOutcome<RoleAssignment>.Ok((await users.GetRolesAsync(user, cancellationToken).ConfigureAwait(false)).First(a => a.Project == project && a.Role == parsed));
    }

    /// <summary>
    /// Records the caller's classification of a work package (replacing their earlier one). With
    /// <paramref name="answers"/> (the flowchart's yes/no answers in the order asked) the tier must be the one the
    /// flowchart reaches, and the answers are stored with it. The project must be visible to the caller.
    /// </summary>
    public async Task<ProjectOutcome<ClassificationOutcome>> ClassifyAsync(Caller caller, string project, string workPackage, int tier, string reason, string? roleText,
        IReadOnlyList<string>? answers, CancellationToken cancellationToken)
    {
        var held = ClassifierRoles(caller, project);
        if (held.Count == 0)
        {
            return ProjectOutcome<ClassificationOutcome>.Forbidden(NotClassifier(project));
        }
        if (!Names.IsProjectName(workPackage) || await projects.GetWorkPackageAsync(project, workPackage, cancellationToken).ConfigureAwait(false) is null)
        {
            return ProjectOutcome<ClassificationOutcome>.Problem(StatusCodes.Status404NotFound, "No such work package", $"Project {project} has no work package {workPackage}.");
        }
        var errors = new Dictionary<string, string[]>();
        if (tier is < 0 or > 4) { errors["tier"] = ["A tier is 0 to 4."]; }
        if (!Names.IsText(reason)) { errors["reason"] = [Names.TextRule]; }
        Role role = default;
        if (roleText is not null && (!Roles.TryParse(roleText, out role) || !WorkPackageClassification.IsClassifier(role)))
        {
            errors["role"] = ["Investigator, DatasetProviderRepresentative or Referee."];
        }
        else if (roleText is null && held.Count > 1)
        {
            errors["role"] = [$"You hold several classifier roles in {project} ({string.Join(", ", held)}): say which one you classify in."];
        }
        else if (roleText is null)
        {
            role = held[0];
        }
        FlowchartWalk? walk = null;
        if (answers is not null)
        {
            walk = ClassificationFlowchart.Parse(answers, out var problem);
            if (walk is null)
            {
                errors["answers"] = [problem!];
            }
            else if (!walk.Finished)
            {
                errors["answers"] = [$"The answers stop before the flowchart reaches a tier: the next question is \"{walk.Next!.Text}\"."];
            }
            else if (walk.Tier != tier)
            {
                errors["tier"] = [$"The flowchart answers lead to tier {walk.Tier}, not {tier}."];
            }
        }
        if (errors.Count > 0)
        {
            return ProjectOutcome<ClassificationOutcome>.Invalid(errors);
        }
        if (!held.Contains(role))
        {
            return ProjectOutcome<ClassificationOutcome>.Forbidden($"You are not {role} in {project}.");
        }
        var existing = await projects.GetClassificationsAsync(project, workPackage, cancellationToken).ConfigureAwait(false);
        if (existing.FirstOrDefault(c => c.Classifier == caller.Name && c.Role != role) is { } other)
        {
            return ProjectOutcome<ClassificationOutcome>.Problem(StatusCodes.Status409Conflict, "Already a classifier",
                $"You classified {workPackage} as {other.Role}; one person classifies a work package in one role only.");
        }
        var classification = new Classification(caller.Name, role, tier, reason, time.GetUtcNow(), walk?.Encoded);
        var outcome = WorkPackageClassification.Decide([.. existing.Where(c => !(c.Classifier == caller.Name && c.Role == role)), classification]);
        await projects.RecordClassificationAsync(project, workPackage, classification, AuditRecord.Of(caller.Name, "workpackage.classified", $"{project}/{workPackage}", project,
            ("role", role.ToString()), ("tier", tier.ToString(CultureInfo.InvariantCulture)), ("reason", reason),
            ("answers", walk is null ? null : string.Join(',', walk.Encoded)),
            ("outcome", outcome.State.ToString()), ("agreedTier", outcome.AgreedTier?.ToString(CultureInfo.InvariantCulture)),
            ("highestProposedTier", outcome.HighestProposedTier?.ToString(CultureInfo.InvariantCulture))), cancellationToken).ConfigureAwait(false);
        return ProjectOutcome<ClassificationOutcome>.Ok(outcome);
    }

    private async Task<bool> InCollegeAsync(string user, CancellationToken cancellationToken) =>
        (await users.GetRolesAsync(user, cancellationToken).ConfigureAwait(false)).Any(a => a.Role == Role.CollegeReferee && a.Project is null);
}
