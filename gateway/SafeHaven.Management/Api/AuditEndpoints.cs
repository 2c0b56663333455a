using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Api;

/// <summary><c>/api/audit</c> (filtered reads of the log, verification), <c>/api/me</c> and <c>/api/users</c>.</summary>
internal static partial class AuditEndpoints
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActorPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9.-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActionPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@/+\[\],-]{0,255}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TargetPattern();

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
        var query = http.Request.Query;
        var errors = new Dictionary<string, string[]>();
        var known = new[] { "actor", "action", "target", "project", "since", "until", "after", "limit" };
        foreach (var key in query.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)))
        {
            errors[key] = [$"Unknown filter (filters: {string.Join(", ", known)})."];
        }
        string? Text(string key, Regex pattern, string rule)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            var value = values.ToString();
            if (values.Count != 1 || !pattern.IsMatch(value))
            {
                errors[key] = [rule];
                return null;
            }
            return value;
        }
        DateTimeOffset? Time(string key)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            if (values.Count != 1 || !DateTimeOffset.TryParse(values.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                errors[key] = ["An ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z."];
                return null;
            }
            return at;
        }
        long? Number(string key, long minimum, long maximum)
        {
            if (!query.TryGetValue(key, out var values))
            {
                return null;
            }
            if (values.Count != 1 || !long.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < minimum || n > maximum)
            {
                errors[key] = [$"A whole number from {minimum} to {maximum}."];
                return null;
            }
            return n;
        }
        var filter = new AuditFilter(
            Text("actor", ActorPattern(), "A user name (or cli:<account>)."),
            Text("action", ActionPattern(), "An action such as policy.changed, or a prefix such as allowlist."),
            Text("target", TargetPattern(), "A target as shown in the log."),
            Text("project", ActorPattern(), Names.ProjectRule),
            Time("since"),
            Time("until"),
            Number("after", 0, long.MaxValue),
            (int)(Number("limit", 1, 1000) ?? 100));
        if (errors.Count > 0)
        {
            return ManagementJson.Invalid(errors);
        }
        var entries = await audit.QueryAsync(filter, cancellationToken).ConfigureAwait(false);
        return ManagementJson.Ok(entries.Select(AuditEntryView.Of).ToList());
    }
}
