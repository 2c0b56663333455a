using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Policy;

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
                modelApproved = closure.ModelApproved,
                visible = closure.Packages.Order(StringComparer.Ordinal),
                unsatisfied = closure.Unsatisfied.Select(u => new { root = u.Root, path = u.Path, requirement = u.Requirement, reason = u.Reason }),
                unapprovedDependencies = closure.UnapprovedDependencies.Select(d => new { package = d.Package, requiredBy = d.RequiredBy, score = d.Score, note = d.Note }),
            });
        });

        // What a change of the model threshold would do: which packages the model would newly approve or stop approving.
        app.MapGet("/api/mirrors/{ecosystem}/model-preview", (string ecosystem, double? threshold, TierPolicyProvider policy, ModelApprovals model) =>
        {
            if (threshold is not { } proposed || double.IsNaN(proposed) || proposed is < 0 or > 1)
            {
                return Results.Problem(title: "Bad threshold", detail: "Give ?threshold= a number from 0 to 1.", statusCode: StatusCodes.Status400BadRequest);
            }
            if (model.Preview(ecosystem, policy.Current, proposed) is not { } preview)
            {
                return Results.Problem(
                    title: "No model input",
                    detail: $"SafeHaven:Policy:ModelInputFiles:{ecosystem} is not set or cannot be read, so the model scores nothing for {ecosystem}.",
                    statusCode: StatusCodes.Status404NotFound);
            }
            object Row(ModelCandidate candidate) => new { name = candidate.Name, score = Math.Round(candidate.Score, 6), reasons = candidate.Reasons };
            return Results.Ok(new
            {
                ecosystem,
                tier = preview.Tier,
                modelApprovesAtThisTier = preview.ModelApprovesAtThisTier,
                currentThreshold = preview.CurrentThreshold,
                proposedThreshold = preview.ProposedThreshold,
                scored = preview.Scored,
                approvedNow = preview.ApprovedNow,
                approvedAtProposed = preview.ApprovedAtProposed,
                added = preview.Added.Select(Row),
                removed = preview.Removed.Select(Row),
            });
        });
        return app;
    }
}
