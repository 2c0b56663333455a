using System.Globalization;
using Microsoft.Extensions.Configuration;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Projects;

/// <summary>A proposed project role that grants nothing until a Dataset Provider Representative of the project approves it.</summary>
public sealed record PendingMembership(string Project, string User, Role Role, DateTimeOffset ProposedAt, string ProposedBy);

/// <summary>
/// The <c>SafeHaven:Projects</c> section. <see cref="RequireProviderApproval"/>: the project tiers at which a new
/// member or Referee needs the counter-approval of a Dataset Provider Representative of the project (paper section
/// 11.6); default tiers 3 and 4.
/// </summary>
public sealed class ProjectOptions
{
    public const string Section = "SafeHaven:Projects";

    public static readonly IReadOnlyList<int> DefaultApprovalTiers = [3, 4];

    public IReadOnlySet<int> RequireProviderApproval { get; init; } = DefaultApprovalTiers.ToHashSet();

    /// <summary>
    /// Reads the section. <c>RequireProviderApproval</c> is a list (<c>RequireProviderApproval:0 = 3</c>, or a JSON
    /// array) or one value: <c>"3,4"</c>, or <c>"none"</c> to turn counter-approval off. Absent: tiers 3 and 4.
    /// Anything else is a configuration error (see <see cref="Problems"/>).
    /// </summary>
    public static ProjectOptions From(IConfiguration configuration) =>
        new() { RequireProviderApproval = Parse(configuration.GetSection(Section).GetSection(nameof(RequireProviderApproval)), out _) };

    /// <summary>Problems with the section, in the operator's terms.</summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        Parse(configuration.GetSection(Section).GetSection(nameof(RequireProviderApproval)), out var problem);
        return problem is null ? [] : [problem];
    }

    private static HashSet<int> Parse(IConfigurationSection section, out string? problem)
    {
        problem = null;
        var children = section.GetChildren().ToList();
        IEnumerable<string> values;
        if (children.Count > 0)
        {
            values = children.Select(c => c.Value ?? "");
        }
        else if (section.Value is null)
        {
            return DefaultApprovalTiers.ToHashSet();
        }
        else if (section.Value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) || section.Value.Trim().Length == 0)
        {
            return [];
        }
        else
        {
            values = section.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        var tiers = new HashSet<int>();
        foreach (var value in values)
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var tier) && tier is >= 0 and <= 4)
            {
                tiers.Add(tier);
            }
            else
            {
                problem = $"{Section}:{nameof(RequireProviderApproval)}: '{value}' is not a tier (0 to 4); give a list of tiers, or 'none'";
            }
        }
        // Fail closed: a list that cannot be read keeps the default rather than turning the rule off.
        return problem is null ? tiers : DefaultApprovalTiers.ToHashSet();
    }
}

/// <summary>
/// Dataset Provider Representative counter-approval (paper section 11.6) as data. At a tier that requires it, a new
/// project role is first a <see cref="PendingMembership"/>; a Dataset Provider Representative of the project who
/// neither proposed it nor is its nominee approves (the role is then granted) or rejects it (it is removed). Removing
/// a role never waits. The one exception is how a project gets its first representative: while no Dataset Provider
/// Representative is recorded for the project, appointing a Project Manager or a Dataset Provider Representative
/// takes effect at once, as without the rule; every other nomination waits, and says why.
/// </summary>
public static class ProviderApproval
{
    /// <summary>
    /// The project's tier for this rule: the higher of the appliance's tier in force and the highest tier proposed for
    /// any of the project's work packages (a disagreement counts at its highest proposal: the safe assumption).
    /// </summary>
    public static async Task<int> ProjectTierAsync(string project, int applianceTier, IProjectStore projects, CancellationToken cancellationToken)
    {
        var tier = applianceTier;
        foreach (var workPackage in await projects.ListWorkPackagesAsync(project, cancellationToken).ConfigureAwait(false))
        {
            var outcome = WorkPackageClassification.Decide(await projects.GetClassificationsAsync(project, workPackage.Name, cancellationToken).ConfigureAwait(false));
            tier = Math.Max(tier, outcome.HighestProposedTier ?? tier);
        }
        return tier;
    }

    /// <summary>Whether appointing <paramref name="role"/> waits for counter-approval.</summary>
    public static bool Required(ProjectOptions options, int projectTier, Role role, bool projectHasRepresentative) =>
        options.RequireProviderApproval.Contains(projectTier)
        && (projectHasRepresentative || role is not (Role.ProjectManager or Role.DatasetProviderRepresentative));

    /// <summary>Why a pending membership is waiting, in plain words.</summary>
    public static string Waiting(PendingMembership pending, bool projectHasRepresentative) => projectHasRepresentative
        ? $"{pending.User} as {pending.Role} in {pending.Project} waits for a Dataset Provider Representative of {pending.Project} other than {pending.ProposedBy} and {pending.User} to approve it; until then it grants nothing."
        : $"{pending.User} as {pending.Role} in {pending.Project} cannot proceed: {pending.Project} has no Dataset Provider Representative yet, and at its tier a representative must counter-approve new members and Referees. The Project Manager appoints the first representative (POST /api/projects/{pending.Project}/members with role DatasetProviderRepresentative).";

    /// <summary>Null when <paramref name="approver"/> may decide <paramref name="pending"/>; otherwise why not.</summary>
    public static string? Refusal(PendingMembership pending, Caller approver)
    {
        if (!approver.Has(pending.Project, Role.DatasetProviderRepresentative))
        {
            return $"Only a Dataset Provider Representative of {pending.Project} approves or rejects its new members and Referees.";
        }
        if (approver.Name == pending.User)
        {
            return $"You are the nominee: {pending.User} never approves or rejects their own membership of {pending.Project}.";
        }
        if (approver.Name == pending.ProposedBy)
        {
            return $"You proposed {pending.User} as {pending.Role}: another Dataset Provider Representative of {pending.Project} must decide (one person never fills two sign-offs).";
        }
        return null;
    }
}
