using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Airlock;

/// <summary>
/// One submission for its reviewers and its project: files with size and SHA-256 (for those the workflow lets read
/// them), the inspection's verdict in words, the egress script, the sign-offs required and recorded, the approve and
/// reject forms (a written reason is required; every refusal of the workflow is shown as a sentence), and the history
/// of every state change from the audit log.
/// </summary>
public sealed class SubmissionModel(AirlockWorkflow workflow, IAuditLog audit) : SafeHavenPage
{
    public SubmissionDetails Details { get; private set; } = null!;

    public Submission Submission => Details.Submission;

    public IReadOnlyList<string> Missing { get; private set; } = [];

    public IReadOnlyList<Role> OpenRoles { get; private set; } = [];

    public IReadOnlyList<AuditEntry> History { get; private set; } = [];

    public string? Inspection { get; private set; }

    /// <summary>The refusal of the last decision, shown above the form (also a form error for a missing reason).</summary>
    public string? Refused { get; private set; }

    [TempData]
    public string? Recorded { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostReviewAsync(string id, string? decision, CancellationToken cancellationToken)
    {
        if (!SubmissionStates.TryParse<ReviewDecision>(decision, out var verdict))
        {
            return BadRequest();
        }
        if (string.IsNullOrWhiteSpace(Reason))
        {
            ModelState.AddModelError(nameof(Reason), "Write the reason for your decision: every approval and rejection carries one.");
            return await RefusedAsync(id, StatusCodes.Status400BadRequest, cancellationToken);
        }
        try
        {
            var after = await workflow.ReviewAsync(Caller, id, verdict, Reason.Trim(), cancellationToken);
            Recorded = $"Your {(verdict == ReviewDecision.Approve ? "approval" : "rejection")} is recorded. The submission is now: {AirlockWords.State(after.State)}.";
            return RedirectToPage(new { id });
        }
        catch (AirlockWorkflowException e) when (e.Error != AirlockError.NotFound)
        {
            Refused = AirlockWords.Refusal(e);
            return await RefusedAsync(id, AirlockErrors.StatusOf(e.Error), cancellationToken);
        }
    }

    private async Task<IActionResult> RefusedAsync(string id, int status, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        Response.StatusCode = status;
        return Page();
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            Details = await workflow.DetailsAsync(Caller, id, cancellationToken);
        }
        catch (AirlockWorkflowException e) when (e.Error == AirlockError.NotFound)
        {
            return false;
        }
        Missing = Submission.State == SubmissionState.InReview ? await workflow.MissingForApprovalAsync(Submission, cancellationToken) : [];
        OpenRoles = AirlockWords.OpenRolesFor(Caller, Submission, Details.SignOffs);
        History = await audit.QueryAsync(new AuditFilter(Target: $"airlock/{Submission.Id}", Limit: 1000), cancellationToken);
        Inspection = AirlockWords.Inspection(History);
        return true;
    }

    /// <summary>Where a file of this submission is read in the browser.</summary>
    public string FileUrl(string path) => $"/airlock/submissions/{Submission.Id}/files?path={Uri.EscapeDataString(path)}";
}
