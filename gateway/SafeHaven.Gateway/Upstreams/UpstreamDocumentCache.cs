using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Gateway.Upstreams;

/// <summary>Thrown when upstream answers with something that is not a valid index document.</summary>
public sealed class UpstreamFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How one kind of upstream index document is parsed, stored and restored.</summary>
public interface IDocumentCodec<T> where T : class
{
    /// <summary>Parses what upstream sent; throws <see cref="UpstreamFormatException"/> on garbage.</summary>
    T Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt);

    /// <summary>The durable form kept in the index cache (usually normalised JSON).</summary>
    byte[] Serialize(T value);

    T Deserialize(string key, byte[] content, DateTimeOffset fetchedAt);

    /// <summary>Approximate memory footprint, for the in-memory cache's size limit.</summary>
    long SizeOf(T value);
}

/// <summary>A cached document, or why there is none.</summary>
public sealed record DocumentLookup<T>(T? Document, bool NotFound, string? StaleReason) where T : class;

/// <summary>
/// The read-through cache of upstream index documents shared by every ecosystem: a document is served while
/// younger than its TTL; then one upstream request refreshes it however many clients ask (conditional on the
/// upstream ETag); the new copy replaces the old one whole; a failed or garbage answer keeps the last good copy,
/// served with a stale reason, and upstream is retried only after a back-off.
/// </summary>
public sealed class UpstreamDocumentCache
{
    private readonly string _ecosystem;
    private readonly UpstreamHttp _upstream;
    private readonly IIndexCacheStore _store;
    private readonly IMemoryCache _memory;
    private readonly MirrorStatus _health;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _backoff;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> _refreshing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, string Reason)> _failures = new(StringComparer.Ordinal);

    public UpstreamDocumentCache(
        string ecosystem, UpstreamHttp upstream, IIndexCacheStore store, IMemoryCache memory, MirrorHealth health,
        TimeProvider time, ILogger logger, TimeSpan ttl, TimeSpan backoff, CancellationToken stopping, TimeSpan? notFoundTtl = null)
    {
        _notFoundTtl = notFoundTtl ?? TimeSpan.FromSeconds(60);
        _ecosystem = ecosystem;
        _upstream = upstream;
        _store = store;
        _memory = memory;
        _health = health.Get(ecosystem);
        _time = time;
        _logger = logger;
        _ttl = ttl;
        _backoff = backoff;
        _stopping = stopping;
    }

    public string Ecosystem => _ecosystem;

    public UpstreamHttp Upstream => _upstream;

    private readonly TimeSpan _notFoundTtl;

    private string MemoryKey(string key) => $"{_ecosystem}-doc:{key}";

    /// <summary>Upstream's recent 404 for a key, remembered for the negative TTL (bounded by the memory cache's size limit).</summary>
    private string NotFoundKey(string key) => $"{_ecosystem}-404:{key}";

    private sealed record Entry<T>(T Document, DateTimeOffset FetchedAt, string? ETag) where T : class;

    /// <summary>The document under <paramref name="key"/>, fetched from <paramref name="url"/> when missing or older than the TTL.</summary>
    public Task<DocumentLookup<T>> GetAsync<T>(string key, Uri url, string accept, IDocumentCodec<T> codec, CancellationToken cancellationToken)
        where T : class => GetAsync(key, _ => url, accept, codec, cancellationToken);

    /// <summary>As above, with the URL built from the key only when upstream is asked (not on every cache hit).</summary>
    public async Task<DocumentLookup<T>> GetAsync<T>(string key, Func<string, Uri> urlOf, string accept, IDocumentCodec<T> codec, CancellationToken cancellationToken)
        where T : class
    {
        var cached = await LoadAsync(key, codec, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        // A snapshot capture revalidates each document once (conditional on its ETag), whatever its age, the negative
        // cache or a recent failure's back-off: a snapshot holds what upstream says at the moment it is taken.
        var revalidate = Snapshots.SnapshotCaptureContext.ShouldRevalidate(_ecosystem, key);
        if (cached is not null && now - cached.FetchedAt < _ttl && !revalidate)
        {
            return new DocumentLookup<T>(cached.Document, false, null);
        }
        if (cached is null && !revalidate && _memory.TryGetValue(NotFoundKey(key), out DateTimeOffset notFoundUntil) && now < notFoundUntil)
        {
            return new DocumentLookup<T>(null, true, null);
        }
        if (!revalidate && _failures.TryGetValue(key, out var failure) && now < failure.Until)
        {
            return Degraded(cached, failure.Reason);
        }
        var refresh = _refreshing.GetOrAdd(key, k => new Lazy<Task<object>>(async () =>
        {
            try
            {
                return await RefreshAsync(k, urlOf(k), accept, codec, cached).ConfigureAwait(false);
            }
            finally
            {
                _refreshing.TryRemove(k, out Lazy<Task<object>>? _);
            }
        }));
        return (DocumentLookup<T>)await refresh.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Re-reads a document from upstream now, whatever its age (the scheduled refresh).</summary>
    public async Task RefreshNowAsync<T>(string key, Uri url, string accept, IDocumentCodec<T> codec, CancellationToken cancellationToken)
        where T : class
    {
        var cached = await LoadAsync(key, codec, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(key, url, accept, codec, cached).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Entry<T>?> LoadAsync<T>(string key, IDocumentCodec<T> codec, CancellationToken cancellationToken) where T : class
    {
        if (_memory.TryGetValue(MemoryKey(key), out Entry<T>? entry) && entry is not null)
        {
            return entry;
        }
        var stored = await _store.GetAsync(_ecosystem, key, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }
        entry = new Entry<T>(codec.Deserialize(key, stored.Content, stored.FetchedAt), stored.FetchedAt, stored.UpstreamETag);
        Remember(key, entry, codec);
        return entry;
    }

    private void Remember<T>(string key, Entry<T> entry, IDocumentCodec<T> codec) where T : class =>
        _memory.Set(MemoryKey(key), entry, new MemoryCacheEntryOptions { Size = Math.Max(1, codec.SizeOf(entry.Document)) });

    private DocumentLookup<T> Degraded<T>(Entry<T>? cached, string reason) where T : class
    {
        if (cached is null)
        {
            return new DocumentLookup<T>(null, false, reason);
        }
        _health.RecordStaleResponse();
        return new DocumentLookup<T>(cached.Document, false, $"{reason}; serving the copy fetched {cached.FetchedAt:yyyy-MM-ddTHH:mm:ssZ}");
    }

    private async Task<object> RefreshAsync<T>(string key, Uri url, string accept, IDocumentCodec<T> codec, Entry<T>? cached) where T : class
    {
        try
        {
            using var document = await _upstream.GetDocumentAsync(url, accept, cached?.ETag, _stopping).ConfigureAwait(false);
            // With inline scheduling this continuation runs on a socket event thread; parsing a large index (and the
            // store's synchronous SQLite write) belongs on the thread pool, where it holds up no other connection.
            await Task.Yield();
            var now = _time.GetUtcNow();
            _failures.TryRemove(key, out _);
            _health.RecordSuccess(now);
            if (document.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                await _store.DeleteAsync(_ecosystem, key, _stopping).ConfigureAwait(false);
                _memory.Remove(MemoryKey(key));
                if (_notFoundTtl > TimeSpan.Zero)
                {
                    _memory.Set(NotFoundKey(key), now + _notFoundTtl, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _notFoundTtl });
                }
                return new DocumentLookup<T>(null, true, null);
            }
            if (document.Status == HttpStatusCode.NotModified && cached is not null)
            {
                await _store.TouchAsync(_ecosystem, key, now, _stopping).ConfigureAwait(false);
                var stored = await _store.GetAsync(_ecosystem, key, _stopping).ConfigureAwait(false);
                var touched = stored is null ? cached with { FetchedAt = now } : new Entry<T>(codec.Deserialize(key, stored.Content, now), now, cached.ETag);
                Remember(key, touched, codec);
                return new DocumentLookup<T>(touched.Document, false, null);
            }
            var parsed = codec.Parse(key, document, now);
            await _store.PutAsync(_ecosystem, key, new CachedIndex(codec.Serialize(parsed), now, document.ETag), _stopping).ConfigureAwait(false);
            Remember(key, new Entry<T>(parsed, now, document.ETag), codec);
            return new DocumentLookup<T>(parsed, false, null);
        }
        catch (Exception e) when (StorageFull.Is(e) && e is not StorageFullException)
        {
            // The new copy could not be stored: not served either (what is served is what is stored), and 507, not 500.
            var reason = $"the appliance's storage is full: the {_ecosystem} index {key} could not be stored ({e.Message})";
            _health.RecordFailure(_time.GetUtcNow(), reason);
            _logger.LogError("{Reason}", reason);
            throw new StorageFullException(reason, e);
        }
        catch (Exception e) when (e is UpstreamUnavailableException or UpstreamFormatException)
        {
            var now = _time.GetUtcNow();
            _health.RecordFailure(now, e.Message);
            _failures[key] = (now + _backoff, e.Message);
            _logger.LogWarning("{Ecosystem} upstream refresh of {Key} failed: {Reason}{Fallback}", _ecosystem, key, e.Message,
                cached is null ? "; nothing cached to serve" : $"; serving the copy fetched {cached.FetchedAt:O}");
            return Degraded(cached, e.Message);
        }
    }
}
