using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.MirrorSync.GarbageCollection;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// After a publish: snapshots older than <c>SafeHaven:Snapshots:RetentionDays</c> are forgotten, except the newest
/// <c>KeepAtLeast</c> and the current one. A forgotten snapshot is first written to the garbage collector's list (so
/// its blobs can be reclaimed), then deleted from the store; its dated and id URLs stop answering.
/// </summary>
public sealed class SnapshotRetention(
    ISnapshotStore store, ForgottenSnapshots forgotten, IOptionsMonitor<SafeHavenOptions> options, TimeProvider time, ILogger<SnapshotRetention> logger)
{
    /// <summary>The snapshots of <paramref name="ecosystem"/> the rules forget now (newest first in the store's order).</summary>
    public static IReadOnlyList<SnapshotRecord> Expired(IReadOnlyList<SnapshotRecord> newestFirst, string? currentId, SnapshotOptions rules, DateTimeOffset now)
    {
        var cutoff = now - TimeSpan.FromDays(rules.RetentionDays);
        return newestFirst
            .Skip(rules.KeepAtLeast)
            .Where(r => r.Id != currentId && r.CreatedAt < cutoff)
            .ToList();
    }

    public async Task<IReadOnlyList<SnapshotRecord>> ApplyAsync(string ecosystem, CancellationToken cancellationToken)
    {
        var all = await store.ListAsync(ecosystem, cancellationToken).ConfigureAwait(false);
        var current = await store.GetCurrentAsync(ecosystem, cancellationToken).ConfigureAwait(false);
        var expired = Expired(all, current?.Id, options.CurrentValue.Snapshots, time.GetUtcNow());
        foreach (var record in expired)
        {
            await forgotten.AddAsync(record.Ecosystem, record.Id, cancellationToken).ConfigureAwait(false);
            await store.DeleteAsync(record.Ecosystem, record.Id, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("{Ecosystem} snapshot {Id} of {CreatedAt:O} forgotten (retention); `safehaven sync gc` reclaims its blobs", ecosystem, record.Id, record.CreatedAt);
        }
        return expired;
    }
}
