using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Health;

/// <summary>
/// <c>/healthz</c>: liveness plus what an operator must see (index age against <c>MaximumLagDays</c>, upstream
/// errors, closure problems); always 200 while the process runs, with <c>status</c> "degraded" when something needs
/// attention. <c>/readyz</c>: 200 once the appliance can answer clients correctly (at Tier 3+, once every enabled
/// mirror's allowlist closure is computed), else 503.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Hidden-version reasons an operator can act on, so a large share of them degrades the mirror.</summary>
    private static readonly string[] ActionableHiddenCodes = [VersionDecision.NoUploadDate, VersionDecision.Unverifiable];

    private static readonly Dictionary<string, string> ActionableHiddenMeaning = new(StringComparer.Ordinal)
    {
        [VersionDecision.NoUploadDate] = "no upstream date and no first-seen time old enough; they appear once their quarantine has passed",
        [VersionDecision.Unverifiable] = "upstream gives no hash and no trusted signature, so they cannot be verified",
    };

    /// <summary>How long a failed artifact verification keeps <c>/healthz</c> degraded after later fetches succeed.</summary>
    private static readonly TimeSpan IntegrityAlarmWindow = TimeSpan.FromHours(24);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/readyz", (ReadinessState readiness) =>
        {
            var missing = readiness.Missing();
            return missing.Count == 0
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = "not-ready", waitingFor = missing }, statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        app.MapGet("/healthz", async (
            IOptions<SafeHavenOptions> options, TierPolicyProvider policy, MirrorHealth health, IIndexCacheStore store,
            AllowlistClosureRegistry closures, IEnumerable<IHealthContributor> contributors, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var now = time.GetUtcNow();
            var snapshot = policy.Current;
            var degraded = new List<string>();
            var mirrors = new Dictionary<string, object?>();
            foreach (var (ecosystem, mirror) in options.Value.Mirrors.Where(m => m.Value.Enabled && !string.IsNullOrEmpty(m.Value.Upstream)))
            {
                var status = health.Get(ecosystem);
                var freshness = await MirrorFreshness.ReadAsync(ecosystem, store, snapshot, now, cancellationToken).ConfigureAwait(false);
                var (oldest, ageDays) = (freshness.OldestIndexFetchedAt, freshness.OldestIndexAgeDays);
                if (freshness.LagExceeded)
                {
                    degraded.Add($"{ecosystem}: oldest cached index is {ageDays:0.0} days old, over the {snapshot.Policy.MaximumLag.TotalDays:0}-day bound");
                }
                if (RefreshStatus.IsFailing(status.LastSuccess, status.LastFailure))
                {
                    degraded.Add($"{ecosystem}: last upstream request failed at {status.LastFailure:O}: {status.LastError}");
                }
                var closure = closures.Get(ecosystem);
                if (closure is not null && closure.Unsatisfied.Count > 0)
                {
                    degraded.Add($"{ecosystem}: {closure.Unsatisfied.Count} allowlist dependencies cannot be satisfied (see /api/mirrors/{ecosystem}/closure)");
                }
                var coverage = status.Coverage();
                foreach (var code in ActionableHiddenCodes)
                {
                    var hidden = coverage.HiddenByCode.GetValueOrDefault(code);
                    if (coverage.Upstream > 0 && hidden > 0 && hidden >= mirror.DegradedHiddenShare * coverage.Upstream)
                    {
                        degraded.Add($"{ecosystem}: {hidden} of {coverage.Upstream} upstream versions seen are hidden as '{code}' ({100.0 * hidden / coverage.Upstream:0.#} %): {ActionableHiddenMeaning[code]}");
                    }
                }
                if (status.LastArtifactFailure is { } artifactFailure && (status.LastArtifactSuccess is null || artifactFailure > status.LastArtifactSuccess))
                {
                    degraded.Add($"{ecosystem}: the last artifact fetch failed at {artifactFailure:O}: {status.LastArtifactError}");
                }
                else if (status.LastIntegrityFailure is { } integrity && now - integrity < IntegrityAlarmWindow)
                {
                    degraded.Add($"{ecosystem}: an upstream artifact failed verification at {integrity:O} ({status.ArtifactIntegrityFailures} since start); nothing of it was stored or served");
                }
                if (status.LastReplacement is { } replaced && now - replaced < IntegrityAlarmWindow)
                {
                    degraded.Add($"{ecosystem}: {status.ReplacedFiles} published upstream file(s) replaced under the same name since start, the last at {replaced:O}: {status.LastReplacementError}");
                }
                mirrors[ecosystem] = new
                {
                    upstreamLastSuccess = status.LastSuccess,
                    upstreamLastFailure = status.LastFailure,
                    upstreamLastError = status.LastError,
                    staleResponses = status.StaleResponses,
                    oldestIndexFetchedAt = oldest,
                    oldestIndexAgeDays = ageDays is null ? (double?)null : Math.Round(ageDays.Value, 3),
                    maximumLagDays = snapshot.Policy.MaximumLag.TotalDays,
                    artifactLastSuccess = status.LastArtifactSuccess,
                    artifactLastFailure = status.LastArtifactFailure,
                    artifactLastError = status.LastArtifactError,
                    artifactFailures = status.ArtifactFailures,
                    artifactIntegrityFailures = status.ArtifactIntegrityFailures,
                    replacedFiles = status.ReplacedFiles,
                    lastReplacement = status.LastReplacement,
                    coverage = new { packages = coverage.Packages, upstreamVersions = coverage.Upstream, hidden = coverage.HiddenByCode },
                    closure = closure is null ? null : new { computedAt = closure.ComputedAt, packages = closure.Packages.Count, unsatisfied = closure.Unsatisfied.Count },
                };
            }
            var sections = new List<HealthSection>();
            foreach (var contributor in contributors)
            {
                var section = await contributor.ReportAsync(cancellationToken).ConfigureAwait(false);
                sections.Add(section);
                degraded.AddRange(section.Problems);
            }
            var body = new Dictionary<string, object?>
            {
                ["status"] = degraded.Count == 0 ? "healthy" : "degraded",
                ["tier"] = snapshot.Policy.Tier,
                ["problems"] = degraded,
                ["mirrors"] = mirrors,
            };
            foreach (var section in sections)
            {
                body[section.Name] = section.Details;
            }
            return Results.Ok(body);
        });
        return app;
    }
}

/// <summary>One part's section of <c>/healthz</c>: details shown under <see cref="Name"/>, and problems that make it degraded.</summary>
public sealed record HealthSection(string Name, object Details, IReadOnlyList<string> Problems);

/// <summary>A part of the appliance (the airlock, say) that reports on <c>/healthz</c> beside the mirrors.</summary>
public interface IHealthContributor
{
    ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken);
}

/// <summary>What still has to happen before clients can be answered correctly.</summary>
public sealed class ReadinessState
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _pending = new(StringComparer.Ordinal);

    public void Require(string what) => _pending[what] = true;

    public void Complete(string what) => _pending.TryRemove(what, out _);

    public IReadOnlyList<string> Missing() => _pending.Keys.Order(StringComparer.Ordinal).ToList();
}
