using System.Collections.Concurrent;

namespace SafeHaven.Gateway.Health;

/// <summary>What the health endpoint reports per mirror: the last upstream success and failure.</summary>
public sealed class MirrorHealth
{
    private readonly ConcurrentDictionary<string, MirrorStatus> _status = new(StringComparer.OrdinalIgnoreCase);

    public MirrorStatus Get(string ecosystem) => _status.GetOrAdd(ecosystem, _ => new MirrorStatus());

    public IReadOnlyDictionary<string, MirrorStatus> All => _status;
}

public sealed class MirrorStatus
{
    private readonly Lock _lock = new();

    public DateTimeOffset? LastSuccess { get; private set; }
    public DateTimeOffset? LastFailure { get; private set; }
    public string? LastError { get; private set; }
    public long StaleResponses => Interlocked.Read(ref _staleResponses);
    private long _staleResponses;

    public void RecordSuccess(DateTimeOffset at)
    {
        lock (_lock)
        {
            LastSuccess = at;
        }
    }

    public void RecordFailure(DateTimeOffset at, string error)
    {
        lock (_lock)
        {
            LastFailure = at;
            LastError = error;
        }
    }

    public void RecordStaleResponse() => Interlocked.Increment(ref _staleResponses);
}
