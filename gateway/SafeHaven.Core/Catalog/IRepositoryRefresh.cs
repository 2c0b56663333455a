namespace SafeHaven.Core.Catalog;

/// <summary>
/// A mirror whose upstream is re-read and re-published whole on a schedule (apt: every suite of every repository
/// verified, filtered and re-signed, then swapped in). The scheduled job runs it once at start, which readiness waits
/// for, then every <see cref="Interval"/>; two runs of one mirror never overlap.
/// </summary>
public interface IRepositoryRefresh
{
    /// <summary>The configuration key of the ecosystem (apt).</summary>
    string Ecosystem { get; }

    /// <summary>Time between two runs (<c>SafeHaven:Mirrors:&lt;ecosystem&gt;:IndexTtlSeconds</c>).</summary>
    TimeSpan Interval { get; }

    /// <summary>What <c>/readyz</c> names as missing until the first run ends, in success or failure.</summary>
    string ReadinessKey { get; }

    /// <summary>
    /// Re-reads and re-publishes everything. A failure keeps the last published state and is recorded for
    /// <c>/healthz</c>. The first call also loads what was published before a restart.
    /// </summary>
    Task RefreshAllAsync(CancellationToken cancellationToken);
}
