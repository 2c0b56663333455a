using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Core.Tiers.Sharing;
using SafeHaven.Gateway.Health;
using SafeHaven.MirrorSync.Jobs;

namespace SafeHaven.MirrorSync.Sharing;

/// <summary>
/// Several replicas over one PostgreSQL: each closure is computed once and every replica serves it. The closure job
/// runs on the clustered scheduler, so on one replica at a time; a run asked for by a policy change or a start first asks
/// <see cref="AdoptStoredAsync"/> whether a closure for the policy in force is stored (another replica's run for the
/// same change), and every run stores what it computes with <see cref="SaveAsync"/> before the next can start. The other replicas
/// poll the stored generations every <c>SafeHaven:Database:ClosurePollSeconds</c> and adopt what is new. At start the
/// newest stored closures are adopted at once, which also makes a replica that did not compute them ready. Not used by
/// the embedded single-process appliance.
/// </summary>
public sealed class ClosureSharing : BackgroundService
{
    private readonly SafeHavenDatabase _database;
    private readonly AllowlistClosureRegistry _registry;
    private readonly TierPolicyProvider _policy;
    private readonly ReadinessState _readiness;
    private readonly ILogger<ClosureSharing> _logger;
    private readonly TimeSpan _pollInterval;

    /// <summary>Per ecosystem, the stored generation last seen and the local policy fingerprint it was judged against.</summary>
    private readonly ConcurrentDictionary<string, (long Generation, string Policy)> _known = new(StringComparer.OrdinalIgnoreCase);
    private readonly TaskCompletionSource<ClosureStore> _store = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClosureSharing(SafeHavenDatabase database, AllowlistClosureRegistry registry, TierPolicyProvider policy, ReadinessState readiness,
        ILogger<ClosureSharing> logger, TimeSpan pollInterval)
    {
        _database = database;
        _registry = registry;
        _policy = policy;
        _readiness = readiness;
        _logger = logger;
        _pollInterval = pollInterval;
    }

    /// <summary>The store, once its table exists (tests wait on it).</summary>
    public Task<ClosureStore> Store => _store.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ClosureStore store;
        while (true)
        {
            try
            {
                store = await ClosureStore.OpenAsync(_database, stoppingToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Shared allowlist closures: the database is not reachable; retrying in {Interval}", _pollInterval);
                await Task.Delay(_pollInterval, stoppingToken).ConfigureAwait(false);
            }
        }
        _store.TrySetResult(store);
        await PollLoopAsync(store, stoppingToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Adopts the stored closure of <paramref name="ecosystem"/> when it was computed for <paramref name="snapshot"/>'s
    /// policy no earlier than <paramref name="notBefore"/>, and says whether it did: the closure job then has nothing
    /// to compute. False (compute it) when none is stored, it is older, or it was computed for another policy.
    /// </summary>
    public async Task<bool> AdoptStoredAsync(string ecosystem, PolicySnapshot snapshot, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        var store = await _store.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var policy = ClosurePolicy.Fingerprint(snapshot, ecosystem);
        if (await store.LoadAsync(ecosystem, cancellationToken).ConfigureAwait(false) is not { } stored
            || stored.Policy != policy || stored.Closure.ComputedAt < notBefore)
        {
            return false;
        }
        _known[ecosystem] = (stored.Generation, policy);
        _registry.Adopt(stored.Closure);
        _readiness.Complete(AllowlistClosureJob.ReadinessKey(stored.Closure.Ecosystem));
        _logger.LogInformation("{Ecosystem} allowlist closure not computed again: generation {Generation}, computed {ComputedAt:O} for the same policy, is in force",
            ecosystem, stored.Generation, stored.Closure.ComputedAt);
        return true;
    }

    /// <summary>
    /// Stores a closure this replica computed for <paramref name="snapshot"/>'s policy, for the other replicas to adopt.
    /// Awaited by the closure job, so the next run (on any replica) finds it.
    /// </summary>
    public async Task SaveAsync(AllowlistClosure closure, PolicySnapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(closure);
        var store = await _store.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var policy = ClosurePolicy.Fingerprint(snapshot, closure.Ecosystem);
        if (await store.SaveAsync(closure, policy, cancellationToken).ConfigureAwait(false) is { } generation)
        {
            _known.AddOrUpdate(closure.Ecosystem, (generation, policy), (_, known) => generation > known.Generation ? (generation, policy) : known);
            _logger.LogInformation("{Ecosystem} allowlist closure computed here shared with the other replicas (generation {Generation})", closure.Ecosystem, generation);
        }
    }

    private async Task PollLoopAsync(ClosureStore store, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await AdoptNewerAsync(store, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Shared allowlist closures could not be read; the closures in force stay");
            }
            await Task.Delay(_pollInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adopts every stored closure this replica has not seen, when it was computed for the policy in force here (a
    /// closure for another policy is left until the policies agree or this replica computes its own).
    /// </summary>
    public async Task AdoptNewerAsync(ClosureStore store, CancellationToken cancellationToken)
    {
        var snapshot = _policy.Current;
        foreach (var (ecosystem, generation) in await store.GetGenerationsAsync(cancellationToken).ConfigureAwait(false))
        {
            var policy = ClosurePolicy.Fingerprint(snapshot, ecosystem);
            if (_known.TryGetValue(ecosystem, out var known) && known.Generation >= generation && known.Policy == policy)
            {
                continue;
            }
            if (await store.LoadAsync(ecosystem, cancellationToken).ConfigureAwait(false) is not { } stored)
            {
                continue;
            }
            _known[ecosystem] = (stored.Generation, policy);
            if (stored.Policy != policy)
            {
                _logger.LogInformation("{Ecosystem} allowlist closure of generation {Generation} was computed for another policy than the one in force here; not adopted",
                    ecosystem, stored.Generation);
                continue;
            }
            if (_registry.Adopt(stored.Closure))
            {
                _readiness.Complete(AllowlistClosureJob.ReadinessKey(stored.Closure.Ecosystem));
                _logger.LogInformation("{Ecosystem} allowlist closure adopted from the shared database (generation {Generation}, computed {ComputedAt:O}): {Packages} visible",
                    stored.Closure.Ecosystem, stored.Generation, stored.Closure.ComputedAt, stored.Closure.Packages.Count);
            }
        }
    }
}
