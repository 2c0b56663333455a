using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Airlock.Reviews;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Airlock;

/// <summary>One line of the confirmation form: a received file and the depositor's own SHA-256 for it.</summary>
public sealed class HashLine
{
    public string Path { get; set; } = "";

    public string? Sha256 { get; set; }
}

/// <summary>
/// Data ingress: the signed-in depositor (the Dataset Provider Representative the submission names) confirms the
/// SHA-256 of every file they sent, by the workflow's <c>ConfirmHashAsync</c> (a mismatch blocks the submission and
/// alerts the managers). The page lists what the appliance received with its SHA-256, so the depositor compares it
/// with the hashes they computed on their side and enters theirs; the browser can compute them from the local files.
/// </summary>
[RequireRole(Role.DatasetProviderRepresentative)]
public sealed class ConfirmModel(AirlockWorkflow workflow, IVolumeStore volumes) : SafeHavenPage
{
    public Submission Submission { get; private set; } = null!;

    public IReadOnlyList<VolumeFile> Received { get; private set; } = [];

    [BindProperty]
    public List<HashLine> Files { get; set; } = [];

    public string? Refused { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (await LoadAsync(id, cancellationToken) is { } refusal)
        {
            return refusal;
        }
        Files = Received.Select(f => new HashLine { Path = f.Path }).ToList();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken cancellationToken)
    {
        if (await LoadAsync(id, cancellationToken) is { } refusal)
        {
            return refusal;
        }
        var missing = Received.Where(f => !Files.Any(l => l.Path == f.Path && !string.IsNullOrWhiteSpace(l.Sha256))).Select(f => f.Path).ToList();
        if (missing.Count > 0)
        {
            Refused = $"Enter your SHA-256 for every file (missing: {string.Join(", ", missing)}).";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        try
        {
            var after = await workflow.ConfirmHashAsync(Caller, id, Files.ToDictionary(l => l.Path, l => l.Sha256!.Trim(), StringComparer.Ordinal), cancellationToken);
            TempData["Recorded"] = $"Your SHA-256 confirmation is recorded. The submission is now: {AirlockWords.State(after.State)}.";
            return RedirectToPage("Submission", new { id });
        }
        catch (AirlockWorkflowException e) when (e.Error != AirlockError.NotFound)
        {
            Refused = AirlockWords.Refusal(e);
            Response.StatusCode = AirlockErrors.StatusOf(e.Error);
            await LoadAsync(id, cancellationToken);
            return Page();
        }
    }

    /// <summary>Null when the caller is this submission's depositor and it waits for the confirmation; otherwise the answer.</summary>
    private async Task<IActionResult?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            Submission = (await workflow.DetailsAsync(Caller, id, cancellationToken)).Submission;
        }
        catch (AirlockWorkflowException)
        {
            return NotFound();
        }
        if (!SignOffRules.DepositorConfirmsHash.Contains(Submission.Kind) || Submission.Depositor != Caller.Name
            || !Caller.Has(Submission.Project, Role.DatasetProviderRepresentative))
        {
            return Forbid(Identity.WebAuthentication.CookieScheme);
        }
        Received = (await volumes.GetManifestAsync(Submission.VolumeId, cancellationToken))?.Files ?? [];
        return null;
    }
}
