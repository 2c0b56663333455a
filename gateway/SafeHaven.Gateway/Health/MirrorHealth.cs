using System.Collections.Concurrent;

namespace SafeHaven.Gateway.Health;

/// <summary>What the health endpoint reports per mirror: upstream reads, artifact fetches and what the tier hides.</summary>
public sealed class MirrorHealth
{
    private readonly ConcurrentDictionary<string, MirrorStatus> _status = new(StringComparer.OrdinalIgnoreCase);

    public MirrorStatus Get(string ecosystem) => _status.GetOrAdd(ecosystem, _ => new MirrorStatus());

    public IReadOnlyDictionary<string, MirrorStatus> All => _status;
}

/// <summary>How many of one package's upstream versions (or files) the mirror shows, and how many it hides for each reason code.</summary>
public sealed record PackageCoverage(int Upstream, IReadOnlyDictionary<string, int> HiddenByCode);

/// <summary>The sum of <see cref="PackageCoverage"/> over every package a mirror has looked at.</summary>
public sealed record CoverageTotals(long Packages, long Upstream, IReadOnlyDictionary<string, long> HiddenByCode);

public sealed class MirrorStatus
{
    /// <summary>How many distinct package decisions are remembered for log-once before the memory is cleared.</summary>
    private const int MaximumRememberedDecisions = 200_000;

    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, PackageCoverage> _coverage = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _loggedDecisions = new(StringComparer.Ordinal);
    private long _staleResponses;
    private long _artifactFailures;
    private long _artifactIntegrityFailures;
    private long _replacedFiles;

    public DateTimeOffset? LastSuccess { get; private set; }
    public DateTimeOffset? LastFailure { get; private set; }
    public string? LastError { get; private set; }
    public long StaleResponses => Interlocked.Read(ref _staleResponses);

    public DateTimeOffset? LastArtifactSuccess { get; private set; }
    public DateTimeOffset? LastArtifactFailure { get; private set; }
    public string? LastArtifactError { get; private set; }
    public DateTimeOffset? LastIntegrityFailure { get; private set; }
    public long ArtifactFailures => Interlocked.Read(ref _artifactFailures);
    public long ArtifactIntegrityFailures => Interlocked.Read(ref _artifactIntegrityFailures);

    /// <summary>Upstream file names seen offering content other than their pinned first copy.</summary>
    public long ReplacedFiles => Interlocked.Read(ref _replacedFiles);
    public DateTimeOffset? LastReplacement { get; private set; }
    public string? LastReplacementError { get; private set; }

    /// <summary>Upstream offered new content under a file name already pinned: refused, and alarmed on /healthz.</summary>
    public void RecordReplacedFile(DateTimeOffset at, string error)
    {
        Interlocked.Increment(ref _replacedFiles);
        lock (_lock)
        {
            LastReplacement = at;
            LastReplacementError = error;
        }
    }

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

    /// <summary>An artifact was fetched from upstream and verified.</summary>
    public void RecordArtifactSuccess(DateTimeOffset at)
    {
        lock (_lock)
        {
            LastArtifactSuccess = at;
        }
    }

    /// <summary>
    /// An artifact fetch failed: upstream unreachable or refusing, or (<paramref name="integrity"/>) the content did
    /// not match what upstream's index or the pinned first download promised.
    /// </summary>
    public void RecordArtifactFailure(DateTimeOffset at, string error, bool integrity)
    {
        Interlocked.Increment(ref _artifactFailures);
        if (integrity)
        {
            Interlocked.Increment(ref _artifactIntegrityFailures);
        }
        lock (_lock)
        {
            LastArtifactFailure = at;
            LastArtifactError = error;
            if (integrity)
            {
                LastIntegrityFailure = at;
            }
        }
    }

    /// <summary>
    /// Records what the tier shows of one package, replacing what was recorded for it before. Mirrors call this
    /// whenever they build a package's view, so <c>/healthz</c> can say what share of upstream is hidden and why.
    /// </summary>
    public void RecordCoverage(string package, PackageCoverage coverage) => _coverage[package] = coverage;

    public CoverageTotals Coverage()
    {
        long packages = 0, upstream = 0;
        var hidden = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var coverage in _coverage.Values)
        {
            packages++;
            upstream += coverage.Upstream;
            foreach (var (code, count) in coverage.HiddenByCode)
            {
                hidden[code] = hidden.GetValueOrDefault(code) + count;
            }
        }
        return new CoverageTotals(packages, upstream, hidden);
    }

    /// <summary>
    /// True the first time a decision (<paramref name="code"/> and <paramref name="reason"/>) is made about a
    /// package, and again only when the decision changes: callers log a decision only when this says so, so the
    /// log holds one line per package and decision, not one per request.
    /// </summary>
    public bool IsNewDecision(string package, string code, string reason)
    {
        var key = package + "\n" + code;
        if (_loggedDecisions.TryGetValue(key, out var previous) && previous == reason)
        {
            return false;
        }
        if (_loggedDecisions.Count >= MaximumRememberedDecisions)
        {
            _loggedDecisions.Clear();
        }
        _loggedDecisions[key] = reason;
        return true;
    }
}
