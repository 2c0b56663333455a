using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages;

/// <summary>One area of the web application: its link, what it is for, and the page model whose roles decide who sees it.</summary>
public sealed record NavigationEntry(string Title, string Path, string Purpose, Type PageModel);

/// <summary>
/// The areas shown in the header and on the home page. A link appears exactly when the person may open it: the entry's
/// page model carries the <see cref="RequireRoleAttribute"/> that the page enforces. Add an area here when you add one.
/// </summary>
public static class Navigation
{
    public static IReadOnlyList<NavigationEntry> Entries { get; } =
    [
        new("Airlock", "/airlock", "Submissions awaiting your review, deposits and released outputs.", typeof(Airlock.IndexModel)),
        new("Projects", "/projects", "Projects, members, roles and work-package classification.", typeof(Projects.IndexModel)),
        new("Packages", "/packages", "Mirror health, allowlists and package requests.", typeof(Packages.IndexModel)),
        new("Audit", "/audit", "The hash-chained audit log and its verification.", typeof(Audit.IndexModel)),
    ];

    public static IEnumerable<NavigationEntry> For(Caller caller) => Entries.Where(e => RequireRoleAttribute.Allows(e.PageModel, caller));
}
