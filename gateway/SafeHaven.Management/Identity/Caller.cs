using System.Security.Claims;

namespace SafeHaven.Management.Identity;

/// <summary>The person a request acts for, with the roles they hold (appliance-wide and per project).</summary>
public sealed class Caller
{
    public Caller(string name, IEnumerable<Role> globalRoles, IEnumerable<(string Project, Role Role)> projectRoles, string authenticatedBy)
    {
        Name = name;
        GlobalRoles = globalRoles.Where(r => r.IsGlobal()).ToHashSet();
        ProjectRoles = projectRoles.Where(p => !p.Role.IsGlobal())
            .GroupBy(p => p.Project, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlySet<Role>)g.Select(p => p.Role).ToHashSet(), StringComparer.Ordinal);
        AuthenticatedBy = authenticatedBy;
    }

    public string Name { get; }
    public IReadOnlySet<Role> GlobalRoles { get; }
    public IReadOnlyDictionary<string, IReadOnlySet<Role>> ProjectRoles { get; }

    /// <summary><c>api-key:&lt;id&gt;</c> or <c>jwt:&lt;issuer&gt;</c>.</summary>
    public string AuthenticatedBy { get; }

    public bool Has(Role role) => role.IsGlobal() ? GlobalRoles.Contains(role) : ProjectRoles.Values.Any(r => r.Contains(role));

    public bool Has(string project, Role role) => ProjectRoles.TryGetValue(project, out var roles) && roles.Contains(role);

    /// <summary>System and Programme Managers see every project; everyone else only the projects they hold a role in.</summary>
    public bool CanSee(string project) => Has(Role.SystemManager) || Has(Role.ProgrammeManager) || ProjectRoles.ContainsKey(project);

    public ClaimsPrincipal ToPrincipal(string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, Name), new("safehaven:authenticated-by", AuthenticatedBy) };
        claims.AddRange(GlobalRoles.Select(r => new Claim(Roles.GlobalRoleClaim, r.ToString())));
        claims.AddRange(ProjectRoles.SelectMany(p => p.Value.Select(r => new Claim(Roles.ProjectRoleClaim, $"{p.Key}/{r}"))));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, Roles.GlobalRoleClaim));
    }

    public static Caller? From(ClaimsPrincipal principal)
    {
        if (principal.Identity is not { IsAuthenticated: true } || principal.FindFirst(ClaimTypes.Name)?.Value is not { } name)
        {
            return null;
        }
        var global = principal.FindAll(Roles.GlobalRoleClaim).Select(c => Roles.TryParse(c.Value, out var r) ? r : (Role?)null).OfType<Role>();
        var project = principal.FindAll(Roles.ProjectRoleClaim).Select(c => ParseProjectRole(c.Value)).OfType<(string, Role)>();
        return new Caller(name, global, project, principal.FindFirst("safehaven:authenticated-by")?.Value ?? "");
    }

    /// <summary><c>project/Role</c>, or null when the text is not one.</summary>
    public static (string Project, Role Role)? ParseProjectRole(string text)
    {
        var slash = text.LastIndexOf('/');
        if (slash <= 0 || !Names.IsProjectName(text[..slash]) || !Roles.TryParse(text[(slash + 1)..], out var role) || role.IsGlobal())
        {
            return null;
        }
        return (text[..slash], role);
    }
}
