using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages.Audit;

/// <summary>The audit log, as <c>GET /api/audit</c> allows it: System Managers and Programme Managers.</summary>
[RequireRole(Role.SystemManager, Role.ProgrammeManager)]
public sealed class IndexModel : SafeHavenPage
{
    public void OnGet()
    {
    }
}
