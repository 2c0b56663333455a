using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;

namespace SafeHaven.MirrorSync.Jobs;

/// <summary>
/// Keeps every cached index within the staleness bound even when nobody asks for it: documents older than a
/// quarter of <c>MaximumLagDays</c> (and older than their TTL) are re-read from upstream. Each document is
/// replaced whole, and a failed read keeps the last good copy, whose age then shows on <c>/healthz</c>.
/// </summary>
[DisallowConcurrentExecution]
public sealed class IndexRefreshJob(
    IEnumerable<IMirrorEcosystem> mirrors,
    IIndexCacheStore store,
    IOptionsMonitor<SafeHavenOptions> options,
    TimeProvider time,
    ILogger<IndexRefreshJob> logger) : IJob
{
    public static readonly JobKey Key = new("index-refresh", "mirror-sync");

    /// <summary>Upper bound on documents re-read per run, so one run cannot flood the upstream.</summary>
    public const int BatchSize = 500;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        foreach (var mirror in mirrors)
        {
            var ttl = TimeSpan.FromSeconds(settings.Mirrors.TryGetValue(mirror.Ecosystem, out var m) ? m.IndexTtlSeconds : 600);
            var refreshAge = TimeSpan.FromTicks(Math.Max(ttl.Ticks, TimeSpan.FromDays(settings.Policy.MaximumLagDays).Ticks / 4));
            var keys = await store.ListFetchedBeforeAsync(mirror.Ecosystem, time.GetUtcNow() - refreshAge, BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var key in keys)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await mirror.RefreshAsync(key, cancellationToken).ConfigureAwait(false);
            }
            if (keys.Count > 0)
            {
                logger.LogInformation("Refreshed {Count} {Ecosystem} index documents older than {Age}", keys.Count, mirror.Ecosystem, refreshAge);
            }
        }
    }
}
