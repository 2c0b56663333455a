using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Gateway.Ecosystems.Conda;

/// <summary>
/// The conda section of <c>/healthz</c>: per subdir, when upstream was last read and published, what the tier hides
/// and why, the last refresh failure; degraded when a subdir was never published, when its last refresh failed (the
/// last good index is still served, and its age is shown), when what is served was read longer ago than
/// <c>MaximumLagDays</c>, when an upstream file failed verification, or when allowlist dependencies cannot be met.
/// </summary>
public sealed class CondaHealth(CondaMirror mirror, TierPolicyProvider policy, AllowlistClosureRegistry closures, MirrorHealth health, TimeProvider time) : IHealthContributor
{
    public ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var snapshot = policy.Current;
        var problems = new List<string>();
        var subdirs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var access in mirror.Channels.Values)
        {
            foreach (var subdir in access.Channel.Subdirs)
            {
                var key = access.Channel.Key(subdir);
                var status = mirror.Status[key];
                var published = mirror.Published(access.Channel.Name, subdir);
                if (published is null)
                {
                    problems.Add($"conda {key}: nothing published yet{(status.LastError is { } e ? ": " + e : "")}");
                }
                else if (status.Failing)
                {
                    problems.Add($"conda {key}: the last refresh failed at {status.LastFailure:O} ({status.LastError}); serving the index read from upstream {(now - published.Upstream.ReadAt).TotalHours:0.#} hours ago");
                }
                if (published is not null && now - published.Upstream.ReadAt > snapshot.Policy.MaximumLag)
                {
                    problems.Add($"conda {key}: the upstream index served was read {(now - published.Upstream.ReadAt).TotalDays:0.0} days ago, over the {snapshot.Policy.MaximumLag.TotalDays:0}-day bound");
                }
                subdirs[key] = new
                {
                    upstreamMissing = published?.Upstream.Missing,
                    upstreamReadAt = published?.Upstream.ReadAt,
                    lastSuccess = status.LastSuccess,
                    lastFailure = status.LastFailure,
                    lastError = status.LastError,
                    publishedAt = published?.PublishedAt,
                    records = published?.Upstream.Repodata.Records.Count,
                    unreadableRecords = published?.Upstream.Repodata.Unreadable,
                    listed = published?.Listed.Count,
                    hidden = status.HiddenByCode,
                };
            }
        }
        var artifacts = health.Get(CondaMirror.Ecosystem);
        if (artifacts.LastIntegrityFailure is { } integrity)
        {
            problems.Add($"conda: an upstream file failed verification at {integrity:O} ({artifacts.ArtifactIntegrityFailures} since start); nothing of it was stored or served");
        }
        var closure = snapshot.Policy.RequiresAllowlist ? closures.Get(CondaMirror.Ecosystem) : null;
        if (closure is not null && closure.Unsatisfied.Count > 0)
        {
            problems.Add($"conda: {closure.Unsatisfied.Count} allowlist dependencies cannot be satisfied (see /api/mirrors/conda/closure)");
        }
        return ValueTask.FromResult(new HealthSection("conda", new
        {
            subdirs,
            artifactFailures = artifacts.ArtifactFailures,
            artifactIntegrityFailures = artifacts.ArtifactIntegrityFailures,
            lastArtifactError = artifacts.LastArtifactError,
            closure = closure is null ? null : new { computedAt = closure.ComputedAt, packages = closure.Packages.Count, unsatisfied = closure.Unsatisfied.Count },
        }, problems));
    }
}
