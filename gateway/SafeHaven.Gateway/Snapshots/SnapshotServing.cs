using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// Serves snapshots. <c>/&lt;eco&gt;/@&lt;selector&gt;/&lt;rest&gt;</c>: a dated URL, where the selector is a UTC day
/// <c>YYYY-MM-DD</c> (the newest snapshot created on or before that day's end) or a snapshot id prefix (at least 8
/// hex digits). <c>/&lt;eco&gt;/&lt;rest&gt;</c> of a mirror that serves snapshots (a sync schedule, or no upstream at
/// all): the current snapshot; on a miss the live mirror answers at Tier 0-2 when an upstream is configured, else 404.
/// Entries are served with their SHA-256 as ETag (304 on a match), byte ranges on artifacts, HEAD, the stored
/// Content-Type, Accept negotiation between variants, and documents marked for rebasing rewritten to the request's
/// origin as they stream.
/// </summary>
public sealed class SnapshotServing
{
    private readonly RequestDelegate _next;
    private readonly ISnapshotStore _store;
    private readonly SnapshotManifests _manifests;
    private readonly IBlobStore _blobs;
    private readonly IMemoryCache _cache;
    private readonly TierPolicyProvider _policy;
    private readonly SafeHavenOptions _options;
    private readonly ILogger _logger;

    public SnapshotServing(RequestDelegate next, ISnapshotStore store, SnapshotManifests manifests, IBlobStore blobs, IMemoryCache cache,
        TierPolicyProvider policy, SafeHavenOptions options, ILogger<SnapshotServing> logger)
    {
        _next = next;
        _store = store;
        _manifests = manifests;
        _blobs = blobs;
        _cache = cache;
        _policy = policy;
        _options = options;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!TrySplit(path, out var ecosystem, out var rest) || !_options.Mirrors.TryGetValue(ecosystem, out var mirror) || !mirror.Enabled)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }
        var cancellationToken = context.RequestAborted;
        if (rest.StartsWith('@'))
        {
            await ServeDatedAsync(context, ecosystem, rest, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!mirror.ServesSnapshots)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }
        var liveFallback = mirror.HasUpstream;
        var current = await CachedAsync("current:" + ecosystem, () => _store.GetCurrentAsync(ecosystem, cancellationToken)).ConfigureAwait(false);
        if (current is null)
        {
            if (liveFallback)
            {
                await _next(context).ConfigureAwait(false);
                return;
            }
            await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "No snapshot yet",
                $"The {ecosystem} mirror serves snapshots only and none has been published or imported yet.").ConfigureAwait(false);
            return;
        }
        if (!IsGetOrHead(context))
        {
            await (liveFallback ? _next(context) : MethodNotAllowedAsync(context)).ConfigureAwait(false);
            return;
        }
        var index = await IndexAsync(current.Id, cancellationToken).ConfigureAwait(false);
        var served = await TryServeAsync(context, index, ecosystem, rest, "/" + ecosystem + "/", immutable: false, cancellationToken).ConfigureAwait(false);
        if (served)
        {
            return;
        }
        if (liveFallback && _policy.Current.Policy.Tier <= 2)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }
        await ProblemAsync(context, StatusCodes.Status404NotFound, "Not in the snapshot",
            $"/{ecosystem}/{rest} is not in the current {ecosystem} snapshot {current.Id[..12]} (created {SnapshotManifest.FormatInstant(current.CreatedAt)}).").ConfigureAwait(false);
    }

    /// <summary>
    /// Which snapshot a selector names, remembered for a moment: the hot path asks on every request, and a snapshot
    /// published here or by another process (an import) is served within <see cref="LookupTtl"/>. Absence is not remembered.
    /// </summary>
    private async Task<SnapshotRecord?> CachedAsync(string key, Func<Task<SnapshotRecord?>> lookup)
    {
        var now = Environment.TickCount64;
        if (_lookups.TryGetValue(key, out var known) && now < known.Until)
        {
            return known.Record;
        }
        var record = await lookup().ConfigureAwait(false);
        if (record is null)
        {
            // Not remembered: the first snapshot is served as soon as it is published.
            return null;
        }
        if (_lookups.Count > 10_000)
        {
            _lookups.Clear();
        }
        _lookups[key] = (record, now + (long)LookupTtl.TotalMilliseconds);
        return record;
    }

    /// <summary>How long which snapshot is current (or which a dated URL names) is remembered.</summary>
    public static readonly TimeSpan LookupTtl = TimeSpan.FromSeconds(2);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (SnapshotRecord? Record, long Until)> _lookups = new(StringComparer.Ordinal);

    private static bool IsGetOrHead(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    /// <summary>Splits <c>/eco/rest</c>; false for <c>/eco</c> itself and paths outside any ecosystem.</summary>
    private static bool TrySplit(string path, out string ecosystem, out string rest)
    {
        ecosystem = rest = "";
        if (path.Length < 2 || path[0] != '/')
        {
            return false;
        }
        var slash = path.IndexOf('/', 1);
        if (slash < 0)
        {
            return false;
        }
        ecosystem = path[1..slash].ToLowerInvariant();
        rest = path[(slash + 1)..];
        return SnapshotManifest.Ecosystems.Contains(ecosystem);
    }

    private async Task ServeDatedAsync(HttpContext context, string ecosystem, string rest, CancellationToken cancellationToken)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var selector = slash < 0 ? rest[1..] : rest[1..slash];
        if (!IsGetOrHead(context))
        {
            await MethodNotAllowedAsync(context).ConfigureAwait(false);
            return;
        }
        SnapshotRecord? record;
        string described;
        var isDate = DateOnly.TryParseExact(selector, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day);
        if (isDate)
        {
            var endOfDay = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddSeconds(-1);
            record = await CachedAsync($"as-of:{ecosystem}:{selector}", () => _store.GetAsOfAsync(ecosystem, endOfDay, cancellationToken)).ConfigureAwait(false);
            described = $"no {ecosystem} snapshot was created on or before {selector} (UTC) and is still kept";
        }
        else if (selector.Length is >= 8 and <= 64 && selector.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF") < 0)
        {
            record = await CachedAsync($"id:{ecosystem}:{selector.ToLowerInvariant()}", () => _store.FindAsync(ecosystem, selector, cancellationToken)).ConfigureAwait(false);
            described = $"no single {ecosystem} snapshot has an id starting with {selector}";
        }
        else
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "Unknown snapshot selector",
                $"'@{selector}' is neither a UTC day (YYYY-MM-DD) nor a snapshot id prefix of at least 8 hex digits.").ConfigureAwait(false);
            return;
        }
        if (record is null)
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "No such snapshot", described + ".").ConfigureAwait(false);
            return;
        }
        var basePath = "/" + ecosystem + "/@" + selector + "/";
        if (slash < 0)
        {
            Redirect(context, basePath);
            return;
        }
        var index = await IndexAsync(record.Id, cancellationToken).ConfigureAwait(false);
        // An id names one immutable snapshot; a day may name a newer one once a later snapshot of that day is taken.
        var immutable = !isDate;
        if (!await TryServeAsync(context, index, ecosystem, rest[(slash + 1)..], basePath, immutable, cancellationToken).ConfigureAwait(false))
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "Not in the snapshot",
                $"/{ecosystem}/{rest[(slash + 1)..]} is not in {ecosystem} snapshot {record.Id[..12]} (created {SnapshotManifest.FormatInstant(record.CreatedAt)}).").ConfigureAwait(false);
        }
    }

    private async Task<SnapshotIndex> IndexAsync(string id, CancellationToken cancellationToken)
    {
        var key = "snapshot-index:" + id;
        if (_cache.TryGetValue(key, out SnapshotIndex? index) && index is not null)
        {
            return index;
        }
        var manifest = await _manifests.LoadAsync(id, cancellationToken).ConfigureAwait(false);
        index = new SnapshotIndex(id, manifest);
        _cache.Set(key, index, new MemoryCacheEntryOptions { Size = index.EstimatedSize, SlidingExpiration = TimeSpan.FromHours(1) });
        return index;
    }

    /// <summary>Serves <paramref name="rest"/> from the snapshot; false when it has no such path (nothing written then).</summary>
    private async Task<bool> TryServeAsync(
        HttpContext context, SnapshotIndex index, string ecosystem, string rest, string basePath, bool immutable, CancellationToken cancellationToken)
    {
        var variants = index.Find(rest);
        if (variants.Count == 0)
        {
            if (!rest.EndsWith('/') && index.Find(rest + "/").Count > 0)
            {
                Redirect(context, basePath + rest + "/");
                return true;
            }
            return false;
        }
        var response = context.Response;
        if (variants.Count > 1)
        {
            response.Headers.Vary = HeaderNames.Accept;
        }
        var entry = VariantNegotiation.Choose(variants, context.Request.Headers.Accept.ToString());
        if (entry is null)
        {
            await ProblemAsync(context, StatusCodes.Status406NotAcceptable, "Not acceptable",
                $"/{ecosystem}/{rest} is stored as {string.Join(", ", variants.Select(v => v.MediaType))}.").ConfigureAwait(false);
            return true;
        }
        var digest = BlobDigest.Parse(entry.Sha256);
        var origin = context.Request.Scheme + "://" + context.Request.Host.ToUriComponent() + context.Request.PathBase.ToUriComponent();
        var replacement = entry.Rebase ? Encoding.UTF8.GetBytes(origin + basePath) : null;
        var etag = replacement is null
            ? "\"" + entry.Sha256 + "\""
            : "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(entry.Sha256 + "\n" + origin + basePath)))[..40] + "\"";
        response.Headers.ETag = etag;
        response.Headers.CacheControl = immutable ? "public, max-age=31536000, immutable" : "max-age=60";
        response.Headers["X-SafeHaven-Snapshot"] = index.Id;
        if (IfNoneMatch(context, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return true;
        }
        response.ContentType = entry.MediaType;
        await using var stream = await _blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            _logger.LogError("{Ecosystem} snapshot {Snapshot}: blob {Blob} of {Path} is missing from the blob store", ecosystem, index.Id, entry.Sha256, entry.Path);
            response.Headers.Remove(HeaderNames.ETag);
            response.Headers.Remove(HeaderNames.CacheControl);
            await ProblemAsync(context, StatusCodes.Status500InternalServerError, "Snapshot content missing",
                $"The stored content of /{ecosystem}/{rest} (snapshot {index.Id[..12]}) is missing.").ConfigureAwait(false);
            return true;
        }
        if (replacement is not null)
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return true;
            }
            var marker = Encoding.ASCII.GetBytes(SnapshotManifest.RebaseOrigin + "/" + ecosystem + "/");
            await Rebase.CopyAsync(stream, response.Body, marker, replacement, cancellationToken).ConfigureAwait(false);
            return true;
        }
        long offset = 0;
        var length = entry.Size;
        if (entry.Kind == SnapshotEntryKind.Artifact)
        {
            response.Headers.AcceptRanges = "bytes";
            switch (ByteRange.Parse(context, etag, entry.Size))
            {
                case ByteRange.Result.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    response.Headers.ContentRange = $"bytes */{entry.Size}";
                    return true;
                case ByteRange.Result.Satisfiable range:
                    offset = range.From;
                    length = range.To - range.From + 1;
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    response.Headers.ContentRange = $"bytes {range.From}-{range.To}/{entry.Size}";
                    break;
            }
        }
        response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return true;
        }
        if (_blobs is ILocalBlobStore local && local.GetLocalPath(digest) is { } file)
        {
            await context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().SendFileAsync(file, offset, length, cancellationToken).ConfigureAwait(false);
            return true;
        }
        if (offset > 0)
        {
            if (stream.CanSeek)
            {
                stream.Seek(offset, SeekOrigin.Begin);
            }
            else
            {
                await Skip(stream, offset, cancellationToken).ConfigureAwait(false);
            }
        }
        await CopyExactlyAsync(stream, response.Body, length, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static bool IfNoneMatch(HttpContext context, string etag)
    {
        var header = context.Request.Headers.IfNoneMatch;
        if (header.Count == 0)
        {
            return false;
        }
        foreach (var value in header)
        {
            foreach (var token in (value ?? "").Split(','))
            {
                var t = token.Trim();
                if (t == "*" || t == etag || (t.StartsWith("W/", StringComparison.Ordinal) && t[2..] == etag))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static async Task Skip(Stream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("A snapshot blob is shorter than its manifest says.");
            }
            count -= read;
        }
    }

    private static async Task CopyExactlyAsync(Stream source, Stream destination, long count, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (count > 0)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException("A snapshot blob is shorter than its manifest says.");
                }
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                count -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Redirect(HttpContext context, string path)
    {
        context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        context.Response.Headers.Location = context.Request.PathBase + path + context.Request.QueryString;
    }

    private static Task MethodNotAllowedAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET, HEAD";
        return ProblemAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed", "Snapshots are read with GET or HEAD.");
    }

    private static Task ProblemAsync(HttpContext context, int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(context);
}
