using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// The apt section of <c>/healthz</c>: per suite, the upstream <c>Release</c> last verified, the tree published and
/// their ages, the last refresh failure; degraded when a suite was never published, when its last refresh failed
/// (the last good tree is still served, and its age is shown), when what is served is older than
/// <c>MaximumLagDays</c>, when an upstream <c>.deb</c> failed verification, or when allowlist dependencies cannot be met.
/// </summary>
public sealed class AptHealth(AptMirror mirror, TierPolicyProvider policy, AllowlistClosureRegistry closures, MirrorHealth health, TimeProvider time) : IHealthContributor
{
    public ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var snapshot = policy.Current;
        var problems = new List<string>();
        var suites = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var repository in mirror.Repositories.Values)
        {
            var view = mirror.View(repository.Name);
            foreach (var suite in repository.Suites)
            {
                var key = AptSuiteKey.Of(repository.Name, suite);
                var status = mirror.Status[key];
                var published = view?.Suites.GetValueOrDefault(suite);
                if (published is null)
                {
                    problems.Add($"apt {key}: nothing published yet{(status.LastError is { } e ? ": " + e : "")}");
                }
                else if (status.Failing)
                {
                    problems.Add($"apt {key}: the last refresh failed at {status.LastFailure:O} ({status.LastError}); serving the tree published {(now - published.PublishedAt).TotalHours:0.#} hours ago from upstream's Release of {published.UpstreamDate:O}");
                }
                if (published is not null && now - published.UpstreamDate > snapshot.Policy.MaximumLag)
                {
                    problems.Add($"apt {key}: the upstream Release served is {(now - published.UpstreamDate).TotalDays:0.0} days old, over the {snapshot.Policy.MaximumLag.TotalDays:0}-day bound");
                }
                suites[key] = new
                {
                    upstreamDate = status.UpstreamDate,
                    upstreamSigner = status.Signer,
                    lastSuccess = status.LastSuccess,
                    lastFailure = status.LastFailure,
                    lastError = status.LastError,
                    publishedAt = published?.PublishedAt,
                    publishedAgeSeconds = published is null ? (double?)null : (now - published.PublishedAt).TotalSeconds,
                    publishedUpstreamDate = published?.UpstreamDate,
                    validUntil = published?.ValidUntil,
                    listed = published?.Listed,
                };
            }
        }
        var artifacts = health.Get(AptMirror.Ecosystem);
        if (artifacts.LastIntegrityFailure is { } integrity)
        {
            problems.Add($"apt: an upstream .deb failed verification at {integrity:O} ({artifacts.ArtifactIntegrityFailures} since start); nothing of it was stored or served");
        }
        var closure = snapshot.Policy.RequiresAllowlist ? closures.Get(AptMirror.Ecosystem) : null;
        if (closure is not null && closure.Unsatisfied.Count > 0)
        {
            problems.Add($"apt: {closure.Unsatisfied.Count} allowlist dependencies cannot be satisfied (see /api/mirrors/apt/closure)");
        }
        var selection = mirror.Selection;
        return ValueTask.FromResult(new HealthSection("apt", new
        {
            suites,
            hidden = selection?.HiddenByCode,
            notListedForDependencies = selection?.Broken.Take(50),
            artifactFailures = artifacts.ArtifactFailures,
            artifactIntegrityFailures = artifacts.ArtifactIntegrityFailures,
            lastArtifactError = artifacts.LastArtifactError,
            closure = closure is null ? null : new { computedAt = closure.ComputedAt, packages = closure.Packages.Count, unsatisfied = closure.Unsatisfied.Count },
        }, problems));
    }
}
