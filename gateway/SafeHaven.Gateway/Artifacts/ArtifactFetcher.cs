using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Artifacts;

/// <summary>
/// A hash an upstream index promises for an artifact, in an algorithm other than SHA-256 (CRAN's MD5, NuGet's SHA-512).
/// <paramref name="Promise"/> says who promised it, for the error message (upstream's index, or the appliance's pin of
/// the first verified download).
/// </summary>
public sealed record ExpectedHash(HashAlgorithmName Algorithm, byte[] Value, string Promise = "the hash its index gives")
{
    public override string ToString() => $"{Algorithm.Name} {Convert.ToHexStringLower(Value)}";
}

/// <summary>
/// One upstream artifact: where it comes from and what it must hash to. When upstream gives no SHA-256, the
/// digest of the first verified copy is remembered by URL, so later requests are served from the store.
/// A <see cref="Verifier"/> checks the whole downloaded file (a signature, say) before it is committed to the store.
/// <see cref="PinName"/> is the upstream file name the first verified copy is pinned under (by default the display
/// name, which is the file name in every mirror): a different hash later offered for that name is refused.
/// </summary>
public sealed record ArtifactSource(Uri Url, string DisplayName, BlobDigest? Sha256, ExpectedHash? Other = null, IArtifactVerifier? Verifier = null)
{
    public string PinName { get; init; } = DisplayName;

    /// <summary>
    /// The size the index promises (conda's <c>size</c>), when it gives one: a body of any other length is refused
    /// like a hash mismatch, and a longer one is abandoned as soon as it passes the size.
    /// </summary>
    public long? Length { get; init; }

    /// <summary>
    /// A second algorithm whose digest the pin records when upstream promises none in it (NuGet's SHA-512, which its
    /// registration pages and verifier speak), so the one pin serves every ecosystem.
    /// </summary>
    public HashAlgorithmName? PinAlgorithm { get; init; }

    /// <summary>What this source promises under its file name, as an index page lists it.</summary>
    public ListedFile Listed => new(PinName, Sha256, Other);
}

/// <summary>A file as an index page lists it: its name and the hashes the page promises for it.</summary>
public sealed record ListedFile(string PinName, BlobDigest? Sha256, ExpectedHash? Other);

/// <summary>The hashes of the first verified copy of an upstream file name.</summary>
public sealed record ArtifactPin(BlobDigest Sha256, ExpectedHash? Other)
{
    public byte[] Encode() => Encoding.ASCII.GetBytes(Other is null
        ? Sha256.Hex
        : $"{Sha256.Hex}\n{Other.Algorithm.Name}:{Convert.ToHexStringLower(Other.Value)}");

    public static ArtifactPin? Decode(byte[] content)
    {
        var lines = Encoding.ASCII.GetString(content).Split('\n');
        if (!BlobDigest.TryParse(lines[0], out var digest))
        {
            return null;
        }
        ExpectedHash? other = null;
        if (lines.Length > 1 && lines[1].Split(':', 2) is [var algorithm, var hex] && hex.Length % 2 == 0 && hex.All(char.IsAsciiHexDigit))
        {
            other = new ExpectedHash(new HashAlgorithmName(algorithm), Convert.FromHexString(hex), "the first verified copy pinned here");
        }
        return new ArtifactPin(digest, other);
    }

    /// <summary>Whether <paramref name="source"/> promises different content than this pin: upstream replaced the file.</summary>
    public bool ContradictedBy(ArtifactSource source) => ContradictedBy(source.Listed);

    /// <summary>Whether <paramref name="listed"/> promises different content than this pin: upstream replaced the file.</summary>
    public bool ContradictedBy(ListedFile listed) =>
        (listed.Sha256 is { } sha256 && sha256 != Sha256)
        || (listed.Other is { } other && Other is { } pinned && other.Algorithm == pinned.Algorithm && !other.Value.AsSpan().SequenceEqual(pinned.Value));
}

/// <summary>A pinned file as an index page must describe it: its pin, and the length of the stored copy (null when not stored).</summary>
public sealed record PinnedFile(ArtifactPin Pin, long? Length);

/// <summary>
/// Checks a downloaded artifact from a seekable temporary copy on disk (never a buffer in memory) before the store
/// commits it. Throws <see cref="UpstreamIntegrityException"/> to refuse it: then nothing is stored or served.
/// </summary>
public interface IArtifactVerifier
{
    /// <summary>Where the temporary copy goes: a disk directory (the data directory, not a RAM-backed /tmp); null for the system's.</summary>
    string? TemporaryDirectory => null;

    Task VerifyAsync(Stream file, CancellationToken cancellationToken);
}

/// <summary>Upstream content did not match the hash its index promised; nothing was stored.</summary>
public sealed class UpstreamIntegrityException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Artifacts of every mirror: fetched from upstream once, verified against upstream's hash(es) while streamed
/// into the content-addressed blob store, then served from there. Concurrent requests share one download.
/// </summary>
public sealed class ArtifactFetcher
{
    private const int BlockSize = 256 * 1024;

    private readonly string _ecosystem;
    private readonly IBlobStore _blobs;
    private readonly IIndexCacheStore _store;
    private readonly UpstreamHttp _upstream;
    private readonly MirrorStatus _health;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly ConcurrentDictionary<string, Lazy<Task<BlobDigest>>> _downloads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _reportedReplacements = new(StringComparer.Ordinal);
    private readonly string _pinScope;

    /// <summary>
    /// Pins already read: a pin never changes once written, so each file name costs one store read, not one per
    /// download. Cleared when it grows past <see cref="MaximumCachedPins"/>.
    /// </summary>
    private readonly ConcurrentDictionary<string, ArtifactPin> _pins = new(StringComparer.Ordinal);

    private const int MaximumCachedPins = 100_000;

    private readonly IUpstreamAuditLog? _audit;
    private readonly IArtifactFetchLock? _fetchLock;
    private long _pinGeneration;

    /// <param name="fetchLock">Several replicas sharing one blob store: the claim that makes one of them fetch a file first asked of several.</param>
    public ArtifactFetcher(string ecosystem, IBlobStore blobs, IIndexCacheStore store, UpstreamHttp upstream, MirrorStatus health, ILogger logger, CancellationToken stopping,
        IUpstreamAuditLog? audit = null, IArtifactFetchLock? fetchLock = null)
    {
        _audit = audit;
        _fetchLock = fetchLock;
        _health = health;
        _ecosystem = ecosystem;
        _pinScope = ecosystem + "-pins";
        _blobs = blobs;
        _store = store;
        _upstream = upstream;
        _logger = logger;
        _stopping = stopping;
    }

    public IBlobStore Blobs => _blobs;

    private static string RememberedKey(Uri url) => "artifact-digest:" + url.AbsoluteUri;

    /// <summary>The pin of an upstream file name, or null before its first verified copy.</summary>
    public async Task<ArtifactPin?> GetPinAsync(string pinName, CancellationToken cancellationToken)
    {
        if (_pins.TryGetValue(pinName, out var known))
        {
            return known;
        }
        var stored = await _store.GetAsync(_pinScope, pinName, cancellationToken).ConfigureAwait(false);
        if (stored is null || ArtifactPin.Decode(stored.Content) is not { } pin)
        {
            return null;
        }
        if (_pins.Count >= MaximumCachedPins)
        {
            _pins.Clear();
        }
        _pins[pinName] = pin;
        return pin;
    }

    /// <summary>The pins of many file names at once (one store query for those not read before); names never pinned are left out.</summary>
    public async Task<IReadOnlyDictionary<string, ArtifactPin>> GetPinsAsync(IReadOnlyCollection<string> pinNames, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ArtifactPin>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var name in pinNames)
        {
            if (_pins.TryGetValue(name, out var known))
            {
                result[name] = known;
            }
            else
            {
                unknown.Add(name);
            }
        }
        if (unknown.Count == 0)
        {
            return result;
        }
        foreach (var (name, stored) in await _store.GetManyAsync(_pinScope, unknown, cancellationToken).ConfigureAwait(false))
        {
            if (ArtifactPin.Decode(stored.Content) is { } pin)
            {
                if (_pins.Count >= MaximumCachedPins)
                {
                    _pins.Clear();
                }
                _pins[name] = pin;
                result[name] = pin;
            }
        }
        return result;
    }

    /// <summary>Changes whenever a file name is pinned: index pages built on older pins are rebuilt.</summary>
    public long PinGeneration => Interlocked.Read(ref _pinGeneration);

    private async Task PinAsync(ArtifactSource source, BlobDigest digest, CancellationToken cancellationToken, ExpectedHash? computed = null)
    {
        if (await GetPinAsync(source.PinName, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }
        await _store.PutAsync(_pinScope, source.PinName,
            new CachedIndex(new ArtifactPin(digest, source.Other ?? computed).Encode(), DateTimeOffset.UtcNow, null), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _pinGeneration);
    }

    /// <summary>
    /// For an index page: the pin of every listed file whose listed hash contradicts it (upstream replaced the file),
    /// each reported as in <see cref="ApplyPinAsync"/>. The page must then show the pinned hash, since the pinned copy
    /// is what is served; showing upstream's new one would make every client refuse the file as a hash mismatch.
    /// </summary>
    public Task<IReadOnlyDictionary<string, PinnedFile>> FindReplacedAsync(IReadOnlyList<ArtifactSource> listed, CancellationToken cancellationToken) =>
        FindReplacedAsync(listed.Select(s => s.Listed).ToList(), cancellationToken);

    /// <inheritdoc cref="FindReplacedAsync(IReadOnlyList{ArtifactSource}, CancellationToken)"/>
    public async Task<IReadOnlyDictionary<string, PinnedFile>> FindReplacedAsync(IReadOnlyList<ListedFile> listed, CancellationToken cancellationToken)
    {
        var replaced = new Dictionary<string, PinnedFile>(StringComparer.Ordinal);
        if (listed.Count == 0)
        {
            return replaced;
        }
        var pins = await GetPinsAsync(listed.Select(s => s.PinName).ToList(), cancellationToken).ConfigureAwait(false);
        foreach (var source in listed)
        {
            if (pins.TryGetValue(source.PinName, out var pin) && pin.ContradictedBy(source))
            {
                replaced[source.PinName] = new PinnedFile(pin, await _blobs.GetLengthAsync(pin.Sha256, cancellationToken).ConfigureAwait(false));
                await ReportReplacementAsync(source, pin, cancellationToken).ConfigureAwait(false);
            }
        }
        return replaced;
    }

    /// <summary>Logs, raises on <c>/healthz</c> and writes to the audit log, once per file name and offered hash (per process).</summary>
    private async Task ReportReplacementAsync(ListedFile source, ArtifactPin pin, CancellationToken cancellationToken)
    {
        var offered = source.Sha256 is { } s ? $"SHA-256 {s.Hex}" : source.Other!.ToString();
        if (!_reportedReplacements.TryAdd(source.PinName + "#" + offered, 0))
        {
            return;
        }
        var message = $"upstream replaced the published file {source.PinName}: it now offers {offered}, but the first verified copy is pinned with SHA-256 {pin.Sha256.Hex}; the new content is refused and the pinned copy is served";
        _logger.LogError("{Ecosystem}: {Message}", _ecosystem, message);
        _health.RecordReplacedFile(DateTimeOffset.UtcNow, message);
        if (_audit is null)
        {
            return;
        }
        try
        {
            await _audit.RecordReplacedFileAsync(new ReplacedUpstreamFile(_ecosystem, source.PinName, offered, "SHA-256 " + pin.Sha256.Hex, message), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Still refused, logged and on /healthz: the audit log being unwritable (a full disk) does not serve the new content.
            _logger.LogError(e, "{Ecosystem}: the replacement of {Name} could not be written to the audit log", _ecosystem, source.PinName);
            _reportedReplacements.TryRemove(source.PinName + "#" + offered, out _);
        }
    }

    /// <summary>
    /// Holds a file name to its first verified copy: once pinned, the artifact is the pinned SHA-256 whatever upstream
    /// now says. When upstream now promises other content under the same name (a published file replaced), that is
    /// refused, logged and raised on <c>/healthz</c>; the pinned copy keeps being served.
    /// </summary>
    public async Task<ArtifactSource> ApplyPinAsync(ArtifactSource source, CancellationToken cancellationToken)
    {
        if (await GetPinAsync(source.PinName, cancellationToken).ConfigureAwait(false) is not { } pin)
        {
            return source;
        }
        if (pin.ContradictedBy(source))
        {
            await ReportReplacementAsync(source.Listed, pin, cancellationToken).ConfigureAwait(false);
        }
        return source with { Sha256 = pin.Sha256, Other = null };
    }

    /// <summary>The digest of the artifact's stored copy, or null when it is not stored.</summary>
    public async Task<BlobDigest?> FindStoredAsync(ArtifactSource source, CancellationToken cancellationToken)
    {
        var digest = source.Sha256;
        if (digest is null)
        {
            var remembered = await _store.GetAsync(_ecosystem, RememberedKey(source.Url), cancellationToken).ConfigureAwait(false);
            if (remembered is not null && BlobDigest.TryParse(Encoding.ASCII.GetString(remembered.Content), out var d))
            {
                digest = d;
            }
        }
        return digest is { } found && await _blobs.GetLengthAsync(found, cancellationToken).ConfigureAwait(false) is not null ? found : null;
    }

    /// <summary>Makes sure the artifact is stored, downloading and verifying it if not. One client giving up does not cancel it.</summary>
    public async Task<BlobDigest> EnsureStoredAsync(ArtifactSource source, CancellationToken cancellationToken)
    {
        source = await ApplyPinAsync(source, cancellationToken).ConfigureAwait(false);
        if (await FindStoredAsync(source, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored;
        }
        var key = source.Url.AbsoluteUri;
        var download = _downloads.GetOrAdd(key, _ => new Lazy<Task<BlobDigest>>(async () =>
        {
            try
            {
                // Several replicas: one fetches, the others wait for it and then find the file stored.
                await using var claim = _fetchLock is null ? null : await _fetchLock.AcquireAsync(ClaimKey(source), _stopping).ConfigureAwait(false);
                if (_fetchLock is not null && await FindStoredAsync(source, _stopping).ConfigureAwait(false) is { } storedElsewhere)
                {
                    return storedElsewhere;
                }
                var digest = await DownloadAsync(source).ConfigureAwait(false);
                _health.RecordArtifactSuccess(DateTimeOffset.UtcNow);
                return digest;
            }
            catch (UpstreamIntegrityException e)
            {
                _health.RecordArtifactFailure(DateTimeOffset.UtcNow, e.Message, integrity: true);
                throw;
            }
            catch (UpstreamUnavailableException e)
            {
                _health.RecordArtifactFailure(DateTimeOffset.UtcNow, e.Message, integrity: false);
                throw;
            }
            finally
            {
                _downloads.TryRemove(key, out Lazy<Task<BlobDigest>>? _);
            }
        }));
        return await download.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What replicas claim a first fetch by: the content when upstream names it, else the URL.</summary>
    private string ClaimKey(ArtifactSource source) => source.Sha256 is { } sha256 ? "sha256:" + sha256.Hex : _ecosystem + ":" + source.Url.AbsoluteUri;

    private async Task<BlobDigest> DownloadAsync(ArtifactSource source)
    {
        using var response = await _upstream.OpenArtifactAsync(source.Url, _stopping).ConfigureAwait(false);
        await using var body = await _upstream.OpenArtifactBodyAsync(response, source.Url, _stopping).ConfigureAwait(false);
        await using var writer = await _blobs.BeginWriteAsync(_stopping).ConfigureAwait(false);
        var otherAlgorithm = source.Other?.Algorithm ?? source.PinAlgorithm;
        using var other = otherAlgorithm is { } algorithm ? IncrementalHash.CreateHash(algorithm) : null;
        // A verifier reads the whole file (a zip's central directory is at its end): it gets a temporary copy on
        // disk, written alongside the store, deleted when closed.
        await using var copy = source.Verifier is null ? null : new FileStream(
            Path.Combine(Directory.CreateDirectory(source.Verifier.TemporaryDirectory ?? Path.GetTempPath()).FullName, "safehaven-verify-" + Guid.NewGuid().ToString("N")),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, BlockSize, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
        try
        {
            int read;
            long total = 0;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BlockSize), _stopping).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > source.Length)
                {
                    throw Mismatch(source, $"{source.Length} bytes", $"more than {source.Length} bytes", promise: "the size its index gives");
                }
                other?.AppendData(buffer, 0, read);
                await writer.WriteAsync(buffer.AsMemory(0, read), _stopping).ConfigureAwait(false);
                if (copy is not null)
                {
                    await copy.WriteAsync(buffer.AsMemory(0, read), _stopping).ConfigureAwait(false);
                }
            }
            if (source.Length is { } promised && total != promised)
            {
                throw Mismatch(source, $"{promised} bytes", $"{total} bytes", promise: "the size its index gives");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var otherDigest = other?.GetHashAndReset();
        if (source.Other is not null && !otherDigest.AsSpan().SequenceEqual(source.Other.Value))
        {
            throw Mismatch(source, source.Other.ToString(), "a different " + source.Other.Algorithm.Name, promise: source.Other.Promise);
        }
        if (copy is not null)
        {
            await copy.FlushAsync(_stopping).ConfigureAwait(false);
            copy.Position = 0;
            try
            {
                await source.Verifier!.VerifyAsync(copy, _stopping).ConfigureAwait(false);
            }
            catch (UpstreamIntegrityException e)
            {
                _logger.LogError("Upstream {Ecosystem} artifact {Name} failed verification: {Reason}; nothing stored", _ecosystem, source.DisplayName, e.Message);
                throw;
            }
        }
        BlobDigest digest;
        try
        {
            digest = await writer.CommitAsync(source.Sha256, _stopping).ConfigureAwait(false);
        }
        catch (BlobDigestMismatchException e)
        {
            throw Mismatch(source, $"SHA-256 {e.Expected}", $"SHA-256 {e.Actual}", e);
        }
        if (source.Sha256 is null)
        {
            await _store.PutAsync(_ecosystem, RememberedKey(source.Url),
                new CachedIndex(Encoding.ASCII.GetBytes(digest.Hex), DateTimeOffset.UtcNow, null), _stopping).ConfigureAwait(false);
        }
        await PinAsync(source, digest, _stopping,
            otherDigest is null ? null : new ExpectedHash(otherAlgorithm!.Value, otherDigest, "the first verified copy pinned here")).ConfigureAwait(false);
        _logger.LogInformation("Stored {Ecosystem} artifact {Name} ({Digest})", _ecosystem, source.DisplayName, digest);
        return digest;
    }

    private UpstreamIntegrityException Mismatch(ArtifactSource source, string expected, string actual, Exception? inner = null, string promise = "the hash its index gives")
    {
        _logger.LogError("Upstream content of {Ecosystem} artifact {Name} does not match {Promise}: expected {Expected}, got {Actual}; nothing stored",
            _ecosystem, source.DisplayName, promise, expected, actual);
        return new UpstreamIntegrityException(
            $"upstream content of {source.DisplayName} does not match {promise} (expected {expected}, got {actual}); it was not stored or served", inner);
    }

    /// <summary>
    /// Serves an artifact that is not stored yet and is too large to verify before sending: streamed to the client
    /// while stored and hashed, holding back the final block. On a mismatch the connection is aborted before that
    /// block, so the client never holds a complete bad file, and nothing is stored. Needs an upstream SHA-256.
    /// </summary>
    public Task<BlobDigest?> StreamWhileStoringAsync(HttpContext context, ArtifactSource source, string contentType, CancellationToken cancellationToken) =>
        StreamAsync(context, source, contentType, store: true, cancellationToken);

    /// <summary>
    /// <see cref="StreamWhileStoringAsync"/>, or with <paramref name="store"/> false the same verified stream without
    /// storing it (another replica holds the claim on the file and is storing it).
    /// </summary>
    private async Task<BlobDigest?> StreamAsync(HttpContext context, ArtifactSource source, string contentType, bool store, CancellationToken cancellationToken)
    {
        var expected = source.Sha256 ?? throw new InvalidOperationException("streaming while storing needs an upstream SHA-256");
        using var response = await _upstream.OpenArtifactAsync(source.Url, cancellationToken).ConfigureAwait(false);
        await using var body = await _upstream.OpenArtifactBodyAsync(response, source.Url, cancellationToken).ConfigureAwait(false);
        await using var writer = store ? await _blobs.BeginWriteAsync(cancellationToken).ConfigureAwait(false) : null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var other = source.Other is null ? null : IncrementalHash.CreateHash(source.Other.Algorithm);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        if (response.Content.Headers.ContentLength is { } length)
        {
            context.Response.ContentLength = length;
        }
        context.Response.Headers.ETag = "\"" + expected.Hex + "\"";

        var current = ArrayPool<byte>.Shared.Rent(BlockSize);
        var held = ArrayPool<byte>.Shared.Rent(BlockSize);
        var heldCount = 0;
        long total = 0;
        try
        {
            while (true)
            {
                var read = await FillAsync(body, current, BlockSize, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                total += read;
                if (total > source.Length)
                {
                    break; // longer than promised: refused below, before the held-back block
                }
                hash.AppendData(current, 0, read);
                other?.AppendData(current, 0, read);
                if (writer is not null)
                {
                    await writer.WriteAsync(current.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                if (heldCount > 0)
                {
                    await context.Response.Body.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).ConfigureAwait(false);
                }
                (current, held) = (held, current);
                heldCount = read;
            }
            var actual = BlobDigest.FromHash(hash.GetHashAndReset());
            var otherMatches = other is null || other.GetHashAndReset().AsSpan().SequenceEqual(source.Other!.Value);
            if (actual != expected || !otherMatches || (source.Length is { } promised && total != promised))
            {
                _logger.LogError("Upstream content of {Ecosystem} artifact {Name} does not match its index (expected SHA-256 {Expected}, got {Actual}); connection aborted, nothing stored",
                    _ecosystem, source.DisplayName, expected, actual);
                _health.RecordArtifactFailure(DateTimeOffset.UtcNow,
                    $"upstream content of {source.DisplayName} does not match its index (expected SHA-256 {expected}, got {actual}); the connection was aborted", integrity: true);
                context.Abort();
                return null;
            }
            if (writer is not null)
            {
                await writer.CommitAsync(expected, cancellationToken).ConfigureAwait(false);
                await PinAsync(source, expected, cancellationToken).ConfigureAwait(false);
            }
            _health.RecordArtifactSuccess(DateTimeOffset.UtcNow);
            if (heldCount > 0)
            {
                await context.Response.Body.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).ConfigureAwait(false);
            }
            if (writer is not null)
            {
                _logger.LogInformation("Stored {Ecosystem} artifact {Name} ({Digest}) while serving it", _ecosystem, source.DisplayName, actual);
            }
            return actual;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(held);
        }
    }

    /// <summary>
    /// One upstream fetch per file whatever the size: the first request for a large file not stored yet is streamed
    /// to while it is stored; requests arriving meanwhile wait for that one download (or for a verify-first download
    /// already under way) and are then served from the store. Returns null when this request was the one streamed to.
    /// </summary>
    private async Task<BlobDigest?> StreamSharedAsync(HttpContext context, ArtifactSource source, string contentType, CancellationToken cancellationToken)
    {
        var key = source.Url.AbsoluteUri;
        var completion = new TaskCompletionSource<BlobDigest>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mine = new Lazy<Task<BlobDigest>>(completion.Task);
        var existing = _downloads.GetOrAdd(key, mine);
        if (!ReferenceEquals(existing, mine))
        {
            try
            {
                return await existing.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or UpstreamUnavailableException && !cancellationToken.IsCancellationRequested)
            {
                // The request streamed to went away or upstream failed it: fetch (once, shared) on this request's behalf.
                return await EnsureStoredAsync(source, cancellationToken).ConfigureAwait(false);
            }
        }
        try
        {
            // Fast path done again under the claim: the file may have been stored just before it.
            if (await FindStoredAsync(source, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                completion.TrySetResult(stored);
                return stored;
            }
            // Several replicas: the one holding the claim stores the file; another asked at the same time streams it
            // verified without storing it, and the requests waiting here then wait for the claim (EnsureStoredAsync).
            await using var claim = _fetchLock is null ? null : await _fetchLock.TryAcquireAsync(ClaimKey(source), cancellationToken).ConfigureAwait(false);
            var storing = _fetchLock is null || claim is not null;
            if (storing && _fetchLock is not null && await FindStoredAsync(source, cancellationToken).ConfigureAwait(false) is { } storedElsewhere)
            {
                completion.TrySetResult(storedElsewhere);
                return storedElsewhere;
            }
            var digest = await StreamAsync(context, source, contentType, storing, cancellationToken).ConfigureAwait(false);
            if (digest is not null && !storing)
            {
                // Out of the table first, so the waiters' fallback starts a fetch of its own rather than finding this one.
                _downloads.TryRemove(new KeyValuePair<string, Lazy<Task<BlobDigest>>>(key, mine));
                completion.TrySetException(new IOException($"{source.DisplayName} was streamed unstored while another replica stores it"));
            }
            else if (digest is { } d)
            {
                completion.TrySetResult(d);
            }
            else
            {
                completion.TrySetException(new UpstreamIntegrityException($"upstream content of {source.DisplayName} does not match its index; it was not stored or served"));
            }
            return null;
        }
        catch (Exception e)
        {
            completion.TrySetException(e);
            throw;
        }
        finally
        {
            _downloads.TryRemove(new KeyValuePair<string, Lazy<Task<BlobDigest>>>(key, mine));
            _ = completion.Task.Exception; // observed: followers may be none
        }
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total, count - total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }

    /// <summary>
    /// The whole download path of an endpoint: serve the stored copy (with Range and ETag); else fetch, verify
    /// and store first (502 with the reason on a mismatch); or, for a large artifact with a known SHA-256,
    /// stream while storing.
    /// </summary>
    public async Task<IResult> ServeAsync(HttpContext context, ArtifactSource source, string contentType, bool large, CancellationToken cancellationToken)
    {
        source = await ApplyPinAsync(source, cancellationToken).ConfigureAwait(false);
        var stored = await FindStoredAsync(source, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            try
            {
                if (large && source.Sha256 is not null && source.Verifier is null && !HttpMethods.IsHead(context.Request.Method))
                {
                    stored = await StreamSharedAsync(context, source, contentType, cancellationToken).ConfigureAwait(false);
                    if (stored is null)
                    {
                        return Results.Empty; // this request was the one streamed to
                    }
                }
                else
                {
                    stored = await EnsureStoredAsync(source, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (UpstreamIntegrityException e)
            {
                return Http.PolicyResponses.BadGateway(e.Message);
            }
            catch (UpstreamUnavailableException e) when (!context.Response.HasStarted)
            {
                return Http.PolicyResponses.BadGateway($"{source.DisplayName} is not stored here and upstream failed: {e.Message}");
            }
            catch (Exception e) when (StorageFull.Is(e) && !context.Response.HasStarted)
            {
                // The partial copy went with its writer (never committed, so never served); the next request tries again.
                var reason = $"the appliance's storage is full: {source.DisplayName} could not be stored, and nothing of it was kept ({e.Message})";
                _logger.LogError("{Ecosystem}: {Reason}", _ecosystem, reason);
                _health.RecordArtifactFailure(DateTimeOffset.UtcNow, reason, integrity: false);
                return Http.PolicyResponses.InsufficientStorage(reason);
            }
        }
        var etag = new EntityTagHeaderValue("\"" + stored.Value.Hex + "\"");
        if (_blobs is ILocalBlobStore local && local.GetLocalPath(stored.Value) is { } path)
        {
            return new StoredFileResult(path, new FileInfo(path).Length, contentType, etag.ToString());
        }
        var stream = await _blobs.OpenReadAsync(stored.Value, cancellationToken).ConfigureAwait(false);
        return stream is null
            ? Http.PolicyResponses.BadGateway($"{source.DisplayName} vanished from the store")
            : Results.Stream(stream, contentType, entityTag: etag, enableRangeProcessing: stream.CanSeek);
    }
}
