using Microsoft.Extensions.Logging;
using SafeHaven.Core.Catalog;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// The apt mirror as the scheduled repository refresh (<c>RepositoryRefreshJob</c>) runs it: the first run serves what
/// was published before a restart, then verifies and publishes every suite (the appliance is not ready until that
/// first run ends, success or not); later runs, every <c>SafeHaven:Mirrors:apt:IndexTtlSeconds</c>, do the same again.
/// </summary>
public sealed class AptScheduledRefresh(AptMirror mirror, AptArchiveKey key, TimeSpan interval, ILogger<AptScheduledRefresh> logger) : IRepositoryRefresh
{
    private int _started;

    public string Ecosystem => AptMirror.Ecosystem;

    public TimeSpan Interval => interval;

    public string ReadinessKey => AptMirror.ReadinessKey;

    public async Task RefreshAllAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            logger.LogInformation("apt: archive signing key {Fingerprint} ({Path})", key.Fingerprint, key.Path);
            await mirror.LoadPublishedAsync(cancellationToken).ConfigureAwait(false);
        }
        await mirror.RefreshAllAsync(cancellationToken).ConfigureAwait(false);
    }
}
