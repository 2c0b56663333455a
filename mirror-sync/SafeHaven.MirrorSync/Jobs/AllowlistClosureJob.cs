using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;
using SafeHaven.MirrorSync.Sharing;

namespace SafeHaven.MirrorSync.Jobs;

/// <summary>
/// Tier 3+: recomputes each mirror's allowlist closure and publishes it whole. A failed run leaves the previous
/// closure in force. Unsatisfiable dependencies are logged and reported on the API and health endpoint.
/// With several replicas (<paramref name="sharing"/>, the job on the clustered scheduler, one run at a time across
/// them) a run asked for by a policy change or a start adopts a closure another replica stored for the same policy
/// instead of computing it again, and a computed closure is stored for the others before the run ends.
/// </summary>
[DisallowConcurrentExecution]
public sealed class AllowlistClosureJob(
    IEnumerable<IMirrorEcosystem> mirrors,
    TierPolicyProvider policy,
    AllowlistClosureRegistry registry,
    ReadinessState readiness,
    ModelApprovals model,
    TimeProvider time,
    ILogger<AllowlistClosureJob> logger,
    ClosureSharing? sharing = null) : IJob
{
    public static readonly JobKey Key = new("allowlist-closure", "mirror-sync");

    /// <summary>
    /// Job data of a run asked for by a policy change or a replica's start: any closure stored for the policy in force
    /// satisfies it. A periodic run (no such entry) recomputes, for what changed upstream.
    /// </summary>
    public const string AdoptStoredEntry = "adoptStored";

    /// <summary>The job data of a run that a closure stored for the policy in force satisfies.</summary>
    public static JobDataMap AdoptingStored() => new() { [AdoptStoredEntry] = "true" };

    public static string ReadinessKey(string ecosystem) => $"{ecosystem} allowlist closure";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var snapshot = policy.Current;
        if (!snapshot.Policy.RequiresAllowlist)
        {
            return;
        }
        // Several replicas: a periodic run recomputes; an asked-for run needs only a closure for this policy.
        var notBefore = context.MergedJobDataMap.TryGetString(AdoptStoredEntry, out var adopt) && adopt == "true"
            ? DateTimeOffset.MinValue
            : context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        foreach (var mirror in mirrors)
        {
            var started = time.GetTimestamp();
            try
            {
                if (sharing is not null && await sharing.AdoptStoredAsync(mirror.Ecosystem, snapshot, notBefore, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                var closure = await model.BuildClosureAsync(mirror.Ecosystem, snapshot, mirror.ClosureSource, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                registry.Publish(closure);
                readiness.Complete(ReadinessKey(mirror.Ecosystem));
                if (sharing is not null)
                {
                    await ShareAsync(sharing, closure, snapshot, cancellationToken).ConfigureAwait(false);
                }
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

    private async Task ShareAsync(ClosureSharing sharing, AllowlistClosure closure, PolicySnapshot snapshot, CancellationToken cancellationToken)
    {
        try
        {
            await sharing.SaveAsync(closure, snapshot, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Served here all the same; the other replicas keep theirs until a computation is stored.
            logger.LogError(e, "{Ecosystem} allowlist closure could not be shared with the other replicas", closure.Ecosystem);
        }
    }
}
