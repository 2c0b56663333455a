using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Conda.Channels;
using SafeHaven.Gateway.Ecosystems.Conda.Closure;
using SafeHaven.Gateway.Ecosystems.Conda.Publishing;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Ecosystems.Conda.Selection;
using SafeHaven.Gateway.Ecosystems.Conda.Upstream;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Conda;

/// <summary>The refresh state of one upstream subdir, for <c>/healthz</c>.</summary>
public sealed class CondaSubdirStatus : RefreshStatus
{
    public IReadOnlyDictionary<string, int> HiddenByCode { get; set; } = new Dictionary<string, int>();
}

/// <summary>One configured channel's upstream access: its HTTP client and its artifact fetcher.</summary>
public sealed record CondaChannelAccess(CondaChannel Channel, UpstreamHttp Http, ArtifactFetcher Artifacts);

/// <summary>
/// The conda mirror: keeps, per configured channel and subdir, the last upstream <c>repodata.json</c> that was read and
/// checked (<see cref="CondaUpstreamReader"/>, kept on disk, held in memory as compact records), filters it by the one
/// tier policy (<see cref="CondaSelector"/>) and publishes it rendered and compressed (<see cref="CondaPublisher"/>),
/// once per upstream change or policy change, swapped in by reference. A failed refresh keeps the last good state and
/// the last published index; <c>/healthz</c> shows their age.
/// </summary>
public sealed class CondaMirror : IDisposable
{
    public const string Ecosystem = "conda";
    public const string ReadinessKey = "conda indexes (first refresh)";

    private readonly IReadOnlyDictionary<string, CondaChannelAccess> _channels;
    private readonly CondaUpstreamReader _reader;
    private readonly CondaPublisher _publisher;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly ModelApprovals _model;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _indexTtl;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly SemaphoreSlim _publishing = new(1, 1);
    private readonly ConcurrentDictionary<string, CondaSubdirState> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CondaSubdirStatus> _status = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CondaPublishedSubdir> _published = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstRefresh = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _universeFingerprint;
    private int _loaded;

    public CondaMirror(IReadOnlyList<CondaChannelAccess> channels, CondaUpstreamReader reader, CondaPublisher publisher, TierPolicyProvider policy,
        AllowlistClosureRegistry closures, ModelApprovals model, TimeProvider time, ILogger logger, TimeSpan indexTtl)
    {
        _channels = channels.ToDictionary(c => c.Channel.Name, StringComparer.Ordinal);
        _reader = reader;
        _publisher = publisher;
        _policy = policy;
        _closures = closures;
        _model = model;
        _time = time;
        _logger = logger;
        _indexTtl = indexTtl;
        foreach (var access in channels)
        {
            foreach (var subdir in access.Channel.Subdirs)
            {
                _status[access.Channel.Key(subdir)] = new CondaSubdirStatus();
            }
        }
        ClosureSource = new CondaClosureSource(UniverseAsync);
        _closures.Published += OnClosurePublished;
        _policy.Changed += OnPolicyChanged;
    }

    public IReadOnlyDictionary<string, CondaChannelAccess> Channels => _channels;

    public IReadOnlyDictionary<string, CondaSubdirStatus> Status => _status;

    /// <summary>The published index of a subdir, or null before its first publication.</summary>
    public CondaPublishedSubdir? Published(string channel, string subdir) => _published.GetValueOrDefault(channel + "/" + subdir);

    /// <summary>The closure source the allowlist engine resolves conda dependencies with, over what the date policy lets through.</summary>
    public CondaClosureSource ClosureSource { get; }

    /// <summary>Serves what was read before a restart until the first refresh replaces it (each kept upstream index parsed again).</summary>
    public async Task LoadPersistedAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _loaded, 1) != 0)
        {
            return;
        }
        foreach (var access in _channels.Values)
        {
            foreach (var subdir in access.Channel.Subdirs)
            {
                try
                {
                    if (await _reader.LoadAsync(access.Channel, access.Http, subdir, cancellationToken).ConfigureAwait(false) is { } state)
                    {
                        _states[state.Key] = state;
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
                {
                    _logger.LogWarning("conda: the index of {Key} kept before the restart cannot be read, so it waits for the first refresh: {Reason}", access.Channel.Key(subdir), e.Message);
                }
            }
        }
    }

    /// <summary>Re-reads every configured subdir from upstream, then publishes. Failures are recorded per subdir, never thrown.</summary>
    public async Task RefreshAllAsync(CancellationToken cancellationToken)
    {
        await LoadPersistedAsync(cancellationToken).ConfigureAwait(false);
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var access in _channels.Values)
            {
                foreach (var subdir in access.Channel.Subdirs)
                {
                    await RefreshOneAsync(access, subdir, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _refreshing.Release();
            _firstRefresh.TrySetResult();
        }
        await AfterRefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-reads one subdir (key <c>&lt;channel&gt;/&lt;subdir&gt;</c>); other keys are ignored.</summary>
    public async Task RefreshAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !_channels.TryGetValue(key[..slash], out var access) || !access.Channel.Subdirs.Contains(key[(slash + 1)..]))
        {
            return;
        }
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshOneAsync(access, key[(slash + 1)..], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
        await AfterRefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// On a request for an index read longer ago than <c>IndexTtlSeconds</c>: re-reads it (conditionally, so an unchanged
    /// upstream costs one 304) and waits up to <paramref name="wait"/> for it; a slower refresh goes on in the background
    /// and the request gets the index published now.
    /// </summary>
    public async Task RefreshIfStaleAsync(string channel, string subdir, TimeSpan wait, CancellationToken cancellationToken)
    {
        var key = channel + "/" + subdir;
        var read = _states.GetValueOrDefault(key)?.ReadAt;
        if (read is { } at && _time.GetUtcNow() - at < _indexTtl)
        {
            return;
        }
        if (!_refreshing.Wait(0))
        {
            return; // a refresh is under way already; its result is published when it ends
        }
        _refreshing.Release();
        var refresh = Task.Run(async () =>
        {
            try
            {
                await RefreshAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "conda: the on-demand refresh of {Key} failed; the last published index stays in force", key);
            }
        }, CancellationToken.None);
        try
        {
            await refresh.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task RefreshOneAsync(CondaChannelAccess access, string subdir, CancellationToken cancellationToken)
    {
        var key = access.Channel.Key(subdir);
        var status = _status[key];
        try
        {
            var state = await _reader.ReadAsync(access.Channel, access.Http, subdir, _states.GetValueOrDefault(key), cancellationToken).ConfigureAwait(false);
            _states[key] = state;
            status.LastSuccess = _time.GetUtcNow();
        }
        catch (Exception e) when (e is UpstreamUnavailableException or InvalidDataException or IOException)
        {
            status.LastFailure = _time.GetUtcNow();
            status.LastError = e.Message;
            _logger.LogError("conda: refreshing {Key} failed; the last good index stays in force: {Reason}", key, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            status.LastFailure = _time.GetUtcNow();
            status.LastError = $"{e.GetType().Name}: {e.Message}";
            _logger.LogError(e, "conda: refreshing {Key} failed unexpectedly; the last good index stays in force", key);
        }
    }

    private async Task AfterRefreshAsync(CancellationToken cancellationToken)
    {
        var snapshot = _policy.Current;
        if (snapshot.Policy.RequiresAllowlist)
        {
            // The universe the closure is computed over changed: recompute it now rather than at the next scheduled run.
            var fingerprint = IndexFingerprint.Of(_states.Values.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + " " + s.UpstreamSha256));
            if (fingerprint != _universeFingerprint && _closures.Get(Ecosystem) is not null)
            {
                _universeFingerprint = fingerprint;
                await RecomputeClosureAsync(snapshot, cancellationToken).ConfigureAwait(false);
                return; // publishing the closure publishes the subdirs
            }
            _universeFingerprint = fingerprint;
        }
        await PublishAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Computes the allowlist closure and puts it in force (the scheduled closure job does the same on its own schedule).</summary>
    public async Task RecomputeClosureAsync(PolicySnapshot snapshot, CancellationToken cancellationToken)
    {
        _closures.Publish(await _model.BuildClosureAsync(Ecosystem, snapshot, ClosureSource, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false));
    }

    private CondaUniverse? _universe;

    /// <summary>What the date policy lets through in every subdir of every channel, for the closure (rebuilt when either changes).</summary>
    private async ValueTask<CondaUniverse> UniverseAsync(CancellationToken cancellationToken)
    {
        await _firstRefresh.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = _policy.Current;
        var states = _states.Values.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        var fingerprint = IndexFingerprint.Of(states.Select(s => s.Key + " " + s.UpstreamSha256).Append("policy " + snapshot.Generation));
        if (_universe is { } cached && cached.Fingerprint == fingerprint)
        {
            return cached;
        }
        var now = _time.GetUtcNow();
        var universe = CondaUniverse.Build(states, record => CondaSelector.Decide(record, snapshot.Policy, null, applyAllowlist: false, now).Visible,
            _channels.Values.SelectMany(c => c.Channel.Subdirs), fingerprint);
        _universe = universe;
        return universe;
    }

    private void OnClosurePublished(AllowlistClosure closure)
    {
        if (string.Equals(closure.Ecosystem, Ecosystem, StringComparison.OrdinalIgnoreCase))
        {
            PublishInBackground("the allowlist closure changed");
        }
    }

    private void OnPolicyChanged() => PublishInBackground("the policy changed");

    private void PublishInBackground(string why) => _ = Task.Run(async () =>
    {
        try
        {
            if (_firstRefresh.Task.IsCompleted)
            {
                await PublishAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "conda: publishing after {Why} failed; the previous indexes stay in force", why);
        }
    });

    /// <summary>
    /// Filters every subdir by the policy in force and publishes each one whose listing changed. At Tier 3+ nothing is
    /// published before the allowlist closure exists. Run at each refresh, so a quarantine that ended shows.
    /// </summary>
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        await _publishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = _policy.Current;
            var closure = snapshot.Policy.RequiresAllowlist ? _closures.Get(Ecosystem) : null;
            if (snapshot.Policy.RequiresAllowlist && closure is null)
            {
                _logger.LogInformation("conda: tier {Tier}: waiting for the allowlist closure before publishing", snapshot.Policy.Tier);
                return;
            }
            var now = _time.GetUtcNow();
            foreach (var state in _states.Values.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var (listed, hidden) = CondaSelector.Select(state.Repodata.Records, snapshot.Policy, closure, now);
                _status[state.Key].HiddenByCode = hidden;
                var fingerprint = IndexFingerprint.Of(listed.Select(r => $"{r.Filename} {r.Sha256} {r.FirstSeenMs}")
                    .Append($"tier {snapshot.Policy.Tier} upstream {state.UpstreamSha256} removed {state.Repodata.Removed.Count}"));
                if (_published.GetValueOrDefault(state.Key) is { } current && current.Fingerprint == fingerprint)
                {
                    if (!ReferenceEquals(current.Upstream, state))
                    {
                        _published[state.Key] = current with { Upstream = state };
                    }
                    continue;
                }
                var published = await _publisher.PublishAsync(state, listed, fingerprint, snapshot.Policy.Tier, now, cancellationToken).ConfigureAwait(false);
                _published[state.Key] = published;
                _logger.LogInformation("conda: published {Key}: {Listed} of {Records} records listed at tier {Tier} ({Bytes} bytes, {Zst} zstd)",
                    state.Key, listed.Count, state.Repodata.Records.Count, snapshot.Policy.Tier, published.Repodata.Size, published.RepodataZst.Size);
            }
        }
        finally
        {
            _publishing.Release();
        }
    }

    /// <summary>The decision for a file a subdir's upstream has, or null when upstream has no such file.</summary>
    public CondaDecision? Decide(CondaSubdirState state, string filename)
    {
        if (state.ByFilename.Find(filename) is not { } record)
        {
            return null;
        }
        var snapshot = _policy.Current;
        return CondaSelector.Decide(record, snapshot.Policy, snapshot.Policy.RequiresAllowlist ? _closures.Get(Ecosystem) : null, applyAllowlist: true, _time.GetUtcNow());
    }

    public void Dispose()
    {
        _closures.Published -= OnClosurePublished;
        _policy.Changed -= OnPolicyChanged;
        _refreshing.Dispose();
        _publishing.Dispose();
    }
}
