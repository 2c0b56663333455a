using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Cran.Dates;
using SafeHaven.Gateway.Health;
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

    /// <summary>CRAN's package database, at the repository root beside <c>src/</c>: <c>Date/Publication</c> of every current package.</summary>
    public const string PackageDatabaseKey = "web/packages/packages.rds";

    /// <summary>CRAN's archive database: the file times of archived tarballs.</summary>
    public const string ArchiveDatabaseKey = "src/contrib/Meta/archive.rds";

    /// <summary>Index-cache ecosystem of <c>Date/Publication</c> values read from current tarballs' DESCRIPTION.</summary>
    public const string DescriptionDatesStore = "cran-description-dates";
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
    private readonly IFirstSeenStore _firstSeen;
    private readonly MirrorStatus _health;
    private readonly SemaphoreSlim _dating = new(1, 1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstSeenKnown = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _descriptionDates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _descriptionUndated = new(StringComparer.Ordinal);
    private volatile bool _descriptionDatesLoaded;
    private long _learnedGeneration;
    private DatedEntry? _dated;
    private CachedView? _filtered;
    private CachedView? _unfiltered;

    public CranMirror(UpstreamDocumentCache documents, ArtifactFetcher artifacts, IIndexCacheStore store, IMemoryCache memory,
        TierPolicyProvider policy, AllowlistClosureRegistry closures, TimeProvider time, ILogger logger, TimeSpan retryAfterFailure,
        IFirstSeenStore firstSeen, MirrorStatus health)
    {
        _firstSeen = firstSeen;
        _health = health;
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

    private sealed record CachedView(CranView View, CranDatedIndex Index, long Generation, AllowlistClosure? Closure, DateTimeOffset ValidUntil);

    private sealed record DatedEntry(CranDatedIndex Index, DateTimeOffset CheckedAt);

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
        if (key is PackageDatabaseKey)
        {
            return _documents.RefreshNowAsync(key, UpstreamUrl(key), Accept, CranDatabaseCodec<CranPackageDatabase>.Packages, cancellationToken);
        }
        if (key is ArchiveDatabaseKey)
        {
            return _documents.RefreshNowAsync(key, UpstreamUrl(key), Accept, CranDatabaseCodec<CranArchiveDatabase>.Archive, cancellationToken);
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
        var index = await GetDatedIndexAsync(cancellationToken).ConfigureAwait(false);
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
            choices = await WithPinnedHashesAsync(choices, cancellationToken).ConfigureAwait(false);
            var view = new CranView(state.State, policy, closure, choices, now);
            Report(view, policy.Policy);
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

    /// <summary>
    /// Tells the operator what the view hides: coverage per package for <c>/healthz</c> (current versions upstream,
    /// and how many are hidden for each reason), and each decision in the log once per package, not per rebuild.
    /// </summary>
    private void Report(CranView view, TierPolicy policy)
    {
        foreach (var choice in view.Choices.Values)
        {
            var current = choice.Candidates.Where(c => !c.Package.Archived).ToList();
            var hidden = current.Where(c => !c.Decision.Visible).GroupBy(c => c.Decision.Code, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            _health.RecordCoverage(choice.Name, new PackageCoverage(current.Count, hidden));
            if (choice.Chosen is null && choice.Reason is { } reason)
            {
                var code = current.Select(c => c.Decision.Code).FirstOrDefault() ?? "absent";
                if (_health.IsNewDecision(choice.Name, code, reason))
                {
                    _logger.LogInformation("{Ecosystem} package {Package} is not listed at tier {Tier} ({Code}): {Reason}", Ecosystem, choice.Name, policy.Tier, code, reason);
                }
            }
            else if (choice.Chosen is { Archived: true } archived && current.Count > 0)
            {
                var why = string.Join("; ", current.Select(c => $"{c.Package.VersionText}: {c.Decision.Reason}"));
                if (_health.IsNewDecision(choice.Name, "archived-fallback", archived.VersionText + "\n" + why))
                {
                    _logger.LogInformation("{Ecosystem} package {Package} is listed at tier {Tier} as archived version {Version} (dated by {Source}), because the current version is hidden: {Reason}",
                        Ecosystem, choice.Name, policy.Tier, archived.VersionText, archived.DateSource is { } source ? CranDateSources.Describe(source) : "nothing", why);
                }
            }
        }
        foreach (var (name, reason) in view.Excluded)
        {
            if (_health.IsNewDecision(name, CranView.DependenciesUnavailable, reason))
            {
                _logger.LogInformation("{Ecosystem} package {Package} is not listed at tier {Tier}: {Reason}", Ecosystem, name, policy.Tier, reason);
            }
        }
    }

    private CranView? Current(bool applyAllowlist, CranDatedIndex state, PolicySnapshot policy, AllowlistClosure? closure)
    {
        var cached = applyAllowlist ? _filtered : _unfiltered;
        return cached is not null && ReferenceEquals(cached.Index, state) && cached.Generation == policy.Generation
            && ReferenceEquals(cached.Closure, closure) && _time.GetUtcNow() < cached.ValidUntil
            ? cached.View
            : null;
    }

    /// <summary>The version R would see of one package, the allowlist aside (what the closure resolves against).</summary>
    public async Task<(CranChoice Choice, bool ArchiveFailed)> ChooseAsync(CranDatedIndex state, string name, TierPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = state.ByName.TryGetValue(name, out var list) ? list : [];
        if (!CranChoice.NeedsArchive(current, policy, now))
        {
            return (CranChoice.Choose(name, current, null, policy, now), false);
        }
        // Every current version is still in quarantine or undated: the newest archived version past it, newest first.
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
                package = await DateArchivedAsync(state.ArchiveDatabase, package, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The chosen current versions whose upstream <c>MD5sum</c> contradicts the pin of their first verified copy
    /// (upstream replaced the tarball) are listed with the pinned MD5, the copy that is served (reported once).
    /// </summary>
    private async Task<List<CranChoice>> WithPinnedHashesAsync(List<CranChoice> choices, CancellationToken cancellationToken)
    {
        var current = choices.Where(c => c.Chosen is { Archived: false, Md5.Length: 32 }).Select(c => SourceOf(c.Chosen!)).ToList();
        var replaced = await Artifacts.FindReplacedAsync(current, cancellationToken).ConfigureAwait(false);
        if (replaced.Count == 0)
        {
            return choices;
        }
        return choices.Select(c => c.Chosen is { Archived: false } chosen && replaced.TryGetValue(chosen.FileName, out var pinned)
                && pinned.Pin.Other is { } md5 && md5.Algorithm == HashAlgorithmName.MD5
            ? c with { Chosen = chosen.WithPinnedMd5(Convert.ToHexStringLower(md5.Value)) }
            : c).ToList();
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
                : await ExplainRefusalAsync(name, admission, policy, cancellationToken).ConfigureAwait(false);
        }
        var dated = await GetDatedIndexAsync(cancellationToken).ConfigureAwait(false);

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
                if (package is not null)
                {
                    package = await DateArchivedAsync(dated.Document?.ArchiveDatabase, package, cancellationToken).ConfigureAwait(false);
                }
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
            if (dated.Document is not { } state)
            {
                return new CranFileLookup.Unavailable(dated.StaleReason ?? "upstream has no src/contrib/PACKAGES");
            }
            stale = dated.StaleReason;
            package = state.ByName.TryGetValue(name, out var list)
                ? list.FirstOrDefault(p => p.VersionText == version && p.UpstreamPath == directory)
                : null;
            if (package is null)
            {
                return new CranFileLookup.NotFound($"upstream's PACKAGES has no {relativePath}");
            }
            if (package.DateSource == CranDateSource.FirstSeen)
            {
                // Upstream dates it nowhere: fetch and verify the tarball once and read its DESCRIPTION's date.
                try
                {
                    package = await LearnDescriptionDateAsync(package, cancellationToken).ConfigureAwait(false);
                }
                catch (UpstreamIntegrityException e)
                {
                    return new CranFileLookup.Unavailable(e.Message);
                }
                catch (Exception e) when (e is UpstreamUnavailableException or InvalidDataException or FormatException)
                {
                    _logger.LogWarning("{Ecosystem}: the DESCRIPTION of {File} could not be read for its date: {Reason}", Ecosystem, package.FileName, e.Message);
                }
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

    /// <summary>
    /// Why an allowlist refusal happened, in its real cause: an approved package with no visible version (all in
    /// quarantine, undated, unverifiable) or with unsatisfiable dependencies says so, rather than "not on the
    /// approved list".
    /// </summary>
    private async Task<CranFileLookup> ExplainRefusalAsync(string name, AllowlistAdmission admission, TierPolicy policy, CancellationToken cancellationToken)
    {
        var refused = new CranFileLookup.Hidden(VersionDecision.NotAllowlisted, admission.Reason!);
        if (admission.Closure is not { } closure || !closure.Roots.Contains(name, StringComparer.Ordinal))
        {
            return refused;
        }
        var dated = await GetDatedIndexAsync(cancellationToken).ConfigureAwait(false);
        if (dated.Document is { } index)
        {
            var (choice, _) = await ChooseAsync(index, name, policy, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (choice.Chosen is null && choice.Reason is { } reason)
            {
                var code = choice.Candidates.Select(c => c.Decision.Code).FirstOrDefault() ?? VersionDecision.NotAllowlisted;
                return new CranFileLookup.Hidden(code, $"tier {policy.Tier}: '{name}' is approved, but {reason}");
            }
        }
        if (closure.Unsatisfied.FirstOrDefault(u => u.Root == name) is { } unsatisfied)
        {
            return new CranFileLookup.Hidden(CranView.DependenciesUnavailable,
                $"tier {policy.Tier}: '{name}' is approved, but its dependencies cannot be satisfied: {string.Join(" -> ", unsatisfied.Path)} needs {unsatisfied.Requirement}: {unsatisfied.Reason}");
        }
        return refused;
    }

    /// <summary>Upstream's <c>PACKAGES</c> with every current version dated from the best source there is (see <see cref="CranDateSource"/>).</summary>
    public async Task<DocumentLookup<CranDatedIndex>> GetDatedIndexAsync(CancellationToken cancellationToken)
    {
        var index = await GetIndexAsync(cancellationToken).ConfigureAwait(false);
        return index.Document is { } state
            ? new DocumentLookup<CranDatedIndex>(await DateAsync(state, cancellationToken).ConfigureAwait(false), false, index.StaleReason)
            : new DocumentLookup<CranDatedIndex>(null, index.NotFound, index.StaleReason);
    }

    private bool IsFresh(DatedEntry? cached, CranIndexState state, long generation, DateTimeOffset now) =>
        cached is not null && ReferenceEquals(cached.Index.State, state) && cached.Index.Generation == generation && now < cached.CheckedAt + _retryAfterFailure;

    private async Task<CranDatedIndex> DateAsync(CranIndexState state, CancellationToken cancellationToken)
    {
        if (IsFresh(_dated, state, Interlocked.Read(ref _learnedGeneration), _time.GetUtcNow()))
        {
            return _dated!.Index;
        }
        await _dating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var generation = Interlocked.Read(ref _learnedGeneration);
            var cached = _dated;
            if (IsFresh(cached, state, generation, now))
            {
                return cached!.Index;
            }
            // Both databases are optional upstream: a 404 is normal, an unreadable one is logged (by the document
            // cache, and here once) and dates fall back to the next source.
            var packages = await GetOptionalDatabaseAsync(PackageDatabaseKey, CranDatabaseCodec<CranPackageDatabase>.Packages, cancellationToken).ConfigureAwait(false);
            var archive = await GetOptionalDatabaseAsync(ArchiveDatabaseKey, CranDatabaseCodec<CranArchiveDatabase>.Archive, cancellationToken).ConfigureAwait(false);
            if (cached is not null && ReferenceEquals(cached.Index.State, state) && cached.Index.Generation == generation
                && ReferenceEquals(cached.Index.PackageDatabase, packages) && ReferenceEquals(cached.Index.ArchiveDatabase, archive))
            {
                _dated = cached with { CheckedAt = now };
                return cached.Index;
            }
            await EnsureDescriptionDatesLoadedAsync(cancellationToken).ConfigureAwait(false);
            var dated = new CranPackage[state.Packages.Count];
            var undated = new List<int>();
            for (var i = 0; i < dated.Length; i++)
            {
                var package = state.Packages[i];
                dated[i] = package.Published is not null ? package
                    : packages?.DateOf(package.Name, package.VersionText) is { } published ? package.WithDate(published, CranDateSource.PackageDatabase)
                    : _descriptionDates.TryGetValue(package.FileName, out var described) ? package.WithDate(described, CranDateSource.Description)
                    : package;
                if (dated[i].Published is null)
                {
                    undated.Add(i);
                }
            }
            var firstSeen = await FirstSeenAsync(undated.Select(i => dated[i].FileName).ToList(), now, cancellationToken).ConfigureAwait(false);
            foreach (var i in undated)
            {
                if (firstSeen.TryGetValue(dated[i].FileName, out var seen))
                {
                    dated[i] = dated[i].WithDate(seen, CranDateSource.FirstSeen);
                }
            }
            var byName = dated.GroupBy(p => p.Name, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<CranPackage>)g.ToList(), StringComparer.Ordinal);
            var index = new CranDatedIndex(state, packages, archive, generation, byName);
            if (undated.Count > 0 && _health.IsNewDecision("(index)", "first-seen", undated.Count.ToString(CultureInfo.InvariantCulture)))
            {
                _logger.LogInformation("{Ecosystem}: {Count} of {Total} current versions have no date in PACKAGES, {PackageDatabase} or a DESCRIPTION read so far; they are dated by this appliance's first-seen clock",
                    Ecosystem, undated.Count, dated.Length, packages is null ? PackageDatabaseKey + " (absent or unreadable)" : PackageDatabaseKey);
            }
            _dated = new DatedEntry(index, now);
            return index;
        }
        finally
        {
            _dating.Release();
        }
    }

    private async Task<T?> GetOptionalDatabaseAsync<T>(string key, IDocumentCodec<T> codec, CancellationToken cancellationToken) where T : class
    {
        var lookup = await _documents.GetAsync(key, UpstreamUrl(key), Accept, codec, cancellationToken).ConfigureAwait(false);
        if (lookup.Document is null && !lookup.NotFound && lookup.StaleReason is { } reason && _health.IsNewDecision(key, "unreadable", reason))
        {
            _logger.LogWarning("{Ecosystem}: upstream {Key} cannot be used, so dates fall back to the next source: {Reason}", Ecosystem, key, reason);
        }
        return lookup.Document;
    }

    /// <summary>The first-seen time of each tarball file, recorded now for files never seen before (never moved later).</summary>
    private async Task<IReadOnlyDictionary<string, DateTimeOffset>> FirstSeenAsync(IReadOnlyCollection<string> files, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var file in files)
        {
            if (_firstSeenKnown.TryGetValue(file, out var seen))
            {
                result[file] = seen;
            }
            else
            {
                unknown.Add(file);
            }
        }
        if (unknown.Count == 0)
        {
            return result;
        }
        try
        {
            foreach (var (file, seen) in await _firstSeen.GetOrRecordAsync(Ecosystem, unknown, now, cancellationToken).ConfigureAwait(false))
            {
                _firstSeenKnown[file] = seen;
                result[file] = seen;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Without the clock these versions stay undated, which Tier 2+ hides (and /healthz counts).
            _logger.LogError(e, "{Ecosystem}: the first-seen clock could not be read or written for {Count} files", Ecosystem, unknown.Count);
        }
        return result;
    }

    /// <summary>An archived version's date: its file time in archive.rds, else its DESCRIPTION's Date/Publication, else first-seen.</summary>
    private async Task<CranPackage> DateArchivedAsync(CranArchiveDatabase? archive, CranPackage package, CancellationToken cancellationToken)
    {
        if (archive?.DateOf(package.Name, package.VersionText) is { } mtime)
        {
            return package.WithDate(mtime, CranDateSource.ArchiveDatabase);
        }
        if (package.Published is not null)
        {
            return package;
        }
        var seen = await FirstSeenAsync([package.FileName], _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return seen.TryGetValue(package.FileName, out var first) ? package.WithDate(first, CranDateSource.FirstSeen) : package;
    }

    private async Task EnsureDescriptionDatesLoadedAsync(CancellationToken cancellationToken)
    {
        if (_descriptionDatesLoaded)
        {
            return;
        }
        foreach (var file in await _store.ListFetchedBeforeAsync(DescriptionDatesStore, DateTimeOffset.MaxValue, int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            var stored = await _store.GetAsync(DescriptionDatesStore, file, cancellationToken).ConfigureAwait(false);
            if (stored is not null && long.TryParse(Encoding.UTF8.GetString(stored.Content), CultureInfo.InvariantCulture, out var ms))
            {
                _descriptionDates[file] = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            }
        }
        _descriptionDatesLoaded = true;
    }

    /// <summary>
    /// A current version upstream dates nowhere else, dated by the <c>Date/Publication</c> of the DESCRIPTION in its
    /// tarball: fetched and verified against <c>MD5sum</c> once, read once, remembered. Views are rebuilt with it.
    /// </summary>
    public async Task<CranPackage> LearnDescriptionDateAsync(CranPackage package, CancellationToken cancellationToken)
    {
        var file = package.FileName;
        if (_descriptionDates.TryGetValue(file, out var known))
        {
            return package.WithDate(known, CranDateSource.Description);
        }
        if (_descriptionUndated.ContainsKey(file))
        {
            return package;
        }
        var digest = await Artifacts.EnsureStoredAsync(SourceOf(package), cancellationToken).ConfigureAwait(false);
        DcfRecord? description;
        await using (var stream = await Artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException($"stored blob {digest} disappeared"))
        {
            description = await CranDescriptionReader.ReadAsync(stream, package.Name, cancellationToken).ConfigureAwait(false);
        }
        var date = description is not null && description["Package"]?.Trim() == package.Name && description["Version"]?.Trim() == package.VersionText
            ? CranDates.Parse(description["Date/Publication"])
            : null;
        if (date is not { } published)
        {
            _descriptionUndated[file] = file;
            _logger.LogInformation("{Ecosystem}: {File} has no Date/Publication in its DESCRIPTION; it stays dated by first-seen", Ecosystem, file);
            return package;
        }
        await _store.PutAsync(DescriptionDatesStore, file,
            new CachedIndex(Encoding.UTF8.GetBytes(published.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)), _time.GetUtcNow(), null), cancellationToken).ConfigureAwait(false);
        _descriptionDates[file] = published;
        Interlocked.Increment(ref _learnedGeneration);
        _logger.LogInformation("{Ecosystem}: {File} is dated {Date:O} by the Date/Publication in its verified DESCRIPTION", Ecosystem, file, published);
        return package.WithDate(published, CranDateSource.Description);
    }

    private sealed class IndexCodec : IDocumentCodec<CranIndexState>
    {
        public static readonly IndexCodec Instance = new();

        public CranIndexState Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            new(CranIndexParser.ParsePackages(document), fetchedAt);

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
