using SafeHaven.Airlock.Submissions;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Reviews;

/// <summary>One line of the sign-off table: from <see cref="FromTier"/> up (until a later line), these roles must approve.</summary>
public sealed record SignOffRule(SubmissionKind Kind, int FromTier, IReadOnlyList<Role> Required);

/// <summary>
/// Who signs off what, per submission kind and tier, as data. Software ingress: nobody at Tier 0–1 (installed
/// directly), the Investigator at Tier 2, Investigator and Referee at Tier 3+. Data ingress: the Investigator
/// authorises the mount (plus a Referee at Tier 3+); the Dataset Provider Representative additionally confirms the
/// SHA-256 (<see cref="DepositorConfirmsHash"/>). Egress: the Investigator at Tier 0–1; from Tier 2 the Investigator,
/// a Referee and the Dataset Provider Representative (the union of the design's tier table and the rule).
/// </summary>
public static class SignOffRules
{
    public static readonly IReadOnlyList<SignOffRule> Table =
    [
        new(SubmissionKind.SoftwareIngress, 0, []),
        new(SubmissionKind.SoftwareIngress, 2, [Role.Investigator]),
        new(SubmissionKind.SoftwareIngress, 3, [Role.Investigator, Role.Referee]),
        new(SubmissionKind.DataIngress, 0, [Role.Investigator]),
        new(SubmissionKind.DataIngress, 3, [Role.Investigator, Role.Referee]),
        new(SubmissionKind.Egress, 0, [Role.Investigator]),
        new(SubmissionKind.Egress, 2, [Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative]),
    ];

    /// <summary>Kinds where the depositor must confirm the appliance's SHA-256 before approval.</summary>
    public static readonly IReadOnlySet<SubmissionKind> DepositorConfirmsHash = new HashSet<SubmissionKind> { SubmissionKind.DataIngress };

    /// <summary>Who may open a submission of each kind (a role in the work package's project).</summary>
    public static readonly IReadOnlyDictionary<SubmissionKind, IReadOnlyList<Role>> Openers = new Dictionary<SubmissionKind, IReadOnlyList<Role>>
    {
        [SubmissionKind.DataIngress] = [Role.ProjectManager],
        [SubmissionKind.SoftwareIngress] = [Role.ProjectManager, Role.Investigator, Role.Researcher],
        [SubmissionKind.Egress] = [Role.Investigator, Role.Researcher],
    };

    /// <summary>Who may release an approved egress submission, or revoke an approved one.</summary>
    public static readonly IReadOnlyList<Role> Releasers = [Role.Investigator, Role.ProjectManager];

    public static IReadOnlyList<Role> RequiredFor(SubmissionKind kind, int tier)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tier);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tier, 4);
        return Table.Where(r => r.Kind == kind && r.FromTier <= tier).MaxBy(r => r.FromTier)!.Required;
    }
}
