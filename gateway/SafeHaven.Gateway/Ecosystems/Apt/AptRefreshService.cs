using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// Creates the appliance's archive key on first start, serves what was published before a restart, then verifies
/// and publishes every suite (the appliance is not ready until that first attempt ends, success or not), and
/// refreshes every <c>SafeHaven:Mirrors:apt:IndexTtlSeconds</c> after. Each suite is also re-read by the scheduled
/// index refresh job (<c>IndexRefreshJob</c>) when its last verified read grows old.
/// </summary>
public sealed class AptRefreshService(AptMirror mirror, AptArchiveKey key, ReadinessState readiness, TimeSpan interval, ILogger<AptRefreshService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Require(AptMirror.ReadinessKey);
        logger.LogInformation("apt: archive signing key {Fingerprint} ({Path})", key.Fingerprint, key.Path);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await mirror.LoadPublishedAsync(stoppingToken).ConfigureAwait(false);
            await mirror.RefreshAllAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "apt: the first refresh failed; nothing new is published until a refresh succeeds");
        }
        finally
        {
            readiness.Complete(AptMirror.ReadinessKey);
        }
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await mirror.RefreshAllAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "apt: the scheduled refresh failed; the last published trees stay in force");
            }
        }
    }
}
