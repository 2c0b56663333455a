using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
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

    public NuGetMirror(Uri serviceIndexUrl, UpstreamDocumentCache documents, ArtifactFetcher artifacts, IIndexCacheStore store, IMemoryCache memory,
        TierPolicyProvider policy, AllowlistClosureRegistry closures, TimeProvider time)
    {
        ServiceIndexUrl = serviceIndexUrl;
        _documents = documents;
        Artifacts = artifacts;
        _store = store;
        _memory = memory;
        _policy = policy;
        _closures = closures;
        _time = time;
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
            || !ReferenceEquals(view.Closure, closure) || now >= view.ValidUntil)
        {
            view = new NuGetPackageView(entry.State, policy, closure, now);
            _memory.Set(viewKey, view, new MemoryCacheEntryOptions { Size = entry.State.EstimatedSize * 2 });
        }
        return new PackageLookup.Found(view, stale.Count == 0 ? null : string.Join("; ", stale));
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
    /// Where a package comes from and what it must hash to. The hash is the registration's <c>packageHash</c>, or
    /// else the upstream catalog leaf's. Returns the reason instead when the package cannot be verified.
    /// </summary>
    public async Task<(ArtifactSource? Source, string? Error)> SourceOfAsync(string lowerId, NuGetVersionEntry entry, CancellationToken cancellationToken)
    {
        var fileName = $"{lowerId}.{entry.Normalized}.nupkg";
        var url = await DownloadUrlAsync(lowerId, entry, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return (null, $"upstream names no download location for {fileName}");
        }
        if (entry.Sha512 is not null || entry.Sha256 is not null)
        {
            return (new ArtifactSource(url, fileName, entry.Sha256, entry.Sha512), null);
        }
        if (entry.Leaf.CatalogUrl is not { } catalogText || !Uri.TryCreate(catalogText, UriKind.Absolute, out var catalogUrl))
        {
            return (null, $"upstream gives no package hash for {fileName}, so it cannot be verified");
        }
        if (!_documents.Upstream.IsAllowed(catalogUrl))
        {
            return (null, $"the catalog leaf of {fileName} is on {catalogUrl.GetLeftPart(UriPartial.Authority)}, not a configured upstream origin, so {fileName} cannot be verified");
        }
        // Catalog leaves never change, so one good copy is enough: it is cached like any index document.
        var leaf = await _documents.GetAsync(CatalogPrefix + catalogUrl.AbsoluteUri, catalogUrl, Accept, CatalogCodec.Instance, cancellationToken).ConfigureAwait(false);
        if (leaf.Document is not { } catalog)
        {
            return (null, $"the catalog leaf with the hash of {fileName} could not be read: {(leaf.NotFound ? "upstream has no such document" : leaf.StaleReason)}");
        }
        if (!string.Equals(catalog.Id, lowerId, StringComparison.OrdinalIgnoreCase)
            || !NuGetPackageState.TryNormalize(catalog.Version, out var catalogVersion) || catalogVersion != entry.Normalized)
        {
            return (null, $"the catalog leaf of {fileName} describes {catalog.Id} {catalog.Version}, so it cannot vouch for {fileName}");
        }
        var (sha512, sha256) = NuGetPackageState.ParseHash(catalog.PackageHash, catalog.PackageHashAlgorithm);
        return sha512 is null && sha256 is null
            ? (null, $"upstream gives no usable package hash for {fileName}, so it cannot be verified")
            : (new ArtifactSource(url, fileName, sha256, sha512), null);
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
        public NuGetRegistrationIndex Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            NuGetUpstreamParser.ParseRegistrationIndex(document.Content, document.Url, lowerId);

        public byte[] Serialize(NuGetRegistrationIndex value) => JsonSerializer.SerializeToUtf8Bytes(value, NuGetStorageJsonContext.Default.NuGetRegistrationIndex);

        public NuGetRegistrationIndex Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            JsonSerializer.Deserialize(content, NuGetStorageJsonContext.Default.NuGetRegistrationIndex)!;

        public long SizeOf(NuGetRegistrationIndex value) => 256 + value.Pages.Sum(p => 256L + (p.Items?.Count ?? 0) * 1024L);
    }

    private sealed class PageCodec(string lowerId) : IDocumentCodec<NuGetRegistrationPage>
    {
        public NuGetRegistrationPage Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            NuGetUpstreamParser.ParseRegistrationPage(document.Content, document.Url, lowerId);

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
