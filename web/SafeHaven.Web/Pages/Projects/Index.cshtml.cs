using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Web.Pages.Projects;

/// <summary>
/// The projects the signed-in person can see (every project for System and Programme Managers; otherwise those they hold
/// a role in, as the API's <c>GET /api/projects</c> answers), with their roles in each. Open to every signed-in person.
/// </summary>
public sealed class IndexModel(IProjectStore projects) : SafeHavenPage
{
    public sealed record Row(ProjectRecord Project, IReadOnlyList<Role> MyRoles);

    public IReadOnlyList<Row> Projects { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var all = await projects.ListProjectsAsync(cancellationToken);
        Projects = all.Where(p => Caller.CanSee(p.Name))
            .Select(p => new Row(p, Caller.ProjectRoles.TryGetValue(p.Name, out var roles) ? roles.Order().ToList() : []))
            .ToList();
    }
}
