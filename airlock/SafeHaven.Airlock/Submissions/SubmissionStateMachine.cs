namespace SafeHaven.Airlock.Submissions;

/// <summary>Where a submission stands. Wire names are snake_case (<see cref="SubmissionStates.Name"/>).</summary>
public enum SubmissionState
{
    Draft,
    Submitted,
    Scanning,
    InReview,
    Approved,
    Rejected,
    Blocked,
    Cancelled,
    Failed,
    Revoked,
    Expired,
}

/// <summary>What a submission carries: software in, data in (becomes a secure data volume), outputs out.</summary>
public enum SubmissionKind
{
    SoftwareIngress,
    DataIngress,
    Egress,
}

/// <summary>The events that move a submission from one state to another.</summary>
public enum SubmissionTrigger
{
    /// <summary>The depositor marks the transfer complete.</summary>
    Submit,
    /// <summary>Inspection starts (archive listing, hostile-archive checks, virus scan).</summary>
    StartScan,
    ScanPassed,
    ScanBlocked,
    ScanFailed,
    /// <summary>A failed scan is queued again (a scanner timeout is never final).</summary>
    Rescan,
    /// <summary>The last required sign-off is recorded.</summary>
    Approve,
    Reject,
    /// <summary>The depositor's own SHA-256 does not match what the appliance computed.</summary>
    HashMismatch,
    Cancel,
    Revoke,
    /// <summary>The deposit window closed unused.</summary>
    Expire,
}

public sealed record SubmissionTransition(SubmissionState From, SubmissionTrigger Trigger, SubmissionState To);

/// <summary>
/// The workflow as data: every allowed (state, trigger) pair and where it leads. Anything not in
/// <see cref="Transitions"/> is refused with <see cref="AirlockError.WrongState"/> (409). Pure: no I/O.
/// </summary>
public static class SubmissionStateMachine
{
    public static readonly IReadOnlyList<SubmissionTransition> Transitions =
    [
        new(SubmissionState.Draft, SubmissionTrigger.Submit, SubmissionState.Submitted),
        new(SubmissionState.Draft, SubmissionTrigger.Cancel, SubmissionState.Cancelled),
        new(SubmissionState.Draft, SubmissionTrigger.Expire, SubmissionState.Expired),
        new(SubmissionState.Submitted, SubmissionTrigger.StartScan, SubmissionState.Scanning),
        new(SubmissionState.Submitted, SubmissionTrigger.Cancel, SubmissionState.Cancelled),
        new(SubmissionState.Scanning, SubmissionTrigger.ScanPassed, SubmissionState.InReview),
        new(SubmissionState.Scanning, SubmissionTrigger.ScanBlocked, SubmissionState.Blocked),
        new(SubmissionState.Scanning, SubmissionTrigger.ScanFailed, SubmissionState.Failed),
        new(SubmissionState.Failed, SubmissionTrigger.Rescan, SubmissionState.Submitted),
        new(SubmissionState.Failed, SubmissionTrigger.Cancel, SubmissionState.Cancelled),
        new(SubmissionState.InReview, SubmissionTrigger.Approve, SubmissionState.Approved),
        new(SubmissionState.InReview, SubmissionTrigger.Reject, SubmissionState.Rejected),
        new(SubmissionState.InReview, SubmissionTrigger.HashMismatch, SubmissionState.Blocked),
        new(SubmissionState.InReview, SubmissionTrigger.Cancel, SubmissionState.Cancelled),
        new(SubmissionState.Approved, SubmissionTrigger.Revoke, SubmissionState.Revoked),
    ];

    /// <summary>States nothing leaves.</summary>
    public static readonly IReadOnlySet<SubmissionState> Terminal = new HashSet<SubmissionState>
    {
        SubmissionState.Rejected, SubmissionState.Blocked, SubmissionState.Cancelled, SubmissionState.Revoked, SubmissionState.Expired,
    };

    public static bool CanFire(SubmissionState from, SubmissionTrigger trigger) =>
        Transitions.Any(t => t.From == from && t.Trigger == trigger);

    /// <summary>The state <paramref name="trigger"/> leads to from <paramref name="from"/>, or a 409 refusal.</summary>
    public static SubmissionState Next(SubmissionState from, SubmissionTrigger trigger) =>
        Transitions.FirstOrDefault(t => t.From == from && t.Trigger == trigger)?.To
        ?? throw new AirlockWorkflowException(AirlockError.WrongState,
            $"A submission in state '{SubmissionStates.Name(from)}' cannot {SubmissionStates.Name(trigger)}"
            + (Allowed(from) is { Count: > 0 } allowed ? $" (allowed: {string.Join(", ", allowed.Select(SubmissionStates.Name))})." : " (it is final)."));

    public static IReadOnlyList<SubmissionTrigger> Allowed(SubmissionState from) =>
        Transitions.Where(t => t.From == from).Select(t => t.Trigger).ToList();
}

public static class SubmissionStates
{
    /// <summary><c>InReview</c> → <c>in_review</c>.</summary>
    public static string Name<T>(T value) where T : struct, Enum => Snake(value.ToString());

    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        value = default;
        if (string.IsNullOrEmpty(text) || !text.All(c => char.IsAsciiLetterLower(c) || c is '_' or '-'))
        {
            return false;
        }
        return Enum.TryParse(text.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out value);
    }

    private static string Snake(string pascal)
    {
        var text = new System.Text.StringBuilder();
        foreach (var c in pascal)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append('_');
            }
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
