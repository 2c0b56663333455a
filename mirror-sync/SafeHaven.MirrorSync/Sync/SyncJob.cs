using Microsoft.Extensions.Logging;
using Quartz;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// The scheduled (or API-requested) sync of one ecosystem, named in the trigger's data. Runs of one ecosystem never
/// overlap (<see cref="SyncRunner"/> refuses a second); a failure is recorded in <see cref="SyncStateStore"/> and logged,
/// and the last published snapshot stays current.
/// </summary>
public sealed class SyncJob(SyncRunner runner, ILogger<SyncJob> logger) : IJob
{
    public static readonly JobKey Key = new("snapshot-sync", "mirror-sync");

    public const string EcosystemEntry = "ecosystem";
    public const string TriggerEntry = "trigger";

    public static string TriggerName(string ecosystem) => $"snapshot-sync-{ecosystem}";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        var ecosystem = data.TryGetValue(EcosystemEntry, out var e) ? e as string : null;
        var trigger = data.TryGetValue(TriggerEntry, out var t) && t is string s ? s : "schedule";
        if (ecosystem is null)
        {
            logger.LogError("Snapshot sync triggered without an ecosystem");
            return;
        }
        try
        {
            await runner.RunAsync(ecosystem, trigger, cancellationToken).ConfigureAwait(false);
        }
        catch (SyncAlreadyRunningException)
        {
            logger.LogInformation("{Ecosystem}: a sync is already running; this {Trigger} run is skipped", ecosystem, trigger);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Recorded by the runner (SyncStateStore, log); nothing else to do until the next fire.
        }
    }
}
