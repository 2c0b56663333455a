using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// The read-through NuGet v3 mirror. The upstream's service index, registration indexes, linked registration
/// pages and (when a registration gives no hash) catalog leaves all go through the shared
/// <see cref="UpstreamDocumentCache"/>; packages through the shared <see cref="ArtifactFetcher"/>, verified against
/// upstream's SHA-512 <c>packageHash</c>. Both are filtered by the one tier policy.
/// </summary>
public sealed class NuGetMirror
{
    public const string Ecosystem = "nuget";
    public const string ServiceIndexKey = "service-index";
    public const string RegistrationPrefix = "registration:";
    public const string PagePrefix = "page:";
    public const string CatalogPrefix = "catalog:";
    private const string Accept = "application/json";

    /// <summary>Bound on the cached ids a search looks at (Tier 0-2), so a search cannot become a crawl.</summary>
    public const int MaximumSearchIds = 2000;

    private readonly UpstreamDocumentCache _documents;
    private readonly IIndexCacheStore _store;
    private readonly IMemoryCache _memory;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly TimeProvider _time;
    private readonly NuGetFactsStore _facts;
    private readonly IFirstSeenStore _firstSeen;
    private readonly MirrorStatus _health;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task>> _learning = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _verifySlots = new(MaximumConcurrentVerifications);

    /// <summary>How many packages are fetched and verified at once to learn their dates or dependencies.</summary>
    public const int MaximumConcurrentVerifications = 4;

    /// <summary>
    /// How long building a package's view at Tier 2+ waits for the versions with no upstream date to be fetched and
    /// verified (their signature timestamp is their date). What is not learnt by then goes on in the background; the
    /// first-seen time applies meanwhile, and the view is rebuilt when the rest is known.
    /// </summary>
    public static readonly TimeSpan DateLearningWait = TimeSpan.FromSeconds(60);

    public NuGetMirror(Uri serviceIndexUrl, UpstreamDocumentCache documents, ArtifactFetcher artifacts, IIndexCacheStore store, IMemoryCache memory,
        TierPolicyProvider policy, AllowlistClosureRegistry closures, TimeProvider time,
        IFirstSeenStore firstSeen, MirrorStatus health, ILogger logger, IEnumerable<string> trustedSigners, string? temporaryDirectory = null)
    {
        TemporaryDirectory = temporaryDirectory;
        ServiceIndexUrl = serviceIndexUrl;
        _documents = documents;
        Artifacts = artifacts;
        _store = store;
        _memory = memory;
        _policy = policy;
        _closures = closures;
        _time = time;
        _facts = new NuGetFactsStore(store);
        _firstSeen = firstSeen;
        _health = health;
        _logger = logger;
        TrustedSigners = trustedSigners.Select(NormalizeFingerprint).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>SHA-256 fingerprints (upper-case hex) of the repository signers trusted to vouch for a package (<c>SafeHaven:Mirrors:nuget:TrustedSigners</c>).</summary>
    public IReadOnlySet<string> TrustedSigners { get; }

    public NuGetFactsStore Facts => _facts;

    /// <summary>Where downloaded packages are copied to be verified before they are stored (the data directory's <c>tmp</c>).</summary>
    public string? TemporaryDirectory { get; }

    /// <summary>A fingerprint as configured (hex, with or without ':' or spaces, any case), as upper-case hex.</summary>
    public static string NormalizeFingerprint(string text) =>
        new string(text.Where(c => c is not (':' or ' ' or '-')).ToArray()).ToUpperInvariant();

    /// <summary>Whether a configured fingerprint is a SHA-256 fingerprint (64 hex digits once separators are dropped).</summary>
    public static bool IsValidFingerprint(string text)
    {
        var normalized = NormalizeFingerprint(text);
        return normalized.Length == 64 && normalized.All(char.IsAsciiHexDigit);
    }

    /// <summary>The configured upstream service index (<c>SafeHaven:Mirrors:nuget:Upstream</c>).</summary>
    public Uri ServiceIndexUrl { get; }

    public ArtifactFetcher Artifacts { get; }

    public PolicySnapshot Policy => _policy.Current;

    /// <summary>NuGet package ids: letters, digits, '.', '_' and '-', at most 100 characters.</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 100 && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private async Task<(NuGetServiceIndex? Index, string? StaleOrError)> GetServiceIndexAsync(CancellationToken cancellationToken)
    {
        var lookup = await _documents.GetAsync(ServiceIndexKey, ServiceIndexUrl, Accept, ServiceIndexCodec.Instance, cancellationToken).ConfigureAwait(false);
        return lookup.Document is { } index
            ? (index, lookup.StaleReason)
            : (null, lookup.NotFound ? $"upstream has no service index at {ServiceIndexUrl}" : lookup.StaleReason ?? "upstream service index unavailable");
    }

    private static Uri RegistrationUrl(NuGetServiceIndex index, string lowerId) =>
        new(new Uri(index.RegistrationsBaseUrl!), Uri.EscapeDataString(lowerId) + "/index.json");

    private sealed record StateEntry(NuGetRegistrationIndex Index, NuGetRegistrationPage?[] Pages, NuGetPackageState State);

    /// <summary>
    /// The package as the tier lets clients see it now. With <paramref name="applyAllowlist"/> false the allowlist
    /// is not consulted (the closure computation itself needs that view); the quarantine still applies.
    /// </summary>
    public async Task<PackageLookup> GetPackageAsync(string lowerId, CancellationToken cancellationToken, bool applyAllowlist = true)
    {
        var policy = _policy.Current;
        var admission = applyAllowlist ? _closures.Admit(policy, Ecosystem, lowerId) : AllowlistAdmission.Open;
        if (!admission.Admitted)
        {
            return PackageLookup.Refused(admission);
        }
        var closure = admission.Closure;

        var (serviceIndex, serviceStale) = await GetServiceIndexAsync(cancellationToken).ConfigureAwait(false);
        if (serviceIndex is null)
        {
            return new PackageLookup.Unavailable(serviceStale!);
        }
        var codec = new RegistrationCodec(lowerId);
        var lookup = await _documents.GetAsync(RegistrationPrefix + lowerId, RegistrationUrl(serviceIndex, lowerId), Accept, codec, cancellationToken).ConfigureAwait(false);
        if (lookup.Document is not { } registration)
        {
            return lookup.NotFound
                ? new PackageLookup.NotFound($"upstream has no package '{lowerId}'")
                : new PackageLookup.Unavailable(lookup.StaleReason ?? "upstream unavailable");
        }
        var stale = new List<string>();
        if (serviceStale is not null)
        {
            stale.Add(serviceStale);
        }
        if (lookup.StaleReason is not null)
        {
            stale.Add(lookup.StaleReason);
        }

        // Linked pages are documents of their own, cached and refreshed like the index.
        var pages = new NuGetRegistrationPage?[registration.Pages.Count];
        for (var i = 0; i < registration.Pages.Count; i++)
        {
            var page = registration.Pages[i];
            if (page.Items is not null)
            {
                continue;
            }
            var url = new Uri(page.Url!);
            if (!_documents.Upstream.IsAllowed(url))
            {
                return new PackageLookup.Unavailable($"the registration of '{lowerId}' links a page on {url.GetLeftPart(UriPartial.Authority)}, which is not a configured upstream origin");
            }
            var pageLookup = await _documents.GetAsync($"{PagePrefix}{lowerId}:{url.AbsoluteUri}", url, Accept, new PageCodec(lowerId), cancellationToken).ConfigureAwait(false);
            if (pageLookup.Document is not { } fetched)
            {
                return new PackageLookup.Unavailable($"registration page {url} of '{lowerId}' could not be read: {(pageLookup.NotFound ? "upstream has no such page" : pageLookup.StaleReason)}");
            }
            if (pageLookup.StaleReason is not null)
            {
                stale.Add(pageLookup.StaleReason);
            }
            pages[i] = fetched;
        }

        var stateKey = "nuget-state:" + lowerId;
        if (!_memory.TryGetValue(stateKey, out StateEntry? entry) || entry is null || !ReferenceEquals(entry.Index, registration)
            || !entry.Pages.AsSpan().SequenceEqual(pages, ReferenceEqualityComparer.Instance))
        {
            var leaves = registration.Pages.SelectMany((p, i) => p.Items ?? pages[i]!.Items);
            var state = new NuGetPackageState(lowerId, leaves);
            entry = new StateEntry(registration, pages, state);
            _memory.Set(stateKey, entry, new MemoryCacheEntryOptions { Size = state.EstimatedSize });
        }

        var now = _time.GetUtcNow();
        var viewKey = (closure is null ? "nuget-view-all:" : "nuget-view:") + lowerId;
        if (!_memory.TryGetValue(viewKey, out NuGetPackageView? view)
            || view is null || !ReferenceEquals(view.State, entry.State) || view.PolicyGeneration != policy.Generation
            || !ReferenceEquals(view.Closure, closure) || now >= view.ValidUntil || view.Knowledge.Generation != _facts.Generation(lowerId)
            || view.Knowledge.PinGeneration != Artifacts.PinGeneration)
        {
            var knowledge = await GatherKnowledgeAsync(entry.State, policy, now, cancellationToken).ConfigureAwait(false);
            view = new NuGetPackageView(entry.State, policy, closure, _time.GetUtcNow(), knowledge);
            _memory.Set(viewKey, view, new MemoryCacheEntryOptions { Size = entry.State.EstimatedSize * 2 });
            ReportView(view);
        }
        return new PackageLookup.Found(view, stale.Count == 0 ? null : string.Join("; ", stale));
    }

    /// <summary>
    /// What is known of the package's versions beyond the registration. At Tier 2+, a version with no upstream
    /// <c>published</c> and no verified signature date gets a first-seen time (recorded once), and its package is
    /// fetched and verified to learn the signature's timestamp: a few at a time, each once, waiting at most
    /// <see cref="DateLearningWait"/>; the rest goes on in the background and the view is rebuilt when it is known.
    /// </summary>
    private async Task<NuGetKnowledge> GatherKnowledgeAsync(NuGetPackageState state, PolicySnapshot policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lowerId = state.LowerId;
        var generation = _facts.Generation(lowerId);
        var facts = await _facts.GetAsync(lowerId, state.Entries.Select(e => e.Normalized), cancellationToken).ConfigureAwait(false);
        IReadOnlyDictionary<string, DateTimeOffset> firstSeen = new Dictionary<string, DateTimeOffset>();
        if (policy.Policy.AppliesQuarantine)
        {
            var undated = state.Entries
                .Where(e => e.Published is null && facts.GetValueOrDefault(e.Normalized)?.SignedAt is null && _facts.RefusalOf(lowerId, e.Normalized) is null)
                .ToList();
            if (undated.Count > 0)
            {
                var seen = await _firstSeen.GetOrRecordAsync(Ecosystem, undated.Select(e => lowerId + "/" + e.Normalized).ToList(), now, cancellationToken).ConfigureAwait(false);
                firstSeen = undated.Where(e => seen.ContainsKey(lowerId + "/" + e.Normalized))
                    .ToDictionary(e => e.Normalized, e => seen[lowerId + "/" + e.Normalized], StringComparer.Ordinal);
                var toLearn = undated.Where(e => !facts.ContainsKey(e.Normalized) && (e.Verifiable || TrustedSigners.Count > 0)).ToList();
                if (toLearn.Count > 0)
                {
                    var learning = Task.WhenAll(toLearn.Select(e => LearnAsync(lowerId, e)));
                    try
                    {
                        await learning.WaitAsync(DateLearningWait, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        _logger.LogInformation("nuget {Id}: still verifying {Count} versions to learn their dates; first-seen times apply until then", lowerId, toLearn.Count);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Each failure is recorded (refusal) or retried next time (upstream unavailable).
                    }
                    generation = _facts.Generation(lowerId);
                    facts = await _facts.GetAsync(lowerId, state.Entries.Select(e => e.Normalized), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        var refusals = state.Entries
            .Select(e => (e.Normalized, Reason: _facts.RefusalOf(lowerId, e.Normalized)))
            .Where(r => r.Reason is not null)
            .ToDictionary(r => r.Normalized, r => r.Reason!, StringComparer.Ordinal);
        var (pinnedSha512, pinGeneration) = await PinsAsync(state, cancellationToken).ConfigureAwait(false);
        return new NuGetKnowledge(facts, refusals, firstSeen, TrustedSigners.Count > 0, generation)
        {
            PinnedSha512 = pinnedSha512,
            PinGeneration = pinGeneration,
        };
    }

    private static string FileName(string lowerId, string normalized) => $"{lowerId}.{normalized}.nupkg";

    /// <summary>
    /// The pinned SHA-512 of each version's file (one store query), and the pins' generation they were read at. A
    /// version whose registration hash contradicts its pin (upstream replaced the file) is reported once: logged, on
    /// <c>/healthz</c> and in the audit log.
    /// </summary>
    private async Task<(IReadOnlyDictionary<string, string> PinnedSha512, long Generation)> PinsAsync(NuGetPackageState state, CancellationToken cancellationToken)
    {
        var generation = Artifacts.PinGeneration;
        var names = state.Entries.Select(e => FileName(state.LowerId, e.Normalized)).ToList();
        var pins = await Artifacts.GetPinsAsync(names, cancellationToken).ConfigureAwait(false);
        if (pins.Count == 0)
        {
            return (new Dictionary<string, string>(), generation);
        }
        await Artifacts.FindReplacedAsync(state.Entries
            .Where(e => e.Sha512 is not null || e.Sha256 is not null)
            .Select(e => new ListedFile(FileName(state.LowerId, e.Normalized), e.Sha256, e.Sha512))
            .ToList(), cancellationToken).ConfigureAwait(false);
        var pinned = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in state.Entries)
        {
            if (pins.TryGetValue(FileName(state.LowerId, entry.Normalized), out var pin) && pin.Other is { } sha512 && sha512.Algorithm == HashAlgorithmName.SHA512)
            {
                pinned[entry.Normalized] = Convert.ToBase64String(sha512.Value);
            }
        }
        return (pinned, generation);
    }

    /// <summary>Coverage for <c>/healthz</c>, and each hiding reason an operator can act on logged once per package.</summary>
    private void ReportView(NuGetPackageView view)
    {
        var lowerId = view.State.LowerId;
        _health.RecordCoverage(lowerId, new PackageCoverage(view.State.Entries.Count, view.HiddenByCode));
        foreach (var code in new[] { VersionDecision.Unverifiable, VersionDecision.NoUploadDate })
        {
            var hidden = view.State.Entries.Where(e => view.Decisions[e.Normalized].Code == code).ToList();
            if (hidden.Count == 0)
            {
                continue;
            }
            var reason = $"{hidden.Count} of {view.State.Entries.Count} versions hidden as '{code}', e.g. {view.Decisions[hidden[^1].Normalized].Reason}";
            if (_health.IsNewDecision(lowerId, code, reason))
            {
                _logger.LogWarning("nuget {Id}: {Reason}", lowerId, reason);
            }
        }
        if (view.Visible.Count == 0 && view.State.Entries.Count > 0
            && _health.IsNewDecision(lowerId, "no-visible-version", view.State.Entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            _logger.LogWarning("nuget {Id}: none of its {Count} upstream versions is visible at this tier", lowerId, view.State.Entries.Count);
        }
    }

    /// <summary>
    /// Fetches, verifies and stores one version's package (once, however many ask; a few at a time), so its signed
    /// date and <c>.nuspec</c> dependencies are known. Failures are recorded as refusals by the verifier, or (upstream
    /// unavailable) left to be retried.
    /// </summary>
    public Task LearnAsync(string lowerId, NuGetVersionEntry entry)
    {
        var key = lowerId + "/" + entry.Normalized;
        var lazy = _learning.GetOrAdd(key, _ => new Lazy<Task>(async () =>
        {
            try
            {
                await _verifySlots.WaitAsync().ConfigureAwait(false);
                try
                {
                    await EnsureVerifiedAsync(lowerId, entry, CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    _verifySlots.Release();
                }
            }
            finally
            {
                _learning.TryRemove(key, out Lazy<Task>? _);
            }
        }));
        return lazy.Value;
    }

    /// <summary>
    /// The version's verified facts, fetching and verifying the package first when they are not known. Throws
    /// <see cref="UpstreamIntegrityException"/> when the package is refused, <see cref="UpstreamUnavailableException"/>
    /// when it cannot be fetched, <see cref="ClosureSourceException"/> when it cannot be verified at all.
    /// </summary>
    public async Task<NuGetVersionFacts> EnsureVerifiedAsync(string lowerId, NuGetVersionEntry entry, CancellationToken cancellationToken)
    {
        if (await _facts.GetAsync(lowerId, entry.Normalized, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return known;
        }
        if (_facts.RefusalOf(lowerId, entry.Normalized) is { } refused)
        {
            throw new UpstreamIntegrityException($"{lowerId} {entry.Normalized} was refused: {refused}");
        }
        var (source, error) = await SourceOfAsync(lowerId, entry, cancellationToken).ConfigureAwait(false);
        if (source is null)
        {
            throw new ClosureSourceException(error!);
        }
        var digest = await Artifacts.EnsureStoredAsync(source, cancellationToken).ConfigureAwait(false);
        if (await _facts.GetAsync(lowerId, entry.Normalized, cancellationToken).ConfigureAwait(false) is { } learnt)
        {
            return learnt;
        }
        // Stored before this appliance verified packages itself (by upstream's hash): verify the stored copy.
        await VerifyStoredAsync(digest, source, cancellationToken).ConfigureAwait(false);
        return await _facts.GetAsync(lowerId, entry.Normalized, cancellationToken).ConfigureAwait(false)
            ?? throw new UpstreamIntegrityException($"{lowerId} {entry.Normalized} could not be verified");
    }

    private async Task VerifyStoredAsync(BlobDigest digest, ArtifactSource source, CancellationToken cancellationToken)
    {
        var stream = await Artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
            ?? throw new UpstreamUnavailableException($"{source.DisplayName} vanished from the store");
        await using (stream.ConfigureAwait(false))
        {
            await using var copy = new FileStream(Path.Combine(Directory.CreateDirectory(TemporaryDirectory ?? Path.GetTempPath()).FullName, "safehaven-verify-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
                FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            copy.Position = 0;
            await source.Verifier!.VerifyAsync(copy, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Checks a downloaded package before the store commits it: upstream's SHA-512 when it gives one, the pin of the
    /// first verified download, and (when no upstream hash vouches for it) the trusted repository signature. Records
    /// what it learns (the pin, the signed date, the <c>.nuspec</c> dependencies) or the refusal.
    /// </summary>
    private sealed class PackageVerifier(NuGetMirror mirror, string lowerId, NuGetVersionEntry entry, ExpectedHash? upstreamSha512, bool requireSignature) : IArtifactVerifier
    {
        public string? TemporaryDirectory => mirror.TemporaryDirectory;

        public async Task VerifyAsync(Stream file, CancellationToken cancellationToken)
        {
            var name = $"{lowerId}.{entry.Normalized}.nupkg";
            NuGetVerifiedPackage verified;
            try
            {
                verified = await NuGetPackageVerifier.VerifyAsync(file, lowerId, entry.Normalized, mirror.TrustedSigners, requireSignature, cancellationToken).ConfigureAwait(false);
            }
            catch (NuGetVerificationException e)
            {
                throw mirror.Refuse(lowerId, entry.Normalized, e.Message);
            }
            if (upstreamSha512 is not null && Convert.ToBase64String(upstreamSha512.Value) != verified.Sha512)
            {
                throw mirror.Refuse(lowerId, entry.Normalized, $"its SHA-512 is {verified.Sha512}, not the {Convert.ToBase64String(upstreamSha512.Value)} upstream's index gives");
            }
            // The file name's pin (the generic one every mirror shares) holds the SHA-512 of the first verified copy.
            var pin = await mirror.Artifacts.GetPinAsync(name, cancellationToken).ConfigureAwait(false);
            var known = await mirror._facts.GetAsync(lowerId, entry.Normalized, cancellationToken).ConfigureAwait(false);
            if (pin?.Other is { } pinned && pinned.Algorithm == HashAlgorithmName.SHA512 && Convert.ToBase64String(pinned.Value) != verified.Sha512)
            {
                var when = known is null ? "" : $" at {known.VerifiedAt:O}";
                throw mirror.Refuse(lowerId, entry.Normalized,
                    $"upstream now serves a different file (SHA-512 {verified.Sha512}) from the one first verified here{when} (SHA-512 {Convert.ToBase64String(pinned.Value)})");
            }
            await mirror._facts.RecordVerifiedAsync(lowerId, entry.Normalized,
                known ?? new NuGetVersionFacts(verified.SignedAt, verified.Signer, verified.DependencyGroups, mirror._time.GetUtcNow()),
                cancellationToken).ConfigureAwait(false);
            mirror._logger.LogInformation("nuget {Name} verified: {How}", name,
                verified.Signer is null ? "by upstream's hash" : $"repository signature by {verified.Signer}, timestamped {verified.SignedAt:O}");
        }
    }

    /// <summary>Records a refused package (hidden from then on) and returns the integrity error that stops it being stored.</summary>
    private UpstreamIntegrityException Refuse(string lowerId, string version, string reason)
    {
        _facts.RecordRefusal(lowerId, version, reason);
        _logger.LogError("nuget {Id} {Version} refused: {Reason}; nothing stored or served, and the version is no longer listed", lowerId, version, reason);
        return new UpstreamIntegrityException($"{lowerId}.{version}.nupkg was refused: {reason}; it was not stored or served");
    }

    /// <summary>
    /// The ids a search may answer with: at Tier 3+ the allowlist closure; below, the ids whose registration the
    /// appliance has cached so far (a read-through mirror knows no full list of upstream ids).
    /// </summary>
    public async Task<(IReadOnlyList<string>? Ids, string? Error)> GetSearchableIdsAsync(CancellationToken cancellationToken)
    {
        var policy = _policy.Current;
        if (policy.Policy.RequiresAllowlist)
        {
            var closure = _closures.Get(Ecosystem);
            return closure is null
                ? (null, "the allowlist closure is still being computed")
                : (closure.Packages.Order(StringComparer.Ordinal).ToList(), null);
        }
        var keys = await _store.ListFetchedBeforeAsync(Ecosystem, DateTimeOffset.MaxValue, 50_000, cancellationToken).ConfigureAwait(false);
        return (keys.Where(k => k.StartsWith(RegistrationPrefix, StringComparison.Ordinal))
            .Select(k => k[RegistrationPrefix.Length..])
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Take(MaximumSearchIds)
            .ToList(), null);
    }

    /// <summary>Re-reads a cached document from upstream now (the scheduled refresh).</summary>
    public async Task RefreshNowAsync(string key, CancellationToken cancellationToken)
    {
        if (key == ServiceIndexKey)
        {
            await _documents.RefreshNowAsync(key, ServiceIndexUrl, Accept, ServiceIndexCodec.Instance, cancellationToken).ConfigureAwait(false);
        }
        else if (key.StartsWith(RegistrationPrefix, StringComparison.Ordinal))
        {
            var (serviceIndex, _) = await GetServiceIndexAsync(cancellationToken).ConfigureAwait(false);
            if (serviceIndex is not null)
            {
                var lowerId = key[RegistrationPrefix.Length..];
                await _documents.RefreshNowAsync(key, RegistrationUrl(serviceIndex, lowerId), Accept, new RegistrationCodec(lowerId), cancellationToken).ConfigureAwait(false);
            }
        }
        else if (key.StartsWith(PagePrefix, StringComparison.Ordinal))
        {
            var rest = key[PagePrefix.Length..];
            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && Uri.TryCreate(rest[(colon + 1)..], UriKind.Absolute, out var url))
            {
                await _documents.RefreshNowAsync(key, url, Accept, new PageCodec(rest[..colon]), cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            // Catalog leaves never change, and remembered artifact digests are facts about verified content, not
            // indexes: confirming them keeps the staleness report on /healthz about the indexes that can go stale.
            await _store.TouchAsync(Ecosystem, key, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Where a package comes from and how it is verified: against the registration's <c>packageHash</c>, or else
    /// the upstream catalog leaf's; or else, when trusted signers are configured, by its repository signature; and
    /// always against the SHA-512 pinned at its first verified download. Returns the reason instead when the
    /// package cannot be verified.
    /// </summary>
    public async Task<(ArtifactSource? Source, string? Error)> SourceOfAsync(string lowerId, NuGetVersionEntry entry, CancellationToken cancellationToken)
    {
        var fileName = $"{lowerId}.{entry.Normalized}.nupkg";
        var url = await DownloadUrlAsync(lowerId, entry, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return (null, $"upstream names no download location for {fileName}");
        }
        var (sha512, sha256, hashError) = await UpstreamHashAsync(lowerId, entry, fileName, cancellationToken).ConfigureAwait(false);
        var vouched = sha512 is not null || sha256 is not null;
        if (!vouched && TrustedSigners.Count == 0)
        {
            if (await Artifacts.GetPinAsync(fileName, cancellationToken).ConfigureAwait(false) is not { } pin)
            {
                return (null, hashError ?? $"upstream gives no package hash for {fileName} and no trusted signers are configured, so it cannot be verified");
            }
            // Verified here before: the pin vouches for it (its SHA-512 for the verifier, its SHA-256 for the store).
            if (pin.Other is { } pinned && pinned.Algorithm == HashAlgorithmName.SHA512)
            {
                sha512 = new ExpectedHash(HashAlgorithmName.SHA512, pinned.Value, "the SHA-512 pinned at its first verified download");
            }
            sha256 = pin.Sha256;
            vouched = true;
        }
        var verifier = new PackageVerifier(this, lowerId, entry, sha512, requireSignature: !vouched);
        return (new ArtifactSource(url, fileName, sha256, Other: null, verifier) { PinAlgorithm = HashAlgorithmName.SHA512 }, null);
    }

    /// <summary>The registration's hash, else the upstream catalog leaf's (when it names one), else none and why.</summary>
    private async Task<(ExpectedHash? Sha512, BlobDigest? Sha256, string? Error)> UpstreamHashAsync(string lowerId, NuGetVersionEntry entry, string fileName, CancellationToken cancellationToken)
    {
        if (entry.Sha512 is not null || entry.Sha256 is not null)
        {
            return (entry.Sha512, entry.Sha256, null);
        }
        if (entry.Leaf.CatalogUrl is not { } catalogText || !Uri.TryCreate(catalogText, UriKind.Absolute, out var catalogUrl))
        {
            return (null, null, null);
        }
        if (!_documents.Upstream.IsAllowed(catalogUrl))
        {
            return (null, null, $"the catalog leaf of {fileName} is on {catalogUrl.GetLeftPart(UriPartial.Authority)}, not a configured upstream origin, so {fileName} cannot be verified");
        }
        // Catalog leaves never change, so one good copy is enough: it is cached like any index document.
        var leaf = await _documents.GetAsync(CatalogPrefix + catalogUrl.AbsoluteUri, catalogUrl, Accept, CatalogCodec.Instance, cancellationToken).ConfigureAwait(false);
        if (leaf.Document is not { } catalog)
        {
            return (null, null, $"the catalog leaf with the hash of {fileName} could not be read: {(leaf.NotFound ? "upstream has no such document" : leaf.StaleReason)}");
        }
        if (!string.Equals(catalog.Id, lowerId, StringComparison.OrdinalIgnoreCase)
            || !NuGetPackageState.TryNormalize(catalog.Version, out var catalogVersion) || catalogVersion != entry.Normalized)
        {
            return (null, null, $"the catalog leaf of {fileName} describes {catalog.Id} {catalog.Version}, so it cannot vouch for {fileName}");
        }
        var (sha512, sha256) = NuGetPackageState.ParseHash(catalog.PackageHash, catalog.PackageHashAlgorithm);
        return sha512 is null && sha256 is null
            ? (null, null, $"upstream gives no usable package hash for {fileName}, so it cannot be verified")
            : (sha512, sha256, null);
    }

    private async Task<Uri?> DownloadUrlAsync(string lowerId, NuGetVersionEntry entry, CancellationToken cancellationToken)
    {
        Uri? content = entry.Leaf.PackageContent is { } text && Uri.TryCreate(text, UriKind.Absolute, out var parsed) ? parsed : null;
        if (content is not null && _documents.Upstream.IsAllowed(content))
        {
            return content;
        }
        // The documented flat-container location, on the upstream's own origin.
        var (serviceIndex, _) = await GetServiceIndexAsync(cancellationToken).ConfigureAwait(false);
        if (serviceIndex?.PackageBaseAddress is { } flat)
        {
            var id = Uri.EscapeDataString(lowerId);
            var version = Uri.EscapeDataString(entry.Normalized);
            return new Uri(new Uri(flat), $"{id}/{version}/{id}.{version}.nupkg");
        }
        return content; // refused with a clear reason by UpstreamHttp if it is not on a configured origin
    }

    private sealed class ServiceIndexCodec : IDocumentCodec<NuGetServiceIndex>
    {
        public static readonly ServiceIndexCodec Instance = new();

        public NuGetServiceIndex Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            NuGetUpstreamParser.ParseServiceIndex(document.Content, document.Url);

        public byte[] Serialize(NuGetServiceIndex value) => JsonSerializer.SerializeToUtf8Bytes(value, NuGetStorageJsonContext.Default.NuGetServiceIndex);

        public NuGetServiceIndex Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            JsonSerializer.Deserialize(content, NuGetStorageJsonContext.Default.NuGetServiceIndex)!;

        public long SizeOf(NuGetServiceIndex value) => 512;
    }

    private sealed class RegistrationCodec(string lowerId) : IDocumentCodec<NuGetRegistrationIndex>
    {
        public NuGetRegistrationIndex Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt)
        {
            using var content = document.OpenRead();
            return NuGetUpstreamParser.ParseRegistrationIndex(content, document.Url, lowerId);
        }

        public byte[] Serialize(NuGetRegistrationIndex value) => JsonSerializer.SerializeToUtf8Bytes(value, NuGetStorageJsonContext.Default.NuGetRegistrationIndex);

        public NuGetRegistrationIndex Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            JsonSerializer.Deserialize(content, NuGetStorageJsonContext.Default.NuGetRegistrationIndex)!;

        public long SizeOf(NuGetRegistrationIndex value) => 256 + value.Pages.Sum(p => 256L + (p.Items?.Count ?? 0) * 1024L);
    }

    private sealed class PageCodec(string lowerId) : IDocumentCodec<NuGetRegistrationPage>
    {
        public NuGetRegistrationPage Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt)
        {
            using var content = document.OpenRead();
            return NuGetUpstreamParser.ParseRegistrationPage(content, document.Url, lowerId);
        }

        public byte[] Serialize(NuGetRegistrationPage value) => JsonSerializer.SerializeToUtf8Bytes(value, NuGetStorageJsonContext.Default.NuGetRegistrationPage);

        public NuGetRegistrationPage Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            JsonSerializer.Deserialize(content, NuGetStorageJsonContext.Default.NuGetRegistrationPage)!;

        public long SizeOf(NuGetRegistrationPage value) => 256 + value.Items.Count * 1024L;
    }

    private sealed class CatalogCodec : IDocumentCodec<NuGetCatalogLeaf>
    {
        public static readonly CatalogCodec Instance = new();

        public NuGetCatalogLeaf Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            NuGetUpstreamParser.ParseCatalogLeaf(document.Content);

        public byte[] Serialize(NuGetCatalogLeaf value) => JsonSerializer.SerializeToUtf8Bytes(value, NuGetStorageJsonContext.Default.NuGetCatalogLeaf);

        public NuGetCatalogLeaf Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            JsonSerializer.Deserialize(content, NuGetStorageJsonContext.Default.NuGetCatalogLeaf)!;

        public long SizeOf(NuGetCatalogLeaf value) => 512;
    }
}
