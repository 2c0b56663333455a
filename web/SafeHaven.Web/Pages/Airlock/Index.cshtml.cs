using SafeHaven.Airlock.Submissions;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Airlock;

/// <summary>One submission in a list, with what the signed-in person can do about it.</summary>
public sealed record SubmissionLine(Submission Submission, IReadOnlyList<Role> OpenRoles, bool ConfirmsHash);

/// <summary>
/// The airlock's start page: "Awaiting my review" (the in-review submissions where the signed-in person holds a
/// required sign-off role nobody filled, by the workflow's own rules, and the data deposits waiting for their own
/// SHA-256 confirmation), then every submission of the projects they belong to. Open to every signed-in person: the
/// workflow lists only what the caller may see.
/// </summary>
public sealed class IndexModel(AirlockWorkflow workflow) : SafeHavenPage
{
    public IReadOnlyList<SubmissionLine> Awaiting { get; private set; } = [];

    public IReadOnlyList<Submission> Projects { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var visible = await workflow.ListAsync(Caller, null, cancellationToken);
        var awaiting = new List<SubmissionLine>();
        foreach (var submission in visible.Where(s => s.State == SubmissionState.InReview))
        {
            var details = await workflow.DetailsAsync(Caller, submission.Id, cancellationToken);
            var open = AirlockWords.OpenRolesFor(Caller, submission, details.SignOffs);
            var confirms = details.HashConfirmationRequired && submission.HashConfirmedBy is null && submission.Depositor == Caller.Name
                && Caller.Has(submission.Project, Role.DatasetProviderRepresentative);
            if (open.Count > 0 || confirms)
            {
                awaiting.Add(new SubmissionLine(submission, open, confirms));
            }
        }
        Awaiting = awaiting;
        Projects = visible.OrderByDescending(s => s.UpdatedAt).Take(200).ToList();
    }
}
