using SafeHaven.Airlock.Integrity;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Volumes;

namespace SafeHaven.Airlock.Api;

/// <summary>
/// Where the scheduled re-verification reports: every mismatch becomes an alert (error log and <c>airlock.alert</c>
/// audit entry); the latest report is kept for <c>/healthz</c>, which says <c>degraded</c> while it has mismatches.
/// </summary>
public sealed class AirlockIntegrityStatus(AirlockAlerts alerts, IVolumeStore volumes) : IIntegrityMismatchSink
{
    private volatile IntegrityReport? _last;

    public IntegrityReport? Last => _last;

    public async Task RecordAsync(IntegrityReport report, CancellationToken cancellationToken)
    {
        _last = report;
        foreach (var mismatch in report.Mismatches)
        {
            var volume = await volumes.GetAsync(mismatch.VolumeId, cancellationToken).ConfigureAwait(false);
            var project = volume?.WorkPackage.Split('/')[0];
            await alerts.RaiseAsync("integrity-mismatch", $"airlock-volume/{mismatch.VolumeId}", project,
                $"Stored file changed: {mismatch.Reason}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The <c>airlock</c> section of <c>/healthz</c>, and the problems it adds.</summary>
    public (object Section, IReadOnlyList<string> Problems) Health()
    {
        var last = _last;
        var problems = last is null ? [] : last.Mismatches.Select(m => "airlock: " + m.Reason).ToList();
        return (new
        {
            integrityCheckedAt = last?.CheckedAt,
            volumesChecked = last?.VolumesChecked,
            filesChecked = last?.FilesChecked,
            bytesChecked = last?.BytesChecked,
            mismatches = last?.Mismatches.Select(m => new { volumeId = m.VolumeId, path = m.Path, expectedSha256 = m.ExpectedSha256.Hex, actualSha256 = m.ActualSha256?.Hex, reason = m.Reason }).ToList(),
        }, problems);
    }
}
