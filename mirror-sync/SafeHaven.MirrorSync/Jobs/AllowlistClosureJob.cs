using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;

namespace SafeHaven.MirrorSync.Jobs;

/// <summary>
/// Tier 3+: recomputes each mirror's allowlist closure and publishes it whole. A failed run leaves the previous
/// closure in force. Unsatisfiable dependencies are logged and reported on the API and health endpoint.
/// </summary>
[DisallowConcurrentExecution]
public sealed class AllowlistClosureJob(
    IEnumerable<IMirrorEcosystem> mirrors,
    TierPolicyProvider policy,
    AllowlistClosureRegistry registry,
    ReadinessState readiness,
    ModelApprovals model,
    TimeProvider time,
    ILogger<AllowlistClosureJob> logger) : IJob
{
    public static readonly JobKey Key = new("allowlist-closure", "mirror-sync");

    public static string ReadinessKey(string ecosystem) => $"{ecosystem} allowlist closure";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var snapshot = policy.Current;
        if (!snapshot.Policy.RequiresAllowlist)
        {
            return;
        }
        foreach (var mirror in mirrors)
        {
            var started = time.GetTimestamp();
            try
            {
                var closure = await model.BuildClosureAsync(mirror.Ecosystem, snapshot, mirror.ClosureSource, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                registry.Publish(closure);
                readiness.Complete(ReadinessKey(mirror.Ecosystem));
                logger.LogInformation("{Ecosystem} allowlist closure: {Roots} approved ({ModelApproved} by the model), {Packages} visible, {Unsatisfied} unsatisfied, {Unapproved} unapproved dependencies ({Elapsed:0.0} s)",
                    mirror.Ecosystem, closure.Roots.Count, closure.ModelApproved.Count, closure.Packages.Count, closure.Unsatisfied.Count,
                    closure.UnapprovedDependencies.Count, time.GetElapsedTime(started).TotalSeconds);
                foreach (var dependency in closure.UnapprovedDependencies)
                {
                    logger.LogWarning("{Ecosystem} dependency {Package} (needed by {Roots}) is visible but not approved: {Note}",
                        mirror.Ecosystem, dependency.Package, string.Join(", ", dependency.RequiredBy), dependency.Note);
                }
                foreach (var problem in closure.Unsatisfied)
                {
                    logger.LogWarning("{Ecosystem} allowlist entry {Root} cannot be satisfied: {Path} needs {Requirement}: {Reason}",
                        mirror.Ecosystem, problem.Root, string.Join(" -> ", problem.Path), problem.Requirement, problem.Reason);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "{Ecosystem} allowlist closure failed; the previous closure stays in force", mirror.Ecosystem);
            }
        }
    }
}
