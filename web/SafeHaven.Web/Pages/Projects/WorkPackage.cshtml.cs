using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Web.Pages.Projects;

/// <summary>
/// One work package: where its classification stands (consensus or disagreement, shown to everyone who can see the
/// project), each classifier's tier with the flowchart answers that led to it, the classification dialogue for the
/// caller's own classification (one question per step, carried in the query string so it works without JavaScript;
/// nothing is recorded until the classifier confirms the tier the flowchart reached), and the signed data-sharing
/// agreement in the work package's document volume, which its Project Manager uploads (stored by the airlock as
/// <c>PUT /api/airlock/projects/{project}/workpackages/{wp}/agreement/{name}</c> stores it).
/// </summary>
public sealed class WorkPackageModel(IProjectStore projects, ProjectActions actions, AirlockWorkflow airlock) : ProjectPage(actions)
{
    /// <summary>The longest comment a classifier may add to the flowchart's answers (the reason holds both).</summary>
    public const int MaxComment = 500;

    public sealed record ClassificationRow(Classification Classification, FlowchartWalk? Walk);

    [BindProperty(SupportsGet = true)]
    public string WorkPackage { get; set; } = "";

    /// <summary>The dialogue so far: "yes"/"no" answers in the order asked, comma separated (from the query string).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Answers { get; set; }

    public WorkPackageRecord? Package { get; private set; }

    public ClassificationOutcome? Outcome { get; private set; }

    public IReadOnlyList<ClassificationRow> Classifications { get; private set; } = [];

    /// <summary>The classifier roles the caller holds here (empty: no dialogue).</summary>
    public IReadOnlyList<Role> ClassifierRoles { get; private set; } = [];

    /// <summary>The caller's walk through the flowchart (null when the caller does not classify).</summary>
    public FlowchartWalk? Dialogue { get; private set; }

    public Classification? Mine { get; private set; }

    public VolumeManifest? Agreement { get; private set; }

    public bool MayUploadAgreement { get; private set; }

    /// <summary>The query string of the dialogue after one more answer.</summary>
    public string With(bool yes) => string.Join(',', [.. Dialogue?.Encoded ?? [], yes ? ClassificationFlowchart.Yes : ClassificationFlowchart.No]);

    /// <summary>The query string of the dialogue one answer back.</summary>
    public string Back() => string.Join(',', (Dialogue?.Encoded ?? []).SkipLast(1));

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (await LoadAsync(cancellationToken) && Dialogue is null && ClassifierRoles.Count > 0)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
    }

    public async Task<IActionResult> OnPostClassifyAsync(string? role, string? comment, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(cancellationToken))
        {
            return Page();
        }
        if (Dialogue is not { Finished: true } walk)
        {
            return Refuse(StatusCodes.Status400BadRequest, "Answer the flowchart's questions until it reaches a tier, then record it.");
        }
        comment = comment?.Trim();
        if (comment is { Length: > MaxComment })
        {
            return Refuse(StatusCodes.Status400BadRequest, $"The comment is {comment.Length} characters; at most {MaxComment}.");
        }
        var reason = walk.Describe() + (string.IsNullOrEmpty(comment) ? "" : " Comment: " + comment);
        var classified = await Actions.ClassifyAsync(Caller, Project, WorkPackage, walk.Tier!.Value, reason, string.IsNullOrEmpty(role) ? null : role,
            walk.Encoded, cancellationToken);
        var message = classified.Value is { } outcome
            ? $"Your classification (tier {walk.Tier}) is recorded. {outcome.Explanation}"
            : "";
        return await AfterAsync(classified, message, () => Task.CompletedTask, new { answers = (string?)null });
    }

    public async Task<IActionResult> OnPostAgreementAsync(IFormFile? file, string? sha256, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(cancellationToken))
        {
            return Page();
        }
        if (file is null || file.Length == 0)
        {
            return Refuse(StatusCodes.Status400BadRequest, "Choose the signed agreement's file (it must not be empty).");
        }
        BlobDigest digest;
        if (!string.IsNullOrWhiteSpace(sha256))
        {
            if (!BlobDigest.TryParse(sha256.Trim().ToLowerInvariant(), out digest))
            {
                return Refuse(StatusCodes.Status400BadRequest, "The SHA-256 you computed is 64 hexadecimal digits (or leave it empty).");
            }
        }
        else
        {
            await using var hashed = file.OpenReadStream();
            digest = BlobDigest.FromHash(await SHA256.HashDataAsync(hashed, cancellationToken));
        }
        try
        {
            await using var content = file.OpenReadStream();
            var stored = await airlock.StoreAgreementAsync(Caller, Project, WorkPackage, Path.GetFileName(file.FileName), file.Length, digest, content, cancellationToken);
            Message = $"Stored {stored.Path} ({stored.Size} bytes, SHA-256 {stored.Sha256.Hex}) in the work package's document volume.";
            return RedirectToPage(new { answers = (string?)null });
        }
        catch (AirlockWorkflowException e)
        {
            return Refuse(AirlockErrors.StatusOf(e.Error), e.Message);
        }
    }

    private PageResult Refuse(int status, string error)
    {
        Error = error;
        Response.StatusCode = status;
        return Page();
    }

    /// <summary>Loads the project, the work package and everything the page shows; false (404 set) when either is not there for the caller.</summary>
    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        if (!await LoadProjectAsync(cancellationToken))
        {
            return false;
        }
        Package = Names.IsProjectName(WorkPackage) ? await projects.GetWorkPackageAsync(Project, WorkPackage, cancellationToken) : null;
        if (Package is null)
        {
            Error = $"Project {Project} has no work package {WorkPackage}.";
            Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        var classifications = await projects.GetClassificationsAsync(Project, WorkPackage, cancellationToken);
        Outcome = WorkPackageClassification.Decide(classifications);
        Classifications = classifications.OrderBy(c => c.Role).ThenBy(c => c.Classifier, StringComparer.Ordinal)
            .Select(c => new ClassificationRow(c, c.Answers is null ? null : ClassificationFlowchart.Parse(c.Answers, out _)))
            .ToList();
        ClassifierRoles = ProjectActions.ClassifierRoles(Caller, Project);
        Mine = classifications.FirstOrDefault(c => c.Classifier == Caller.Name);
        if (ClassifierRoles.Count > 0)
        {
            Dialogue = ClassificationFlowchart.Parse((Answers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), out var problem);
            if (Dialogue is null)
            {
                Error = problem + " Start again from the first question.";
            }
        }
        Agreement = await airlock.AgreementAsync(Project, WorkPackage, cancellationToken);
        MayUploadAgreement = Caller.Has(Project, Role.ProjectManager);
        return true;
    }
}
