using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Pages.Packages;

/// <summary>
/// Package requests: anyone with a project role (or a System Manager) asks for a package by ecosystem, name and why;
/// the request is a pending allowlist entry with the requester and the reason (<see cref="AllowlistEntries"/>), decided
/// by a college Referee from its risk summary. Each person sees their own requests and the outcome; Referees and
/// System Managers also see every request awaiting a decision.
/// </summary>
[RequireRole(Role.SystemManager, Role.CollegeReferee, Role.Researcher, Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative, Role.ProjectManager)]
public sealed class RequestsModel(AllowlistEntries entries, IPolicyStore store) : SafeHavenPage
{
    public IReadOnlyList<AllowlistEntryRecord> Mine { get; private set; } = [];
    public IReadOnlyList<AllowlistEntryRecord> Pending { get; private set; } = [];
    public bool MayRequest => AllowlistEntries.MayRequest(Caller);
    public bool SeesAll => AllowlistEntries.MayDecide(Caller) || Caller.Has(Role.SystemManager);

    [BindProperty] public string? Ecosystem { get; set; } = "pypi";
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Reason { get; set; }
    public string? Problem { get; private set; }

    public void OnGet() => Load();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!MayRequest)
        {
            return Forbid(WebAuthentication.CookieScheme);
        }
        var outcome = await entries.AddAsync(Caller, Ecosystem ?? "", Name?.Trim(), Reason, cancellationToken).ConfigureAwait(false);
        if (outcome.Kind == AllowlistOutcomeKind.Done)
        {
            return Redirect(RequestModel.PathOf(outcome.Entry!));
        }
        Response.StatusCode = outcome.Kind == AllowlistOutcomeKind.Invalid ? StatusCodes.Status400BadRequest : StatusCodes.Status409Conflict;
        Problem = outcome.Field switch
        {
            "name" => $"Package name: {outcome.Detail}",
            "reason" => $"Why you need it: {outcome.Detail}",
            "ecosystem" => $"Ecosystem: {outcome.Detail}",
            _ => outcome.Detail,
        };
        Load();
        return Page();
    }

    private void Load()
    {
        var all = store.ListAllowlistEntries(null);
        Mine = all.Where(e => string.Equals(e.AddedBy, Caller.Name, StringComparison.Ordinal)).OrderByDescending(e => e.AddedAt).ToList();
        Pending = SeesAll ? all.Where(e => e.Status == AllowlistEntryStatus.Pending).OrderBy(e => e.AddedAt).ToList() : [];
    }
}
