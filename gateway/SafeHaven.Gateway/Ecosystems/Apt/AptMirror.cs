using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.Gateway.Ecosystems.Apt.Selection;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>The refresh state of one upstream suite, for <c>/healthz</c>.</summary>
public sealed class AptSuiteStatus : RefreshStatus
{
    public DateTimeOffset? UpstreamDate { get; set; }
    public string? Signer { get; set; }
}

/// <summary>What one repository serves now: its published suites and the pool files they list.</summary>
public sealed record AptRepositoryView(
    AptRepository Repository, IReadOnlyDictionary<string, AptPublishedSuite> Suites, IReadOnlyDictionary<string, PoolEntry> Pool)
{
    /// <summary>The configured suite a <c>dists/</c> path starts with (suites may hold a '/'), and the rest of the path.</summary>
    public (string Suite, string Path)? SplitDistsPath(string path)
    {
        foreach (var suite in Repository.Suites.OrderByDescending(s => s.Length))
        {
            if (path.StartsWith(suite + "/", StringComparison.Ordinal))
            {
                return (suite, path[(suite.Length + 1)..]);
            }
        }
        return null;
    }
}

/// <summary>
/// The apt mirror: keeps, per configured suite, the last upstream state that passed every check
/// (<see cref="AptUpstreamReader"/>), filters all of them together by the one tier policy (<see cref="AptSelector"/>),
/// and publishes each suite as a whole new signed tree (<see cref="AptPublisher"/>) swapped in by reference. A failed
/// refresh keeps the last verified state and the last published tree; <c>/healthz</c> shows their age.
/// </summary>
public sealed class AptMirror : IDisposable
{
    public const string Ecosystem = "apt";
    public const string ReadinessKey = "apt indexes (first refresh)";

    private readonly IReadOnlyDictionary<string, AptRepository> _repositories;
    private readonly IReadOnlyDictionary<string, AptUpstreamReader> _readers;
    private readonly IReadOnlyDictionary<string, ArtifactFetcher> _artifacts;
    private readonly AptPublisher _publisher;
    private readonly TierPolicyProvider _policy;
    private readonly AllowlistClosureRegistry _closures;
    private readonly ModelApprovals _model;
    private readonly IIndexCacheStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _validFor;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly SemaphoreSlim _publishing = new(1, 1);
    private readonly ConcurrentDictionary<string, VerifiedSuite> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AptSuiteStatus> _status = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstRefresh = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyDictionary<string, AptRepositoryView> _views;
    private volatile AptSelection? _selection;
    private string? _universeFingerprint;

    public AptMirror(
        IReadOnlyList<AptRepository> repositories, IReadOnlyDictionary<string, AptUpstreamReader> readers,
        IReadOnlyDictionary<string, ArtifactFetcher> artifacts, AptPublisher publisher, TierPolicyProvider policy,
        AllowlistClosureRegistry closures, ModelApprovals model, IIndexCacheStore store, TimeProvider time, ILogger logger, TimeSpan validFor)
    {
        _repositories = repositories.ToDictionary(r => r.Name, StringComparer.Ordinal);
        _readers = readers;
        _artifacts = artifacts;
        _publisher = publisher;
        _policy = policy;
        _closures = closures;
        _model = model;
        _store = store;
        _time = time;
        _logger = logger;
        _validFor = validFor;
        _views = repositories.ToDictionary(r => r.Name,
            r => new AptRepositoryView(r, new Dictionary<string, AptPublishedSuite>(), new Dictionary<string, PoolEntry>()), StringComparer.Ordinal);
        foreach (var repository in repositories)
        {
            foreach (var suite in repository.Suites)
            {
                _status[AptSuiteKey.Of(repository.Name, suite)] = new AptSuiteStatus();
            }
        }
        _closures.Published += OnClosurePublished;
    }

    public IReadOnlyDictionary<string, AptRepository> Repositories => _repositories;

    public IReadOnlyDictionary<string, AptSuiteStatus> Status => _status;

    public AptSelection? Selection => _selection;

    public AptRepositoryView? View(string repository) => _views.TryGetValue(repository, out var view) ? view : null;

    public ArtifactFetcher Artifacts(string repository) => _artifacts[repository];

    /// <summary>Serves what was published before a restart until the first refresh replaces it.</summary>
    public async Task LoadPublishedAsync(CancellationToken cancellationToken)
    {
        foreach (var repository in _repositories.Values)
        {
            foreach (var suite in repository.Suites)
            {
                try
                {
                    if (await _publisher.LoadCurrentAsync(repository.Name, suite, cancellationToken).ConfigureAwait(false) is { } published)
                    {
                        Swap(published);
                    }
                }
                catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
                {
                    _logger.LogWarning("apt: the tree of {Suite} published before the restart cannot be read, so it waits for the first refresh: {Reason}", AptSuiteKey.Of(repository.Name, suite), e.Message);
                }
            }
        }
    }

    /// <summary>Re-reads every configured suite from upstream, then publishes. Failures are recorded per suite, never thrown.</summary>
    public async Task RefreshAllAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var repository in _repositories.Values)
            {
                foreach (var suite in repository.Suites)
                {
                    await RefreshOneAsync(repository, suite, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Re-reads one suite (key <c>&lt;repository&gt;/dists/&lt;suite&gt;</c>, as the scheduled refresh names it); other keys are ignored.</summary>
    public async Task RefreshAsync(string key, CancellationToken cancellationToken)
    {
        var match = _repositories.Values.SelectMany(r => r.Suites.Select(s => (Repository: r, Suite: s)))
            .FirstOrDefault(p => AptSuiteKey.Of(p.Repository.Name, p.Suite) == key);
        if (match.Repository is null)
        {
            return;
        }
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshOneAsync(match.Repository, match.Suite, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
        await AfterRefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RefreshOneAsync(AptRepository repository, string suite, CancellationToken cancellationToken)
    {
        var key = AptSuiteKey.Of(repository.Name, suite);
        var status = _status[key];
        try
        {
            var verified = await _readers[repository.Name].ReadAsync(repository, suite, _verified.GetValueOrDefault(key), cancellationToken).ConfigureAwait(false);
            _verified[key] = verified;
            var now = _time.GetUtcNow();
            status.LastSuccess = now;
            status.UpstreamDate = verified.ReleaseDate;
            status.Signer = verified.SignerFingerprint;
            await _store.PutAsync(Ecosystem, key, new CachedIndex(Encoding.UTF8.GetBytes(verified.ReleaseSha256), now, null), cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("apt: {Suite} verified: Release of {Date:O} signed by {Signer}, {Count} packages in {Indexes} indexes",
                key, verified.ReleaseDate, verified.SignerFingerprint, verified.Indexes.Sum(i => i.Packages.Count), verified.Indexes.Count);
        }
        catch (Exception e) when (e is AptVerificationException or UpstreamUnavailableException or InvalidDataException or IOException)
        {
            status.LastFailure = _time.GetUtcNow();
            status.LastError = e.Message;
            _logger.LogError("apt: refreshing {Suite} failed; the last verified state stays in force: {Reason}", key, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything else (a decompressor's own error, say) fails this suite only, never the others.
            status.LastFailure = _time.GetUtcNow();
            status.LastError = $"{e.GetType().Name}: {e.Message}";
            _logger.LogError(e, "apt: refreshing {Suite} failed unexpectedly; the last verified state stays in force", key);
        }
    }

    private async Task AfterRefreshAsync(CancellationToken cancellationToken)
    {
        var policy = _policy.Current;
        if (policy.Policy.RequiresAllowlist)
        {
            // The universe the closure is computed over changed: recompute it now rather than at the next scheduled run.
            var fingerprint = IndexFingerprint.Of(_verified.Values.Select(v => v.Key + v.ReleaseSha256));
            if (fingerprint != _universeFingerprint && _closures.Get(Ecosystem) is not null)
            {
                _universeFingerprint = fingerprint;
                await RecomputeClosureAsync(policy, cancellationToken).ConfigureAwait(false);
                return; // publishing the closure publishes the suites
            }
            _universeFingerprint = fingerprint;
        }
        await PublishAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RecomputeClosureAsync(PolicySnapshot snapshot, CancellationToken cancellationToken)
    {
        _closures.Publish(await _model.BuildClosureAsync(Ecosystem, snapshot, ClosureSource, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false));
    }

    private AptClosureSource? _closureSource;

    /// <summary>The closure source the allowlist engine resolves apt dependencies with, over what the date policy lets through.</summary>
    public AptClosureSource ClosureSource => _closureSource ??= new AptClosureSource(UniverseAsync);

    private async ValueTask<AptUniverse> UniverseAsync(CancellationToken cancellationToken)
    {
        await _firstRefresh.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var policy = _policy.Current.Policy;
        var now = _time.GetUtcNow();
        var packages = new Dictionary<string, AptPackage>(StringComparer.Ordinal);
        foreach (var suite in _verified.Values)
        {
            foreach (var dated in suite.Indexes.SelectMany(i => i.Packages))
            {
                if (AptSelector.Decide(suite, dated, policy, closure: null, applyAllowlist: false, now).Visible)
                {
                    packages.TryAdd(DatedPackage.DateKey(suite.Repository.Name, dated.Package), dated.Package);
                }
            }
        }
        var native = _repositories.Values.SelectMany(r => r.Architectures).FirstOrDefault(a => a != "all") ?? "amd64";
        return new AptUniverse(packages.Values, native);
    }

    private void OnClosurePublished(AllowlistClosure closure)
    {
        if (string.Equals(closure.Ecosystem, Ecosystem, StringComparison.OrdinalIgnoreCase))
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await PublishAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogError(e, "apt: publishing after the allowlist closure changed failed; the previous trees stay in force");
                }
            });
        }
    }

    /// <summary>
    /// Filters every verified suite by the policy in force and publishes each one whose listing changed (or whose
    /// signature nears its <c>Valid-Until</c>). At Tier 3+ nothing is published before the allowlist closure exists.
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
                _logger.LogInformation("apt: tier {Tier}: waiting for the allowlist closure before publishing", snapshot.Policy.Tier);
                return;
            }
            var now = _time.GetUtcNow();
            var suites = _verified.Values.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            var selection = AptSelector.Select(suites, snapshot.Policy, closure, now);
            _selection = selection;
            foreach (var problem in selection.Broken.Take(20))
            {
                _logger.LogWarning("apt: {Problem}", problem);
            }
            foreach (var suite in suites)
            {
                var indexes = selection.Suites[suite.Key];
                var fingerprint = IndexFingerprint.Of(indexes.SelectMany(i => i.Visible.Select(d => $"{i.Index.Component}/{i.Index.Architecture} {d.Package.Filename} {d.Package.Sha256}"))
                    .Append($"tier {snapshot.Policy.Tier} upstream {suite.ReleaseSha256}"));
                var current = View(suite.Repository.Name)?.Suites.GetValueOrDefault(suite.Suite);
                if (current is not null && current.Fingerprint == fingerprint && now < current.PublishedAt + _validFor / 2)
                {
                    continue;
                }
                var published = await _publisher.PublishAsync(suite, indexes, fingerprint, now, _validFor, snapshot.Policy.Tier, cancellationToken).ConfigureAwait(false);
                Swap(published);
                _publisher.Prune(published);
                _logger.LogInformation("apt: published {Suite}: {Listed} packages listed at tier {Tier}", suite.Key, published.Listed, snapshot.Policy.Tier);
            }
        }
        finally
        {
            _publishing.Release();
        }
    }

    private void Swap(AptPublishedSuite published)
    {
        lock (_repositories)
        {
            var views = new Dictionary<string, AptRepositoryView>(_views, StringComparer.Ordinal);
            var view = views[published.Repository];
            var suites = new Dictionary<string, AptPublishedSuite>(view.Suites, StringComparer.Ordinal) { [published.Suite] = published };
            var pool = new Dictionary<string, PoolEntry>(StringComparer.Ordinal);
            foreach (var entry in suites.Values.SelectMany(s => s.Pool.Values))
            {
                pool.TryAdd(entry.Filename, entry);
            }
            views[published.Repository] = view with { Suites = suites, Pool = pool };
            _views = views;
        }
    }

    public void Dispose()
    {
        _closures.Published -= OnClosurePublished;
        _refreshing.Dispose();
        _publishing.Dispose();
    }
}
