using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>The answer to "what may R see of the repository now".</summary>
public abstract record CranViewLookup
{
    public sealed record Found(CranView View, string? StaleReason) : CranViewLookup;

    /// <summary>Nothing can be served: upstream is down and nothing is cached, or the tier's closure is not ready.</summary>
    public sealed record Unavailable(string Reason, bool ClosurePending = false) : CranViewLookup;
}

/// <summary>The answer to a tarball request.</summary>
public abstract record CranFileLookup
{
    public sealed record Found(ArtifactSource Source, string? StaleReason) : CranFileLookup;

    public sealed record Hidden(string Code, string Reason) : CranFileLookup;

    public sealed record NotFound(string Reason) : CranFileLookup;

    public sealed record Unavailable(string Reason, bool ClosurePending = false) : CranFileLookup;
}

/// <summary>
/// The read-through CRAN mirror: the upstream <c>src/contrib/PACKAGES(.gz)</c> and archive listings through the
/// shared <see cref="UpstreamDocumentCache"/>, tarballs through the shared <see cref="ArtifactFetcher"/> (verified
/// against upstream's <c>MD5sum</c>), filtered by the one tier policy into one version per package.
/// </summary>
public sealed partial class CranMirror
{
    public const string Ecosystem = "cran";

    /// <summary>Index-cache ecosystem of facts read from archived tarballs (their DESCRIPTION and MD5).</summary>
    public const string ArchiveMetadataStore = "cran-archive-metadata";

    public const string PackagesGzKey = "src/contrib/PACKAGES.gz";
    public const string PackagesKey = "src/contrib/PACKAGES";
    private const string ArchivePrefix = "src/contrib/Archive/";
    private const string Accept = "*/*";

    private readonly UpstreamDocumentCache _documents;
    private readonly IIndexCacheStore _store;
    private readonly IMemoryCache _memory;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _building = new(1, 1);
    private readonly TimeSpan _retryAfterFailure;
    private CachedView? _filtered;
    private CachedView? _unfiltered;

    public CranMirror(UpstreamDocumentCache documents, ArtifactFetcher artifacts, IIndexCacheStore store, IMemoryCache memory,
        TierPolicyProvider policy, AllowlistClosureRegistry closures, TimeProvider time, ILogger logger, TimeSpan retryAfterFailure)
    {
        _documents = documents;
        Artifacts = artifacts;
        _store = store;
        _memory = memory;
        _policy = policy;
        _closures = closures;
        _time = time;
        _logger = logger;
        _retryAfterFailure = retryAfterFailure;
    }

    public ArtifactFetcher Artifacts { get; }

    public PolicySnapshot Policy => _policy.Current;

    private sealed record CachedView(CranView View, CranIndexState State, long Generation, AllowlistClosure? Closure, DateTimeOffset ValidUntil);

    private Uri UpstreamUrl(string relative) => new(_documents.Upstream.BaseUrl, relative);

    private static string ArchiveKey(string package) => ArchivePrefix + package + "/";

    /// <summary>The upstream index: <c>PACKAGES.gz</c>, or <c>PACKAGES</c> when upstream has no compressed one.</summary>
    public async Task<DocumentLookup<CranIndexState>> GetIndexAsync(CancellationToken cancellationToken)
    {
        var lookup = await _documents.GetAsync(PackagesGzKey, UpstreamUrl(PackagesGzKey), Accept, IndexCodec.Instance, cancellationToken).ConfigureAwait(false);
        return lookup.NotFound
            ? await _documents.GetAsync(PackagesKey, UpstreamUrl(PackagesKey), Accept, IndexCodec.Instance, cancellationToken).ConfigureAwait(false)
            : lookup;
    }

    /// <summary>Re-reads a cached upstream document now (the scheduled refresh); keys this mirror does not own are ignored.</summary>
    public Task RefreshNowAsync(string key, CancellationToken cancellationToken)
    {
        if (key is PackagesGzKey or PackagesKey)
        {
            return _documents.RefreshNowAsync(key, UpstreamUrl(key), Accept, IndexCodec.Instance, cancellationToken);
        }
        if (key.StartsWith(ArchivePrefix, StringComparison.Ordinal) && key.EndsWith('/')
            && key[ArchivePrefix.Length..^1] is var package && CranDependencies.IsValidName(package))
        {
            return _documents.RefreshNowAsync(key, UpstreamUrl(key), Accept, new ArchiveCodec(package), cancellationToken);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// The repository as the tier lets R see it now. With <paramref name="applyAllowlist"/> false, the allowlist
    /// is not consulted (the closure computation needs that view); the quarantine still applies.
    /// </summary>
    public async Task<CranViewLookup> GetViewAsync(bool applyAllowlist, CancellationToken cancellationToken)
    {
        var policy = _policy.Current;
        var admission = applyAllowlist ? _closures.Admit(policy, Ecosystem, normalizedName: null) : AllowlistAdmission.Open;
        if (!admission.Admitted)
        {
            return new CranViewLookup.Unavailable(admission.Reason!, ClosurePending: true);
        }
        var closure = admission.Closure;
        var index = await GetIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Document is not { } state)
        {
            return new CranViewLookup.Unavailable(index.NotFound ? "upstream has no src/contrib/PACKAGES" : index.StaleReason ?? "upstream unavailable");
        }
        if (Current(applyAllowlist, state, policy, closure) is { } ready)
        {
            return new CranViewLookup.Found(ready, index.StaleReason);
        }
        await _building.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Current(applyAllowlist, state, policy, closure) is { } built)
            {
                return new CranViewLookup.Found(built, index.StaleReason);
            }
            var now = _time.GetUtcNow();
            var names = state.ByName.Keys.Where(n => closure is null || closure.Contains(n));
            var choices = new List<CranChoice>();
            var failed = false;
            foreach (var name in names)
            {
                var (choice, archiveFailed) = await ChooseAsync(state, name, policy.Policy, now, cancellationToken).ConfigureAwait(false);
                choices.Add(choice);
                failed |= archiveFailed;
            }
            var view = new CranView(state, policy, closure, choices, now);
            foreach (var (name, reason) in view.Excluded)
            {
                _logger.LogInformation("{Ecosystem} package {Package} is not listed at tier {Tier}: {Reason}", Ecosystem, name, policy.Policy.Tier, reason);
            }
            var validUntil = failed && now + _retryAfterFailure < view.ValidUntil ? now + _retryAfterFailure : view.ValidUntil;
            var cached = new CachedView(view, state, policy.Generation, closure, validUntil);
            if (applyAllowlist)
            {
                _filtered = cached;
            }
            else
            {
                _unfiltered = cached;
            }
            return new CranViewLookup.Found(view, index.StaleReason);
        }
        finally
        {
            _building.Release();
        }
    }

    private CranView? Current(bool applyAllowlist, CranIndexState state, PolicySnapshot policy, AllowlistClosure? closure)
    {
        var cached = applyAllowlist ? _filtered : _unfiltered;
        return cached is not null && ReferenceEquals(cached.State, state) && cached.Generation == policy.Generation
            && ReferenceEquals(cached.Closure, closure) && _time.GetUtcNow() < cached.ValidUntil
            ? cached.View
            : null;
    }

    /// <summary>The version R would see of one package, the allowlist aside (what the closure resolves against).</summary>
    public async Task<(CranChoice Choice, bool ArchiveFailed)> ChooseAsync(CranIndexState state, string name, TierPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = state.ByName.TryGetValue(name, out var list) ? list : [];
        if (!CranChoice.NeedsArchive(current, policy, now))
        {
            return (CranChoice.Choose(name, current, null, policy, now), false);
        }
        // Every current version is still in quarantine: the newest archived version past it, newest first.
        var archived = new List<CranPackage>();
        try
        {
            var listing = await GetArchiveListingAsync(name, cancellationToken).ConfigureAwait(false);
            foreach (var version in (listing?.Versions ?? []).OrderByDescending(v => Core.Packages.RVersion.Parse(v)))
            {
                var package = await GetArchivedPackageAsync(name, version, cancellationToken).ConfigureAwait(false);
                if (package is null)
                {
                    continue;
                }
                archived.Add(package);
                if (CranChoice.Decide(package, policy, now).Visible)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is UpstreamUnavailableException or UpstreamIntegrityException or InvalidDataException or FormatException)
        {
            _logger.LogWarning("{Ecosystem}: the archive of {Package} could not be read: {Reason}", Ecosystem, name, e.Message);
            return (CranChoice.Choose(name, current, archived, policy, now), true);
        }
        return (CranChoice.Choose(name, current, archived, policy, now), false);
    }

    /// <summary>The versions in upstream's <c>src/contrib/Archive/&lt;pkg&gt;/</c>, or null when it has none.</summary>
    public async Task<CranArchiveListing?> GetArchiveListingAsync(string package, CancellationToken cancellationToken)
    {
        var key = ArchiveKey(package);
        var lookup = await _documents.GetAsync(key, UpstreamUrl(key), "text/html, */*;q=0.1", new ArchiveCodec(package), cancellationToken).ConfigureAwait(false);
        if (lookup.Document is { } listing)
        {
            return listing;
        }
        return lookup.NotFound ? null : throw new UpstreamUnavailableException(lookup.StaleReason ?? $"the archive of {package} could not be read");
    }

    /// <summary>
    /// An archived version with the facts of its own DESCRIPTION (<c>Date/Publication</c>, dependencies) and the
    /// MD5 of its tarball. Upstream gives no hash for archived tarballs: the first copy fetched is pinned by its
    /// SHA-256 in the blob store and served unchanged from then on.
    /// </summary>
    public async Task<CranPackage?> GetArchivedPackageAsync(string package, string version, CancellationToken cancellationToken)
    {
        var key = $"{package}_{version}";
        if (_memory.TryGetValue("cran-archived:" + key, out CranPackage? known) && known is not null)
        {
            return known;
        }
        var stored = await _store.GetAsync(ArchiveMetadataStore, key, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            var records = Dcf.Parse(Encoding.UTF8.GetString(stored.Content));
            known = records.Count == 1 ? new CranPackage(records[0], archived: true) : null;
        }
        if (known is null)
        {
            var source = ArchivedSource(package, version);
            var digest = await Artifacts.EnsureStoredAsync(source, cancellationToken).ConfigureAwait(false);
            string md5;
            DcfRecord? description;
            await using (var stream = await Artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"stored blob {digest} disappeared"))
            {
                md5 = await CranDescriptionReader.Md5Async(stream, cancellationToken).ConfigureAwait(false);
            }
            await using (var stream = await Artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"stored blob {digest} disappeared"))
            {
                description = await CranDescriptionReader.ReadAsync(stream, package, cancellationToken).ConfigureAwait(false);
            }
            if (description is null || description["Package"]?.Trim() != package || description["Version"]?.Trim() != version)
            {
                _logger.LogWarning("{Ecosystem}: archived {File} has no DESCRIPTION of {Package} {Version}; it is not offered", Ecosystem, source.DisplayName, package, version);
                return null;
            }
            var record = description.With("MD5sum", md5);
            await _store.PutAsync(ArchiveMetadataStore, key, new CachedIndex(Encoding.UTF8.GetBytes(Dcf.Render([record])), _time.GetUtcNow(), null), cancellationToken)
                .ConfigureAwait(false);
            known = new CranPackage(record, archived: true);
        }
        _memory.Set("cran-archived:" + key, known, new MemoryCacheEntryOptions { Size = 2048 });
        return known;
    }

    /// <summary>Where a current version's tarball comes from, and the MD5 it must have.</summary>
    public ArtifactSource SourceOf(CranPackage package) => package.Archived
        ? ArchivedSource(package.Name, package.VersionText)
        : new ArtifactSource(UpstreamUrl("src/contrib/" + Escape(package.RelativePath)), package.FileName, null,
            new ExpectedHash(HashAlgorithmName.MD5, Convert.FromHexString(package.Md5!)));

    private ArtifactSource ArchivedSource(string package, string version) =>
        new(UpstreamUrl($"{ArchivePrefix}{Uri.EscapeDataString(package)}/{Uri.EscapeDataString($"{package}_{version}.tar.gz")}"), $"{package}_{version}.tar.gz", null);

    private static string Escape(string relativePath) => string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString));

    [GeneratedRegex(@"^(?<package>[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])_(?<version>[0-9]+(?:[.\-][0-9]+)*)\.tar\.gz$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex TarballName();

    /// <summary>A tarball below <c>src/contrib/</c>: a current version (<c>pkg_ver.tar.gz</c>, or under its upstream <c>Path:</c>) or an archived one.</summary>
    public async Task<CranFileLookup> FindFileAsync(string relativePath, CancellationToken cancellationToken)
    {
        var slash = relativePath.LastIndexOf('/');
        var directory = slash < 0 ? null : relativePath[..slash];
        var match = TarballName().Match(relativePath[(slash + 1)..]);
        if (!match.Success || relativePath.Split('/').Any(s => s is "" or "." or ".."))
        {
            return new CranFileLookup.NotFound($"'{relativePath}' is not a package tarball of this repository");
        }
        var name = match.Groups["package"].Value;
        var version = match.Groups["version"].Value;
        var archived = directory == "Archive/" + name;

        var snapshot = _policy.Current;
        var policy = snapshot.Policy;
        var admission = _closures.Admit(snapshot, Ecosystem, name);
        if (!admission.Admitted)
        {
            return admission.ClosurePending
                ? new CranFileLookup.Unavailable(admission.Reason!, ClosurePending: true)
                : new CranFileLookup.Hidden(VersionDecision.NotAllowlisted, admission.Reason!);
        }

        CranPackage? package;
        string? stale = null;
        if (archived)
        {
            try
            {
                var listing = await GetArchiveListingAsync(name, cancellationToken).ConfigureAwait(false);
                if (listing is null || !listing.Versions.Contains(version, StringComparer.Ordinal))
                {
                    return new CranFileLookup.NotFound($"upstream's archive has no {name} {version}");
                }
                package = await GetArchivedPackageAsync(name, version, cancellationToken).ConfigureAwait(false);
            }
            catch (UpstreamIntegrityException e)
            {
                return new CranFileLookup.Unavailable(e.Message);
            }
            catch (Exception e) when (e is UpstreamUnavailableException or InvalidDataException or FormatException)
            {
                return new CranFileLookup.Unavailable($"{name}_{version}.tar.gz is not stored here and upstream failed: {e.Message}");
            }
            if (package is null)
            {
                return new CranFileLookup.NotFound($"archived {name}_{version}.tar.gz is not an R source package of {name} {version}");
            }
        }
        else
        {
            var index = await GetIndexAsync(cancellationToken).ConfigureAwait(false);
            if (index.Document is not { } state)
            {
                return new CranFileLookup.Unavailable(index.StaleReason ?? "upstream has no src/contrib/PACKAGES");
            }
            stale = index.StaleReason;
            package = state.ByName.TryGetValue(name, out var list)
                ? list.FirstOrDefault(p => p.VersionText == version && p.UpstreamPath == directory)
                : null;
            if (package is null)
            {
                return new CranFileLookup.NotFound($"upstream's PACKAGES has no {relativePath}");
            }
        }

        var decision = CranChoice.Decide(package, policy, _time.GetUtcNow());
        if (!decision.Visible)
        {
            return new CranFileLookup.Hidden(decision.Code, decision.Reason);
        }
        if (policy.AppliesQuarantine)
        {
            var view = await GetViewAsync(applyAllowlist: true, cancellationToken).ConfigureAwait(false);
            if (view is CranViewLookup.Found found && found.View.Excluded.TryGetValue(name, out var why))
            {
                return new CranFileLookup.Hidden(CranView.DependenciesUnavailable, $"tier {policy.Tier}: {name} is not served because {why}");
            }
        }
        return new CranFileLookup.Found(SourceOf(package), stale);
    }

    private sealed class IndexCodec : IDocumentCodec<CranIndexState>
    {
        public static readonly IndexCodec Instance = new();

        public CranIndexState Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            new(CranIndexParser.ParsePackages(document.Content), fetchedAt);

        // Stored compressed: CRAN's PACKAGES is ~12 MB as text.
        public byte[] Serialize(CranIndexState value) => CranIndexParser.Gzip(Encoding.UTF8.GetBytes(Dcf.Render(value.Records)));

        public CranIndexState Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            new(CranIndexParser.ParsePackages(content), fetchedAt);

        public long SizeOf(CranIndexState value) => value.EstimatedSize;
    }

    private sealed class ArchiveCodec(string package) : IDocumentCodec<CranArchiveListing>
    {
        public CranArchiveListing Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            CranIndexParser.ParseArchiveListing(package, document.Content, document.ContentType);

        public byte[] Serialize(CranArchiveListing value) => CranIndexParser.SerializeListing(value);

        public CranArchiveListing Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) => CranIndexParser.DeserializeListing(package, content);

        public long SizeOf(CranArchiveListing value) => 128 + value.Versions.Sum(v => 32L + v.Length * 2);
    }
}
