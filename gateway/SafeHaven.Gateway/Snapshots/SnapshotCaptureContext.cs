using System.Collections.Concurrent;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// Marks the requests of one snapshot capture (flows with the async context of the capture). The upstream document
/// cache asks it whether a document was already revalidated in this capture: the first time, it revalidates the
/// document with upstream (a conditional GET with its ETag: the incremental refresh) instead of trusting its TTL, so
/// a snapshot is as fresh as the moment it was taken; later requests of the same capture use the revalidated copy.
/// </summary>
public sealed class SnapshotCaptureContext
{
    private static readonly AsyncLocal<SnapshotCaptureContext?> CurrentContext = new();

    private readonly ConcurrentDictionary<string, byte> _revalidated = new(StringComparer.Ordinal);

    private SnapshotCaptureContext(string ecosystem) => Ecosystem = ecosystem;

    /// <summary>The capture this async flow belongs to, or null outside captures.</summary>
    public static SnapshotCaptureContext? Current => CurrentContext.Value;

    /// <summary>The ecosystem being captured.</summary>
    public string Ecosystem { get; }

    /// <summary>How many upstream documents this capture revalidated.</summary>
    public int Revalidated => _revalidated.Count;

    /// <summary>Marks the current async flow (and what it starts) as a capture of <paramref name="ecosystem"/> until disposed.</summary>
    public static IDisposable Begin(string ecosystem)
    {
        var previous = CurrentContext.Value;
        CurrentContext.Value = new SnapshotCaptureContext(ecosystem);
        return new Scope(previous);
    }

    /// <summary>
    /// True the first time a capture asks about a document (it must be revalidated with upstream now), false after.
    /// Outside captures: false.
    /// </summary>
    public static bool ShouldRevalidate(string ecosystem, string key) =>
        CurrentContext.Value is { } capture && capture._revalidated.TryAdd(ecosystem + "\n" + key, 0);

    private sealed class Scope(SnapshotCaptureContext? previous) : IDisposable
    {
        public void Dispose() => CurrentContext.Value = previous;
    }
}
