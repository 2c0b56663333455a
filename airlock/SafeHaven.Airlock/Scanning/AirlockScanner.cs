using Microsoft.Extensions.Logging;
using SafeHaven.Airlock.Submissions;

namespace SafeHaven.Airlock.Scanning;

/// <summary>Nudges the scan job to look for pending inspections now rather than at its next poll.</summary>
public interface IScanTrigger
{
    Task PokeAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Runs pending inspections off the request path: first the watchdog (a submission in <c>scanning</c> past
/// <c>SafeHaven:Airlock:ScanTimeoutSeconds</c> becomes <c>failed</c>), then, while a slot is free
/// (<c>SafeHaven:Airlock:MaxConcurrentScans</c>), claims the oldest pending submission in <see cref="ScanClaims"/>,
/// renews the claim while it inspects, and drops it at the end. Every worker of this process is
/// <see cref="Owner"/> (<c>{node}/{run}</c>); on its first run it drops the claims an earlier run of the same node
/// left behind, so a restart resumes their inspections at once. Called by <see cref="AirlockScanJob"/>.
/// </summary>
public sealed partial class AirlockScanner
{
    private readonly AirlockWorkflow _workflow;
    private readonly ScanClaims _claims;
    private readonly ILogger<AirlockScanner> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _lease;
    private readonly string _node;
    private readonly CancellationToken _stopping;
    private int _started;
    private int _wanted;

    public AirlockScanner(AirlockWorkflow workflow, ScanClaims claims, AirlockOptions options, ILogger<AirlockScanner> logger, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        _workflow = workflow;
        _claims = claims;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxConcurrentScans);
        _lease = TimeSpan.FromSeconds(options.ScanLeaseSeconds);
        _node = string.IsNullOrWhiteSpace(options.ScanWorkerId) ? Environment.MachineName : options.ScanWorkerId;
        _stopping = stopping;
        Owner = $"{_node}/{Guid.NewGuid():N}";
    }

    /// <summary>This process's claim owner: <c>{node}/{run}</c>.</summary>
    public string Owner { get; }

    /// <summary>
    /// The watchdog, then pending inspections until none is left or no slot is free. Returns how many it ran.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        var stopping = linked.Token;
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            var released = await _claims.ReleaseNodeAsync(_node, Owner, stopping).ConfigureAwait(false);
            if (released > 0)
            {
                LogReleased(_logger, released, _node);
            }
        }
        foreach (var id in await _workflow.FailOverdueScansAsync(stopping).ConfigureAwait(false))
        {
            await _claims.ForgetAsync(id, CancellationToken.None).ConfigureAwait(false);
            LogTimedOut(_logger, id);
        }
        // _wanted: someone asked for a look since the last empty claim. A run that finds every slot busy leaves it set,
        // so the run holding a slot looks again after it finds nothing, instead of the request waiting for the next poll.
        Volatile.Write(ref _wanted, 1);
        var ran = 0;
        var tried = new HashSet<string>(StringComparer.Ordinal);
        while (!stopping.IsCancellationRequested && Volatile.Read(ref _wanted) == 1 && await _slots.WaitAsync(0, stopping).ConfigureAwait(false))
        {
            try
            {
                Volatile.Write(ref _wanted, 0);
                if (await _claims.ClaimNextAsync(Owner, _lease, stopping).ConfigureAwait(false) is { } claim)
                {
                    if (!tried.Add(claim.SubmissionId))
                    {
                        // Back again in the same run: its inspection stopped without a verdict. Leave it to the next run.
                        await _claims.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
                        break;
                    }
                    await ScanAsync(claim, stopping).ConfigureAwait(false);
                    ran++;
                    Volatile.Write(ref _wanted, 1);
                }
            }
            finally
            {
                _slots.Release();
            }
        }
        return ran;
    }

    private async Task ScanAsync(ScanClaim claim, CancellationToken stopping)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var stopRenewing = new CancellationTokenSource();
        var renewing = RenewAsync(claim, abandon, stopRenewing.Token);
        try
        {
            var settled = await _workflow.InspectAsync(claim.SubmissionId, Owner, abandon.Token).ConfigureAwait(false);
            LogSettled(_logger, claim.SubmissionId, SubmissionStates.Name(settled.State));
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            LogAbandoned(_logger, claim.SubmissionId, stopping.IsCancellationRequested ? "the appliance is stopping" : "its claim lapsed and was taken over");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The inspection records its own failures; this is the store failing under it. The claim is dropped below,
            // so the next run retries, and the watchdog bounds how long that can go on.
            LogError(_logger, claim.SubmissionId, e);
        }
        finally
        {
            await stopRenewing.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            await _claims.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Renews the claim every third of the lease; when it is lost, abandons the inspection.</summary>
    private async Task RenewAsync(ScanClaim claim, CancellationTokenSource abandon, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_lease / 3, stop).ConfigureAwait(false);
                if (!await _claims.RenewAsync(claim, _lease, stop).ConfigureAwait(false))
                {
                    await abandon.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A renewal that cannot reach the store: the lease may lapse; stop rather than inspect twice.
            LogError(_logger, claim.SubmissionId, e);
            await abandon.CancelAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Airlock scan: {Count} inspection(s) of an earlier run of {Node} resume")]
    private static partial void LogReleased(ILogger logger, int count, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Airlock scan: submission {Id} was scanning past the timeout and is now failed")]
    private static partial void LogTimedOut(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Airlock scan: submission {Id} is {State}")]
    private static partial void LogSettled(ILogger logger, string id, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Airlock scan: inspection of {Id} stopped without a verdict ({Why}); it resumes on a later run")]
    private static partial void LogAbandoned(ILogger logger, string id, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Airlock scan: submission {Id}")]
    private static partial void LogError(ILogger logger, string id, Exception exception);
}
