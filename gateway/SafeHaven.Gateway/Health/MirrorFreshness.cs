using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Health;

/// <summary>
/// How fresh a mirror is: the age of its oldest cached upstream index against the tier's staleness bound
/// (<c>MaximumLagDays</c>). One rule for <c>/healthz</c> and the web application's mirror page, so both say the same.
/// </summary>
public sealed record MirrorFreshness(DateTimeOffset? OldestIndexFetchedAt, double? OldestIndexAgeDays, double MaximumLagDays)
{
    /// <summary>True when the oldest cached index is older than the bound: the mirror may serve what upstream withdrew.</summary>
    public bool LagExceeded => OldestIndexAgeDays > MaximumLagDays;

    public static async Task<MirrorFreshness> ReadAsync(string ecosystem, IIndexCacheStore store, PolicySnapshot snapshot, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var oldest = await store.GetOldestFetchAsync(ecosystem, cancellationToken).ConfigureAwait(false);
        return new MirrorFreshness(oldest, oldest is null ? null : (now - oldest.Value).TotalDays, snapshot.Policy.MaximumLag.TotalDays);
    }
}
