using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Api;

/// <summary><c>/api/audit</c> (filtered reads of the log, verification), <c>/api/me</c> and <c>/api/users</c>.</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/me", (HttpContext http) => ManagementJson.Ok(CallerView.Of(Caller.From(http.User)!)))
            .WithSummary("Who the credentials belong to, and the roles they hold.")
            .Produces<CallerView>();

        api.MapGet("/users", async (IUserStore users, CancellationToken cancellationToken) =>
            {
                var list = new List<UserView>();
                foreach (var user in await users.ListUsersAsync(cancellationToken).ConfigureAwait(false))
                {
                    var roles = await users.GetRolesAsync(user.Name, cancellationToken).ConfigureAwait(false);
                    list.Add(new UserView(user.Name, user.CreatedAt, user.CreatedBy, user.Disabled, roles.Select(RoleAssignmentView.Of).ToList()));
                }
                return ManagementJson.Ok(list);
            })
            .RequireAuthorization(ManagementPolicies.Oversight)
            .WithSummary("Every known user and their roles (System Manager, Programme Manager).")
            .Produces<List<UserView>>();

        api.MapGet("/audit", QueryAsync)
            .RequireAuthorization(ManagementPolicies.Oversight)
            .WithSummary("Audit entries in order, filtered by actor, action (or action prefix), target, project, time and sequence (System Manager, Programme Manager).")
            .Produces<List<AuditEntryView>>();

        api.MapGet("/audit/verify", async (IAuditLog audit, CancellationToken cancellationToken) =>
                ManagementJson.Ok(await audit.VerifyAsync(cancellationToken).ConfigureAwait(false)))
            .RequireAuthorization(ManagementPolicies.SystemManager)
            .WithSummary("Check the hash chain of the whole audit log (System Manager).")
            .Produces<AuditVerification>();
    }

    private static async Task<IResult> QueryAsync(HttpContext http, IAuditLog audit, CancellationToken cancellationToken)
    {
        var (filter, errors) = AuditQuery.Parse(http.Request.Query);
        if (filter is null)
        {
            return ManagementJson.Invalid(errors);
        }
        var entries = await audit.QueryAsync(filter, cancellationToken).ConfigureAwait(false);
        return ManagementJson.Ok(entries.Select(AuditEntryView.Of).ToList());
    }
}
