using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// The read-through PyPI mirror: upstream project pages through the shared <see cref="UpstreamDocumentCache"/>,
/// artifacts through the shared <see cref="ArtifactFetcher"/>, both filtered by the one tier policy.
/// </summary>
public sealed class PyPIMirror
{
    public const string Ecosystem = "pypi";
    private const string UpstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";
    private const string RootKey = "/";

    private readonly UpstreamDocumentCache _documents;
    private readonly IMemoryCache _memory;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly TimeProvider _time;
    private readonly IFirstSeenStore _firstSeen;
    private readonly MirrorStatus _health;
    private readonly ILogger _logger;
    private readonly Func<string, Uri> _urlOf;
    private readonly PyPIRootIndex _root;

    /// <summary>First-seen times per fetched upstream page, looked up once per page (they never move).</summary>
    private readonly ConditionalWeakTable<PyPIProjectState, IReadOnlyDictionary<string, DateTimeOffset>> _firstSeenByState = new();

    /// <summary>Per fetched page: the pins its listed hashes contradict, as of a pin generation.</summary>
    private readonly ConditionalWeakTable<PyPIProjectState, PinnedOnPage> _replacedByState = new();

    private sealed record PinnedOnPage(long Generation, IReadOnlyDictionary<string, PinnedFile> Replaced);

    public PyPIMirror(UpstreamDocumentCache documents, ArtifactFetcher artifacts, IMemoryCache memory, TierPolicyProvider policy,
        AllowlistClosureRegistry closures, TimeProvider time, IFirstSeenStore firstSeen, MirrorStatus health, ILogger<PyPIMirror> logger)
    {
        _root = new PyPIRootIndex(logger);
        _documents = documents;
        Artifacts = artifacts;
        _memory = memory;
        _policy = policy;
        _closures = closures;
        _time = time;
        _firstSeen = firstSeen;
        _health = health;
        _logger = logger;
        _urlOf = UrlOf;
    }

    public ArtifactFetcher Artifacts { get; }

    public PolicySnapshot Policy => _policy.Current;

    private Uri UrlOf(string key) => key == RootKey ? _documents.Upstream.BaseUrl : new Uri(_documents.Upstream.BaseUrl, Uri.EscapeDataString(key) + "/");

    /// <summary>
    /// The project as the tier lets clients see it now. With <paramref name="applyAllowlist"/> false, the
    /// allowlist is not consulted (the closure computation itself needs that view); the quarantine still applies.
    /// </summary>
    public async Task<ProjectLookup> GetProjectAsync(string normalizedName, CancellationToken cancellationToken, bool applyAllowlist = true)
    {
        var policy = _policy.Current;
        var admission = applyAllowlist ? _closures.Admit(policy, Ecosystem, normalizedName) : AllowlistAdmission.Open;
        var approvedOutsideClosure = false;
        if (!admission.Admitted)
        {
            if (admission.ClosurePending || admission.Closure is not { } refusedBy || !refusedBy.Roots.Contains(normalizedName, StringComparer.Ordinal))
            {
                if (!admission.ClosurePending && _health.IsNewDecision(normalizedName, VersionDecision.NotAllowlisted, admission.Reason!))
                {
                    _logger.LogInformation("pypi {Project} refused: {Reason}", normalizedName, admission.Reason);
                }
                return ProjectLookup.Refused(admission);
            }
            // On the approved list, but the closure could not resolve it (no visible version when it was computed):
            // not "not approved". It is shown for what is visible now, and refused with the real cause if nothing is.
            approvedOutsideClosure = true;
        }
        var closure = admission.Closure;

        var lookup = await _documents.GetAsync(normalizedName, _urlOf, UpstreamAccept, ProjectCodec.Instance, cancellationToken).ConfigureAwait(false);
        if (lookup.Document is not { } state)
        {
            return lookup.NotFound
                ? new ProjectLookup.NotFound($"upstream has no project '{normalizedName}'")
                : new ProjectLookup.Unavailable(lookup.StaleReason ?? "upstream unavailable");
        }

        var now = _time.GetUtcNow();
        var replaced = await ReplacedAsync(state, cancellationToken).ConfigureAwait(false);
        var viewKey = (closure is null ? "pypi-view-all:" : "pypi-view:") + normalizedName;
        if (!_memory.TryGetValue(viewKey, out PyPIProjectView? view)
            || view is null || !ReferenceEquals(view.State, state) || view.PolicyGeneration != policy.Generation
            || !ReferenceEquals(view.Closure, closure) || view.ApprovedOutsideClosure != approvedOutsideClosure || now >= view.ValidUntil
            || !ReferenceEquals(view.Replaced, replaced))
        {
            var firstSeen = await FirstSeenAsync(state, now, cancellationToken).ConfigureAwait(false);
            view = new PyPIProjectView(state, policy, closure, now, firstSeen, approvedOutsideClosure, replaced);
            _memory.Set(viewKey, view, new MemoryCacheEntryOptions { Size = state.EstimatedSize * 4 });
            Report(view, policy);
        }
        return new ProjectLookup.Found(view, lookup.StaleReason);
    }

    /// <summary>
    /// The files (and PEP 658 metadata files) of a fetched page whose listed SHA-256 contradicts the pin of their first
    /// verified copy: upstream replaced them. The page shows the pinned hash for them (see <see cref="PyPIProjectView"/>).
    /// Looked up once per fetched page and pin generation, in one store query.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, PinnedFile>> ReplacedAsync(PyPIProjectState state, CancellationToken cancellationToken)
    {
        var generation = Artifacts.PinGeneration;
        if (_replacedByState.TryGetValue(state, out var known) && known.Generation == generation)
        {
            return known.Replaced;
        }
        var listed = new List<ArtifactSource>(state.Entries.Count * 2);
        foreach (var entry in state.Entries)
        {
            listed.Add(SourceOf(entry.File, metadata: false));
            if (entry.File.CoreMetadata)
            {
                listed.Add(SourceOf(entry.File, metadata: true));
            }
        }
        var replaced = await Artifacts.FindReplacedAsync(listed, cancellationToken).ConfigureAwait(false);
        _replacedByState.AddOrUpdate(state, new PinnedOnPage(generation, replaced));
        return replaced;
    }

    /// <summary>
    /// The first-seen time of every file upstream gives no upload time for, recorded now for files never seen
    /// before (at every tier, so the clock has been running when a site raises its tier). Looked up once per
    /// fetched page. If the store cannot answer, the files have no date and stay hidden at Tier 2+ (fail closed).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, DateTimeOffset>?> FirstSeenAsync(PyPIProjectState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_firstSeenByState.TryGetValue(state, out var known))
        {
            return known;
        }
        var keys = state.Entries.Where(PyPIProjectView.NeedsFirstSeen).Select(e => PyPIProjectView.FirstSeenKey(state.NormalizedName, e.File)).ToList();
        if (keys.Count == 0)
        {
            return null;
        }
        try
        {
            var seen = await _firstSeen.GetOrRecordAsync(Ecosystem, keys, now, cancellationToken).ConfigureAwait(false);
            _firstSeenByState.AddOrUpdate(state, seen);
            return seen;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogError(e, "pypi {Project}: first-seen times could not be read or recorded; its files without an upstream upload time stay hidden at tier 2+", state.NormalizedName);
            return null;
        }
    }

    /// <summary>Coverage for /healthz, and one log line per project and decision (not per request).</summary>
    private void Report(PyPIProjectView view, PolicySnapshot policy)
    {
        var name = view.State.NormalizedName;
        _health.RecordCoverage(name, new Health.PackageCoverage(view.State.Entries.Count, view.HiddenByCode));
        foreach (var code in (string[])[VersionDecision.Malicious, VersionDecision.NoUploadDate, VersionDecision.Unverifiable, VersionDecision.UnknownVersion])
        {
            var hidden = view.HiddenByCode.GetValueOrDefault(code);
            if (hidden == 0)
            {
                continue;
            }
            var reason = $"{hidden} of {view.State.Entries.Count} upstream files hidden as '{code}'";
            if (_health.IsNewDecision(name, code, reason))
            {
                _logger.LogWarning("pypi {Project}: {Reason}; for example: {Example}", name, reason, view.Decisions.Values.First(d => d.Code == code).Reason);
            }
        }
        if (view.ApprovedOutsideClosure && view.VisibleEntries.Count == 0)
        {
            var (code, reason) = view.NothingVisible(policy.Policy.Tier);
            if (_health.IsNewDecision(name, "approved-nothing-visible", code ?? "no-files"))
            {
                _logger.LogWarning("pypi {Project} refused: {Reason}", name, reason);
            }
        }
    }

    /// <summary>
    /// The root index as the tier lets clients see it: every upstream name at Tier 0-2, the allowlist closure at Tier 3+.
    /// Rendered once per upstream change or closure (see <see cref="PyPIRootIndex"/>), not per request.
    /// </summary>
    public async Task<RootIndexLookup> GetRootIndexAsync(SimpleFormat format, CancellationToken cancellationToken)
    {
        var policy = _policy.Current;
        if (policy.Policy.RequiresAllowlist)
        {
            var closure = _closures.Get(Ecosystem);
            if (closure is null)
            {
                return new RootIndexLookup(null, "the allowlist closure is still being computed", NotReady: true);
            }
            var page = await _root.GetAsync(closure, ClosureNames, format, cancellationToken).ConfigureAwait(false);
            return new RootIndexLookup(page, null, NotReady: false);
        }
        var lookup = await _documents.GetAsync(RootKey, _urlOf, UpstreamAccept, RootCodec.Instance, cancellationToken).ConfigureAwait(false);
        if (lookup.Document is not { } names)
        {
            return new RootIndexLookup(null, lookup.StaleReason ?? "upstream has no root index", NotReady: false);
        }
        var rendered = await _root.GetAsync(names, static n => n, format, cancellationToken).ConfigureAwait(false);
        return new RootIndexLookup(rendered, lookup.StaleReason, NotReady: false);
    }

    private static readonly Func<AllowlistClosure, PyPIRootNames> ClosureNames =
        closure => PyPIRootNames.FromNames(closure.Packages.Order(StringComparer.Ordinal));

    /// <summary>How many root renders this process has started (each upstream change or policy change costs one per representation).</summary>
    public int RootRenderCount => _root.RenderCount;

    /// <summary>Re-reads a cached document from upstream now (the scheduled refresh).</summary>
    public Task RefreshNowAsync(string key, CancellationToken cancellationToken) => key == RootKey
        ? _documents.RefreshNowAsync(key, UrlOf(key), UpstreamAccept, RootCodec.Instance, cancellationToken)
        : _documents.RefreshNowAsync(key, UrlOf(key), UpstreamAccept, ProjectCodec.Instance, cancellationToken);

    /// <summary>Where a file (or its PEP 658 metadata) comes from and what it must hash to.</summary>
    public static ArtifactSource SourceOf(PyPIFile file, bool metadata)
    {
        var hex = metadata ? file.CoreMetadataSha256 : file.Sha256;
        return new ArtifactSource(
            new Uri(metadata ? file.Url + ".metadata" : file.Url),
            metadata ? file.Filename + ".metadata" : file.Filename,
            BlobDigest.TryParse(hex, out var digest) ? digest : null);
    }

    private sealed class ProjectCodec : IDocumentCodec<PyPIProjectState>
    {
        public static readonly ProjectCodec Instance = new();

        public PyPIProjectState Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            new(key, SimpleIndexParser.ParseProject(document, key), fetchedAt);

        public byte[] Serialize(PyPIProjectState value) => JsonSerializer.SerializeToUtf8Bytes(value.Project, PyPIStorageJsonContext.Default.PyPIProject);

        public PyPIProjectState Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) =>
            new(key, JsonSerializer.Deserialize(content, PyPIStorageJsonContext.Default.PyPIProject)!, fetchedAt);

        public long SizeOf(PyPIProjectState value) => value.EstimatedSize;
    }

    private sealed class RootCodec : IDocumentCodec<PyPIRootNames>
    {
        public static readonly RootCodec Instance = new();

        public PyPIRootNames Parse(string key, UpstreamDocument document, DateTimeOffset fetchedAt) =>
            SimpleIndexParser.ParseRoot(document.Content, document.ContentType);

        public byte[] Serialize(PyPIRootNames value) => value.Serialize();

        public PyPIRootNames Deserialize(string key, byte[] content, DateTimeOffset fetchedAt) => PyPIRootNames.Deserialize(content);

        public long SizeOf(PyPIRootNames value) => value.EstimatedSize;
    }
}

/// <summary>The rendered root index, or why there is none (<paramref name="NotReady"/>: 503, else 502); a stale reason when upstream could not be re-read.</summary>
public sealed record RootIndexLookup(RenderedRootIndex? Page, string? StaleOrError, bool NotReady);
