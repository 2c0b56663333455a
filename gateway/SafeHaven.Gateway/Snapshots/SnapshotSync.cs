using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// One capture-and-publish of an ecosystem: the plan's preparation, the capture through the live pipeline, then the
/// publication (which verifies every blob). Runs of one ecosystem never overlap. A failure anywhere publishes nothing:
/// the previous snapshot stays current. The scheduled sync and the management API call this.
/// </summary>
public sealed class SnapshotSync(
    IEnumerable<ISnapshotPlan> plans, SnapshotCapture capture, SnapshotPublisher publisher, ISnapshotStore store,
    TierPolicyProvider policy, SafeHavenOptions options, ILogger<SnapshotSync> logger)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _running = new(StringComparer.Ordinal);

    /// <summary>The ecosystems a snapshot can be taken of here (an enabled mirror with an upstream and a plan).</summary>
    public IReadOnlyList<string> Ecosystems => plans.Select(p => p.Ecosystem)
        .Where(e => options.Mirrors.TryGetValue(e, out var m) && m.Enabled && m.HasUpstream).Order(StringComparer.Ordinal).ToList();

    /// <summary>The scope a capture of <paramref name="ecosystem"/> has at <paramref name="tier"/> with the mirror's <c>Sync</c> settings.</summary>
    public static SnapshotScope ScopeOf(string ecosystem, MirrorOptions mirror, int tier)
    {
        var packages = new HashSet<string>(mirror.Sync.Packages
            .SelectMany(p => p.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(p => ecosystem switch
            {
                "pypi" => PackageName.NormalizePyPI(p),
                "cran" => p,
                _ => p.ToLowerInvariant(),
            }), StringComparer.Ordinal);
        return new SnapshotScope(tier, packages, FollowAll: tier >= 3, Prefetch: mirror.Sync.Prefetch ?? tier >= 3);
    }

    /// <summary>Takes and publishes a snapshot of <paramref name="ecosystem"/> now; throws (publishing nothing) when it fails.</summary>
    /// <param name="progress">Told of each document and artifact as it is captured (a sync's live counts).</param>
    public async Task<SnapshotRecord> RunOnceAsync(string ecosystem, CancellationToken cancellationToken, IProgress<SnapshotEntry>? progress = null)
    {
        ecosystem = ecosystem.ToLowerInvariant();
        var plan = plans.FirstOrDefault(p => p.Ecosystem == ecosystem)
            ?? throw new InvalidOperationException($"No snapshot plan for '{ecosystem}' (is its mirror enabled with an upstream?).");
        if (!options.Mirrors.TryGetValue(ecosystem, out var mirror) || !mirror.Enabled || !mirror.HasUpstream)
        {
            throw new InvalidOperationException($"The {ecosystem} mirror has no upstream to take a snapshot from.");
        }
        var gate = _running.GetOrAdd(ecosystem, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tier = policy.Current.Policy.Tier;
            var scope = ScopeOf(ecosystem, mirror, tier);
            var parent = await store.GetCurrentAsync(ecosystem, cancellationToken).ConfigureAwait(false);
            await plan.PrepareAsync(cancellationToken).ConfigureAwait(false);
            var manifest = await capture.CaptureAsync(plan, scope, tier, parent?.Id, cancellationToken, progress).ConfigureAwait(false);
            var record = await publisher.PublishAsync(manifest, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("{Ecosystem} snapshot {Snapshot} published: {Documents} documents, {Artifacts} artifacts, {Bytes} bytes",
                ecosystem, record.Id, record.Documents, record.Artifacts, record.Bytes);
            return record;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError("{Ecosystem} snapshot failed; the previous snapshot stays current: {Reason}", ecosystem, e.Message);
            throw;
        }
        finally
        {
            gate.Release();
        }
    }
}
