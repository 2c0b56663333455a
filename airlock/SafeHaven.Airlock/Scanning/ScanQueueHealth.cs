using System.Globalization;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Airlock.Scanning;

/// <summary>
/// The <c>airlock-scans</c> section of <c>/healthz</c>: how many submissions wait for inspection and how many are being
/// inspected. A submission that has waited longer than <c>SafeHaven:Airlock:ScanTimeoutSeconds</c> without its
/// inspection starting is a problem (the appliance is <c>degraded</c>): the scan job is not running, or cannot keep up
/// with <c>SafeHaven:Airlock:MaxConcurrentScans</c>.
/// </summary>
public sealed class ScanQueueHealth(ScanClaims claims, AirlockOptions options, TimeProvider? time = null) : IHealthContributor
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var queue = await claims.QueueAsync(cancellationToken).ConfigureAwait(false);
        var timeout = TimeSpan.FromSeconds(options.ScanTimeoutSeconds);
        var problems = new List<string>();
        if (queue.OldestWaitingSince is { } since && _time.GetUtcNow() - since > timeout)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"airlock-scans: {queue.Waiting} submission(s) wait for inspection, the oldest since {since:O}, longer than the scan timeout of {timeout.TotalSeconds:0} s: is the scan job running, and is SafeHaven:Airlock:MaxConcurrentScans ({options.MaxConcurrentScans}) enough?"));
        }
        return new HealthSection("airlock-scans",
            new { waiting = queue.Waiting, scanning = queue.Scanning, oldestWaitingSince = queue.OldestWaitingSince, options.MaxConcurrentScans, scanTimeoutSeconds = options.ScanTimeoutSeconds },
            problems);
    }
}
