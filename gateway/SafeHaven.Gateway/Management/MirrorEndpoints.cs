using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Management;

/// <summary>Read-only mirror reports under <c>/api/mirrors/</c>.</summary>
public static class MirrorEndpoints
{
    public static IEndpointRouteBuilder MapMirrorReports(this IEndpointRouteBuilder app)
    {
        // The allowlist closure in force: what is visible at Tier 3+ and which approved entries cannot be satisfied.
        app.MapGet("/api/mirrors/{ecosystem}/closure", (string ecosystem, AllowlistClosureRegistry registry, TierPolicyProvider policy) =>
        {
            var snapshot = policy.Current;
            if (!snapshot.Policy.RequiresAllowlist)
            {
                return Results.Problem(
                    title: "No allowlist at this tier",
                    detail: $"Tier {snapshot.Policy.Tier} serves the whole upstream; allowlist closures apply from Tier 3.",
                    statusCode: StatusCodes.Status404NotFound);
            }
            var closure = registry.Get(ecosystem);
            if (closure is null)
            {
                return Results.Problem(
                    title: "Closure not computed",
                    detail: $"The {ecosystem} allowlist closure has not been computed yet, or {ecosystem} is not mirrored.",
                    statusCode: StatusCodes.Status404NotFound);
            }
            return Results.Ok(new
            {
                ecosystem = closure.Ecosystem,
                computedAt = closure.ComputedAt,
                approved = closure.Roots,
                visible = closure.Packages.Order(StringComparer.Ordinal),
                unsatisfied = closure.Unsatisfied.Select(u => new { root = u.Root, path = u.Path, requirement = u.Requirement, reason = u.Reason }),
            });
        });
        return app;
    }
}
