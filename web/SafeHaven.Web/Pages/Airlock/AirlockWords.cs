using SafeHaven.Airlock.Reviews;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Airlock;

/// <summary>
/// The airlock's states, kinds and refusals as a reviewer or depositor reads them: the pages show words, not wire
/// names, so the same sentence appears wherever a submission is shown.
/// </summary>
public static class AirlockWords
{
    public static string Kind(SubmissionKind kind) => kind switch
    {
        SubmissionKind.SoftwareIngress => "Software ingress",
        SubmissionKind.DataIngress => "Data ingress",
        SubmissionKind.Egress => "Egress (outputs)",
        _ => kind.ToString(),
    };

    public static string State(SubmissionState state) => state switch
    {
        SubmissionState.Draft => "Taking deposits",
        SubmissionState.Submitted => "Waiting for inspection",
        SubmissionState.Scanning => "Being inspected",
        SubmissionState.InReview => "In review",
        SubmissionState.Approved => "Approved",
        SubmissionState.Rejected => "Rejected",
        SubmissionState.Blocked => "Blocked by inspection",
        SubmissionState.Cancelled => "Cancelled",
        SubmissionState.Failed => "Inspection could not finish",
        SubmissionState.Revoked => "Revoked",
        SubmissionState.Expired => "Expired unused",
        _ => state.ToString(),
    };

    /// <summary>The CSS class of a state: good news, bad news, or neither.</summary>
    public static string StateClass(SubmissionState state) => state switch
    {
        SubmissionState.Approved => "ok",
        SubmissionState.Rejected or SubmissionState.Blocked or SubmissionState.Failed or SubmissionState.Revoked => "bad",
        _ => "",
    };

    /// <summary>A refusal of the workflow as one sentence: its title (the API's problem title) and the workflow's reason.</summary>
    public static string Refusal(AirlockWorkflowException refusal) =>
        $"{AirlockErrors.Problems[refusal.Error].Title}: {refusal.Message}";

    public static string Roles(IEnumerable<Role> roles) => string.Join(", ", roles.Select(RoleNames.Describe));

    /// <summary>
    /// What the inspection found, in words, from the transition that ended it (the workflow keeps the verdict and its
    /// reasons in the submission's audit trail, not as a separate report).
    /// </summary>
    public static string? Inspection(IReadOnlyList<AuditEntry> history)
    {
        var verdict = history.LastOrDefault(e => e.Details.TryGetValue("trigger", out var t) && t is "scan_passed" or "scan_blocked" or "scan_failed");
        if (verdict is null)
        {
            return null;
        }
        var reason = verdict.Details.GetValueOrDefault("reason") ?? "";
        return verdict.Details["trigger"] switch
        {
            "scan_passed" => $"Clean: nothing was found ({reason}). Archives were listed, checked for hostile paths, links and bombs, and scanned.",
            "scan_blocked" => $"Blocked: {reason}.",
            _ => $"The inspection could not finish: {reason}. A Project Manager or Investigator can queue it again.",
        };
    }

    /// <summary>An audit entry of a submission as one line of its history.</summary>
    public static string Event(AuditEntry entry)
    {
        var action = entry.Action.StartsWith("airlock.", StringComparison.Ordinal) ? entry.Action["airlock.".Length..] : entry.Action;
        var what = action switch
        {
            "submission.opened" => "Opened",
            "review.approve" => $"Approved as {Role(entry)}",
            "review.reject" => $"Rejected as {Role(entry)}",
            "submission.hash-confirmed" => "The depositor confirmed the SHA-256 of every file",
            "submission.released" => "Released outside through a time-limited link",
            "submission.scan-resumed" => "Inspection resumed",
            _ when action.StartsWith("submission.", StringComparison.Ordinal) && SubmissionStates.TryParse<SubmissionState>(action["submission.".Length..], out var to)
                => $"Moved to: {State(to)}" + (entry.Details.GetValueOrDefault("from") is { } from && SubmissionStates.TryParse<SubmissionState>(from, out var was) ? $" (from {State(was)})" : ""),
            _ => action,
        };
        return entry.Details.GetValueOrDefault("reason") is { Length: > 0 } reason ? $"{what}: {reason}" : what;
    }

    private static string Role(AuditEntry entry) =>
        Enum.TryParse<Role>(entry.Details.GetValueOrDefault("role"), out var role) ? RoleNames.Describe(role) : entry.Details.GetValueOrDefault("role") ?? "?";

    /// <summary>Whether <paramref name="caller"/> may still record a sign-off: holds a required role nobody filled, has signed nothing, did not open or deposit it.</summary>
    public static IReadOnlyList<Role> OpenRolesFor(Caller caller, Submission submission, IReadOnlyList<SignOff> signOffs)
    {
        if (submission.State != SubmissionState.InReview || caller.Name == submission.CreatedBy || caller.Name == submission.Depositor
            || signOffs.Any(s => s.Reviewer == caller.Name))
        {
            return [];
        }
        return SignOffRules.RequiredFor(submission.Kind, submission.Tier)
            .Where(r => caller.Has(submission.Project, r) && !signOffs.Any(s => s.Role == r)).ToList();
    }
}
