using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Api;

/// <summary>
/// The named policies of the management API, and the fallback that covers every endpoint without its own:
/// <c>/api/**</c> needs an authenticated caller (and <c>/api/mirrors/**</c> a System or Programme Manager), while
/// everything else (health, the package mirrors' URL spaces) stays anonymous.
/// </summary>
public static class ManagementPolicies
{
    public const string SystemManager = "safehaven:system-manager";
    public const string ProgrammeManager = "safehaven:programme-manager";

    /// <summary>System Manager or Programme Manager: appliance-wide oversight (sync status, audit, mirror reports).</summary>
    public const string Oversight = "safehaven:oversight";

    /// <summary>System Manager, or a member of the Referee college (which reviews hand-added allowlist entries).</summary>
    public const string AllowlistReaders = "safehaven:allowlist-readers";

    /// <summary>A member of the appliance-wide Referee college; a Referee of some project is not enough.</summary>
    public const string Referee = "safehaven:referee";

    internal static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(SystemManager, p => p.RequireAuthenticatedUser().RequireClaim(Roles.GlobalRoleClaim, nameof(Role.SystemManager)));
        options.AddPolicy(ProgrammeManager, p => p.RequireAuthenticatedUser().RequireClaim(Roles.GlobalRoleClaim, nameof(Role.ProgrammeManager)));
        options.AddPolicy(Oversight, p => p.RequireAuthenticatedUser().RequireClaim(Roles.GlobalRoleClaim, nameof(Role.SystemManager), nameof(Role.ProgrammeManager)));
        options.AddPolicy(Referee, p => p.RequireAuthenticatedUser().RequireAssertion(c => IsReferee(c.User)));
        options.AddPolicy(AllowlistReaders, p => p.RequireAuthenticatedUser().RequireAssertion(c =>
            c.User.HasClaim(Roles.GlobalRoleClaim, nameof(Role.SystemManager)) || IsReferee(c.User)));
        options.FallbackPolicy = new AuthorizationPolicyBuilder().AddRequirements(new ApiAccessRequirement()).Build();
    }

    private static bool IsReferee(System.Security.Claims.ClaimsPrincipal user) =>
        Caller.From(user) is { } caller && Policy.AllowlistEntries.MayDecide(caller);
}

/// <summary>The fallback rule by URL space (see <see cref="ManagementPolicies"/>).</summary>
public sealed class ApiAccessRequirement : IAuthorizationRequirement;

internal sealed class ApiAccessHandler : AuthorizationHandler<ApiAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiAccessRequirement requirement)
    {
        var path = context.Resource switch
        {
            HttpContext http => http.Request.Path,
            _ => PathString.Empty,
        };
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
        var caller = Caller.From(context.User);
        if (caller is null)
        {
            return Task.CompletedTask;
        }
        if (path.StartsWithSegments("/api/mirrors", StringComparison.OrdinalIgnoreCase)
            && !caller.Has(Role.SystemManager) && !caller.Has(Role.ProgrammeManager))
        {
            return Task.CompletedTask;
        }
        context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
