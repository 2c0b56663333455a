namespace SafeHaven.Gateway.Health;

/// <summary>
/// The refresh state of one upstream index a whole-index mirror re-reads (an apt suite, a conda subdir), for
/// <c>/healthz</c>: the last success, the last failure and its reason.
/// </summary>
public class RefreshStatus
{
    public DateTimeOffset? LastSuccess { get; set; }
    public DateTimeOffset? LastFailure { get; set; }
    public string? LastError { get; set; }

    /// <summary>The last attempt failed: a failure and no success since.</summary>
    public bool Failing => IsFailing(LastSuccess, LastFailure);

    /// <summary>The rule every health section uses: failing when the last failure is newer than the last success.</summary>
    public static bool IsFailing(DateTimeOffset? lastSuccess, DateTimeOffset? lastFailure) =>
        lastFailure is { } failure && (lastSuccess is null || failure > lastSuccess);
}
