using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>
/// One package request (a hand-added allowlist entry) with its one-page risk summary. The person who filed it, System
/// Managers and college Referees may read it; a college Referee other than the requester approves or rejects it with a
/// reason, by the same rules as the management API (<see cref="AllowlistEntries"/>).
/// </summary>
[RequireRole(Role.SystemManager, Role.CollegeReferee, Role.Researcher, Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative, Role.ProjectManager)]
public sealed class RequestModel(AllowlistEntries entries, IServiceProvider services) : SafeHavenPage
{
    public AllowlistEntryRecord Entry { get; private set; } = null!;
    public RiskSummary Summary { get; private set; } = null!;
    public string? Problem { get; private set; }

    /// <summary>Whether the signed-in person may decide this entry now (a college Referee, not the requester, still pending).</summary>
    public bool CanDecide => Entry.Status == AllowlistEntryStatus.Pending && AllowlistEntries.MayDecide(Caller)
        && !string.Equals(Entry.AddedBy, Caller.Name, StringComparison.Ordinal);

    public static string PathOf(AllowlistEntryRecord entry) => $"/packages/request/{entry.Ecosystem}/{Uri.EscapeDataString(entry.Name)}";

    public async Task<IActionResult> OnGetAsync(string ecosystem, string name, CancellationToken cancellationToken)
    {
        if (Load(ecosystem, name) is { } refused)
        {
            return refused;
        }
        Summary = await RiskSummary.BuildAsync(Entry, services, cancellationToken).ConfigureAwait(false);
        return Page();
    }

    public async Task<IActionResult> OnPostDecideAsync(string ecosystem, string name, string? decision, string? reason, CancellationToken cancellationToken)
    {
        if (Load(ecosystem, name) is { } refused)
        {
            return refused;
        }
        if (!AllowlistEntries.MayDecide(Caller))
        {
            return Forbid(WebAuthentication.CookieScheme);
        }
        AllowlistEntryStatus? status = decision switch
        {
            "approve" => AllowlistEntryStatus.Approved,
            "reject" => AllowlistEntryStatus.Rejected,
            _ => null,
        };
        var outcome = status is null
            ? new AllowlistOutcome(AllowlistOutcomeKind.Invalid, null, "Invalid request", "Choose approve or reject.", "decision")
            : await entries.DecideAsync(Caller, ecosystem, name, status.Value, reason, cancellationToken).ConfigureAwait(false);
        if (outcome.Kind == AllowlistOutcomeKind.Done)
        {
            return Redirect(PathOf(outcome.Entry!));
        }
        if (outcome.Kind == AllowlistOutcomeKind.Forbidden && outcome.Entry is null)
        {
            return Forbid(WebAuthentication.CookieScheme);
        }
        Response.StatusCode = outcome.Kind switch
        {
            AllowlistOutcomeKind.Invalid => StatusCodes.Status400BadRequest,
            AllowlistOutcomeKind.Forbidden => StatusCodes.Status403Forbidden,
            AllowlistOutcomeKind.NotFound => StatusCodes.Status404NotFound,
            _ => StatusCodes.Status409Conflict,
        };
        Problem = outcome.Field == "reason" ? $"A reason is required: {outcome.Detail}" : outcome.Detail;
        Load(ecosystem, name);
        Summary = await RiskSummary.BuildAsync(Entry, services, cancellationToken).ConfigureAwait(false);
        return Page();
    }

    /// <summary>Finds the entry and checks the caller may read it; the refusal to answer otherwise.</summary>
    private IActionResult? Load(string ecosystem, string name)
    {
        if (entries.Find(ecosystem, name) is not { } entry)
        {
            return NotFound();
        }
        if (!AllowlistEntries.MayDecide(Caller) && !Caller.Has(Role.SystemManager) && !string.Equals(entry.AddedBy, Caller.Name, StringComparison.Ordinal))
        {
            return Forbid(WebAuthentication.CookieScheme);
        }
        Entry = entry;
        return null;
    }
}
