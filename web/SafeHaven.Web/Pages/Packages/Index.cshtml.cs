namespace SafeHaven.Web.Pages.Packages;

/// <summary>
/// The packages area's start page, open to every signed-in person: the parts of the area the person may open
/// (mirror health, allowlists and the threshold for System Managers and Referees; package requests for everyone with
/// a project role), each shown by the same <see cref="RequireRoleAttribute"/> its page enforces.
/// </summary>
public sealed class IndexModel : SafeHavenPage
{
    public static IReadOnlyList<NavigationEntry> Parts { get; } =
    [
        new("Mirror health", "/packages/mirrors", "Each mirror's upstream reads, freshness against the staleness bound, and allowlist closure problems.", typeof(MirrorsModel)),
        new("Allowlists", "/packages/allowlists", "Approved packages per ecosystem, and pending entries to approve or reject.", typeof(AllowlistsModel)),
        new("Package requests", "/packages/requests", "Ask for a package to be allowed, and follow what was decided.", typeof(RequestsModel)),
        new("Model threshold", "/packages/threshold", "Preview what a change of the whitelist model's threshold would add and remove, then make it.", typeof(ThresholdModel)),
    ];

    public IReadOnlyList<NavigationEntry> Visible { get; private set; } = [];

    public void OnGet() => Visible = Parts.Where(p => RequireRoleAttribute.Allows(p.PageModel, Caller)).ToList();
}
