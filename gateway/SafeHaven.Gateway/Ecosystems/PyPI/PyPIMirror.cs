using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The answer to "what may a client see of this project now".</summary>
public abstract record ProjectLookup
{
    /// <summary>The project and its view; <paramref name="StaleReason"/> is set when upstream could not be re-read.</summary>
    public sealed record Found(PyPIProjectView View, string? StaleReason) : ProjectLookup;

    /// <summary>The tier hides the whole project.</summary>
    public sealed record Hidden(string Reason) : ProjectLookup;

    /// <summary>Upstream has no such project.</summary>
    public sealed record NotFound(string Reason) : ProjectLookup;

    /// <summary>Nothing can be served: upstream is down and nothing is cached, or the tier's closure is not ready.</summary>
    public sealed record Unavailable(string Reason) : ProjectLookup;
}

/// <summary>Settings of the PyPI mirror resolved at start.</summary>
public sealed record PyPIMirrorSettings(Uri Upstream, TimeSpan IndexTtl, TimeSpan FailureBackoff);

/// <summary>
/// The read-through PyPI mirror: upstream project pages fetched on demand, cached durably (last good copy kept),
/// refreshed after their TTL with one upstream request however many clients ask, and filtered by the tier.
/// </summary>
public sealed class PyPIMirror
{
    public const string Ecosystem = "pypi";
    private const string UpstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";
    private const string RootKey = "/";

    private readonly UpstreamHttp _upstream;
    private readonly IIndexCacheStore _store;
    private readonly IMemoryCache _memory;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly MirrorStatus _health;
    private readonly TimeProvider _time;
    private readonly ILogger<PyPIMirror> _logger;
    private readonly PyPIMirrorSettings _settings;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<string, Lazy<Task<DocumentOutcome>>> _refreshing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, string Reason)> _backoff = new(StringComparer.Ordinal);

    public PyPIMirror(
        UpstreamHttp upstream, IIndexCacheStore store, IMemoryCache memory, TierPolicyProvider policy, AllowlistClosureRegistry closures,
        MirrorHealth health, TimeProvider time, ILogger<PyPIMirror> logger, PyPIMirrorSettings settings, IHostApplicationLifetime lifetime)
    {
        _upstream = upstream;
        _store = store;
        _memory = memory;
        _policy = policy;
        _closures = closures;
        _health = health.Get(Ecosystem);
        _time = time;
        _logger = logger;
        _settings = settings;
        _stopping = lifetime.ApplicationStopping;
    }

    public UpstreamHttp Upstream => _upstream;

    public PolicySnapshot Policy => _policy.Current;

    /// <summary>
    /// The project as the tier lets clients see it now. With <paramref name="applyAllowlist"/> false, the
    /// allowlist is not consulted (the closure computation itself needs that view); the quarantine still applies.
    /// </summary>
    public async Task<ProjectLookup> GetProjectAsync(string normalizedName, CancellationToken cancellationToken, bool applyAllowlist = true)
    {
        var policy = _policy.Current;
        AllowlistClosure? closure = null;
        if (applyAllowlist && policy.Policy.RequiresAllowlist)
        {
            closure = _closures.Get(Ecosystem);
            if (closure is null)
            {
                return new ProjectLookup.Unavailable($"tier {policy.Policy.Tier}: the allowlist closure is still being computed");
            }
            if (!closure.Contains(normalizedName))
            {
                return new ProjectLookup.Hidden(
                    $"tier {policy.Policy.Tier}: '{normalizedName}' is not on the approved list nor a dependency of an approved package");
            }
        }

        var outcome = await GetStateAsync(normalizedName, cancellationToken).ConfigureAwait(false);
        if (outcome.State is not { } state)
        {
            return outcome.NotFound
                ? new ProjectLookup.NotFound($"upstream has no project '{normalizedName}'")
                : new ProjectLookup.Unavailable(outcome.StaleReason ?? "upstream unavailable");
        }

        var now = _time.GetUtcNow();
        var viewKey = (closure is null ? "pypi-view-all:" : "pypi-view:") + normalizedName;
        if (!_memory.TryGetValue(viewKey, out PyPIProjectView? view)
            || view is null || !ReferenceEquals(view.State, state) || view.PolicyGeneration != policy.Generation
            || !ReferenceEquals(view.Closure, closure) || now >= view.ValidUntil)
        {
            view = new PyPIProjectView(state, policy, closure, now);
            _memory.Set(viewKey, view, new MemoryCacheEntryOptions { Size = state.EstimatedSize * 4 });
        }
        return new ProjectLookup.Found(view, outcome.StaleReason);
    }

    /// <summary>The names a client may list at the root index, and the stale reason if upstream could not be re-read.</summary>
    public async Task<(IReadOnlyList<string>? Names, string? StaleOrError)> GetProjectNamesAsync(CancellationToken cancellationToken)
    {
        var policy = _policy.Current;
        if (policy.Policy.RequiresAllowlist)
        {
            var closure = _closures.Get(Ecosystem);
            return closure is null
                ? (null, "the allowlist closure is still being computed")
                : (closure.Packages.Order(StringComparer.Ordinal).ToList(), null);
        }
        var outcome = await GetDocumentAsync(RootKey, ParseRootDocument, cancellationToken).ConfigureAwait(false);
        return outcome.Document is PyPIProjectList list ? (list.Names, outcome.StaleReason) : (null, outcome.StaleReason ?? "upstream has no root index");
    }

    /// <summary>Re-reads a cached document from upstream now (used by the scheduled refresh).</summary>
    public async Task RefreshNowAsync(string key, CancellationToken cancellationToken)
    {
        _memory.Remove("pypi-doc:" + key);
        var stored = await _store.GetAsync(Ecosystem, key, cancellationToken).ConfigureAwait(false);
        Func<string, CachedIndex, object> parse = key == RootKey ? ParseRootDocument : ParseProjectDocument;
        var cached = stored is null ? null : new CachedDocument(parse(key, stored), stored.FetchedAt, stored.UpstreamETag, stored.Content.Length);
        await RefreshAsync(key, cached, parse).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record StateOutcome(PyPIProjectState? State, bool NotFound, string? StaleReason);

    private sealed record DocumentOutcome(object? Document, bool NotFound, string? StaleReason);

    private async Task<StateOutcome> GetStateAsync(string normalizedName, CancellationToken cancellationToken)
    {
        var outcome = await GetDocumentAsync(normalizedName, ParseProjectDocument, cancellationToken).ConfigureAwait(false);
        return new StateOutcome(outcome.Document as PyPIProjectState, outcome.NotFound, outcome.StaleReason);
    }

    private object ParseProjectDocument(string key, CachedIndex cached) =>
        new PyPIProjectState(key, JsonSerializer.Deserialize(cached.Content, PyPIStorageJsonContext.Default.PyPIProject)!, cached.FetchedAt, cached.UpstreamETag);

    private static object ParseRootDocument(string key, CachedIndex cached) =>
        JsonSerializer.Deserialize(cached.Content, PyPIStorageJsonContext.Default.PyPIProjectList)!;

    /// <summary>A cached document if fresh, else one upstream refresh shared by all concurrent callers.</summary>
    private async Task<DocumentOutcome> GetDocumentAsync(string key, Func<string, CachedIndex, object> parse, CancellationToken cancellationToken)
    {
        var memoryKey = "pypi-doc:" + key;
        var now = _time.GetUtcNow();
        if (!_memory.TryGetValue(memoryKey, out CachedDocument? cached) || cached is null)
        {
            var stored = await _store.GetAsync(Ecosystem, key, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                cached = new CachedDocument(parse(key, stored), stored.FetchedAt, stored.UpstreamETag, stored.Content.Length);
                _memory.Set(memoryKey, cached, new MemoryCacheEntryOptions { Size = cached.Size });
            }
        }
        if (cached is not null && now - cached.FetchedAt < _settings.IndexTtl)
        {
            return new DocumentOutcome(cached.Document, false, null);
        }
        if (_backoff.TryGetValue(key, out var backoff) && now < backoff.Until)
        {
            return Degraded(cached, backoff.Reason);
        }

        var refresh = _refreshing.GetOrAdd(key, k => new Lazy<Task<DocumentOutcome>>(async () =>
        {
            try
            {
                return await RefreshAsync(k, cached, parse).ConfigureAwait(false);
            }
            finally
            {
                _refreshing.TryRemove(k, out _);
            }
        }));
        return await refresh.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private DocumentOutcome Degraded(CachedDocument? cached, string reason)
    {
        if (cached is null)
        {
            return new DocumentOutcome(null, false, reason);
        }
        _health.RecordStaleResponse();
        return new DocumentOutcome(cached.Document, false,
            $"{reason}; serving the copy fetched {cached.FetchedAt:yyyy-MM-ddTHH:mm:ssZ}");
    }

    private async Task<DocumentOutcome> RefreshAsync(string key, CachedDocument? cached, Func<string, CachedIndex, object> parse)
    {
        var url = key == RootKey ? _settings.Upstream : new Uri(_settings.Upstream, Uri.EscapeDataString(key) + "/");
        var memoryKey = "pypi-doc:" + key;
        try
        {
            var document = await _upstream.GetDocumentAsync(url, UpstreamAccept, cached?.UpstreamETag, _stopping).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            _backoff.TryRemove(key, out _);
            _health.RecordSuccess(now);
            switch (document.Status)
            {
                case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    await _store.DeleteAsync(Ecosystem, key, _stopping).ConfigureAwait(false);
                    _memory.Remove(memoryKey);
                    return new DocumentOutcome(null, true, null);
                case HttpStatusCode.NotModified when cached is not null:
                    await _store.TouchAsync(Ecosystem, key, now, _stopping).ConfigureAwait(false);
                    var touched = cached with { FetchedAt = now };
                    if (touched.Document is PyPIProjectState state)
                    {
                        touched = touched with { Document = new PyPIProjectState(state.NormalizedName, state.Project, now, state.UpstreamETag) };
                    }
                    _memory.Set(memoryKey, touched, new MemoryCacheEntryOptions { Size = touched.Size });
                    return new DocumentOutcome(touched.Document, false, null);
            }
            byte[] content = key == RootKey
                ? JsonSerializer.SerializeToUtf8Bytes(SimpleIndexParser.ParseRoot(document.Content, document.ContentType), PyPIStorageJsonContext.Default.PyPIProjectList)
                : JsonSerializer.SerializeToUtf8Bytes(SimpleIndexParser.ParseProject(document.Content, document.ContentType, document.Url, key), PyPIStorageJsonContext.Default.PyPIProject);
            var fresh = new CachedIndex(content, now, document.ETag);
            await _store.PutAsync(Ecosystem, key, fresh, _stopping).ConfigureAwait(false);
            var entry = new CachedDocument(parse(key, fresh), now, document.ETag, content.Length);
            _memory.Set(memoryKey, entry, new MemoryCacheEntryOptions { Size = entry.Size });
            return new DocumentOutcome(entry.Document, false, null);
        }
        catch (Exception e) when (e is UpstreamUnavailableException or UpstreamFormatException)
        {
            var now = _time.GetUtcNow();
            _health.RecordFailure(now, e.Message);
            _backoff[key] = (now + _settings.FailureBackoff, e.Message);
            _logger.LogWarning("PyPI upstream refresh of {Key} failed: {Reason}{Fallback}", key, e.Message,
                cached is null ? "; nothing cached to serve" : $"; serving the copy fetched {cached.FetchedAt:O}");
            return Degraded(cached, e.Message);
        }
    }

    private sealed record CachedDocument(object Document, DateTimeOffset FetchedAt, string? UpstreamETag, long Size);
}
