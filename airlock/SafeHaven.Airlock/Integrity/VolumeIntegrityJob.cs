using Microsoft.Extensions.Logging;
using Quartz;

namespace SafeHaven.Airlock.Integrity;

/// <summary>Where integrity results go (an alert, the audit log); the workflow supplies the real one.</summary>
public interface IIntegrityMismatchSink
{
    Task RecordAsync(IntegrityReport report, CancellationToken cancellationToken);
}

/// <summary>The scheduled re-verification of every stored volume. Scheduling and alerting are wired by the host.</summary>
[DisallowConcurrentExecution]
public sealed partial class VolumeIntegrityJob(VolumeIntegrityVerifier verifier, IIntegrityMismatchSink sink, ILogger<VolumeIntegrityJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var report = await verifier.VerifyAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var mismatch in report.Mismatches)
        {
            LogMismatch(logger, mismatch.Reason);
        }
        LogDone(logger, report.VolumesChecked, report.FilesChecked, report.BytesChecked, report.Mismatches.Count);
        await sink.RecordAsync(report, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Airlock integrity: {Reason}")]
    private static partial void LogMismatch(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Airlock integrity: {Volumes} volumes, {Files} files, {Bytes} bytes re-hashed, {Mismatches} mismatches")]
    private static partial void LogDone(ILogger logger, int volumes, int files, long bytes, int mismatches);
}
