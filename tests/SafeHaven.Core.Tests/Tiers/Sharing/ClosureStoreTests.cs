using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Core.Tiers.Sharing;
using SafeHaven.Tests.Support;

namespace SafeHaven.Core.Tests.Tiers.Sharing;

public sealed class SqliteClosureStoreTests() : ClosureStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresClosureStoreTests() : ClosureStoreTests(DatabaseProvider.Postgres);

/// <summary>
/// The allowlist closures replicas share, against each provider (real SQLite file, real PostgreSQL), with two
/// handles on one database standing for two replicas.
/// </summary>
public abstract class ClosureStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private static readonly DateTimeOffset Computed = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private const string Policy = "3f1d0c8e";

    private static AllowlistClosure Closure(string ecosystem, DateTimeOffset computedAt, params string[] packages) =>
        new(ecosystem, computedAt, [packages[0]], packages,
            [new UnsatisfiedDependency(packages[0], [packages[0], "missing-dep"], "missing-dep >=2", "no version of missing-dep is visible at this tier")],
            packages.ToDictionary(p => p, p => (IReadOnlySet<string>)(p == packages[0] ? new HashSet<string> { "socks", "security" } : new HashSet<string>()), StringComparer.Ordinal))
        {
            ModelApproved = [packages[0]],
            UnapprovedDependencies = [new UnapprovedDependency(packages[^1], [packages[0]], 0.42, "score 0.42 below the threshold 0.8")],
            RequiredBy = packages.ToDictionary(p => p, _ => (IReadOnlyList<string>)[packages[0]], StringComparer.Ordinal),
            ImplicitRoots = ["base-files"],
        };

    [Fact]
    public async Task A_closure_stored_by_one_replica_is_read_back_whole_by_another()
    {
        var computing = await ClosureStore.OpenAsync(Database, CancellationToken.None);
        var other = await ClosureStore.OpenAsync(OpenReplica(), CancellationToken.None);
        var closure = Closure("pypi", Computed, "requests", "urllib3", "idna", "certifi");

        var generation = await computing.SaveAsync(closure, Policy, CancellationToken.None);

        Assert.Equal(1, generation);
        Assert.Equal(new Dictionary<string, long> { ["pypi"] = 1 }, await other.GetGenerationsAsync(CancellationToken.None));
        var loaded = await other.LoadAsync("pypi", CancellationToken.None);
        Assert.NotNull(loaded);
        Assert.Equal(1, loaded.Generation);
        Assert.Equal(Policy, loaded.Policy);
        var read = loaded.Closure;
        Assert.Equal("pypi", read.Ecosystem);
        Assert.Equal(Computed, read.ComputedAt);
        Assert.Equal(["requests"], read.Roots);
        Assert.Equal(closure.Packages.Order(), read.Packages.Order());
        Assert.True(read.Contains("urllib3"));
        Assert.False(read.Contains("flask"));
        Assert.Equal(["security", "socks"], read.Extras["requests"].Order(StringComparer.Ordinal));
        Assert.Empty(read.Extras["idna"]);
        var unsatisfied = Assert.Single(read.Unsatisfied);
        Assert.Equal(("requests", "missing-dep >=2", "no version of missing-dep is visible at this tier"), (unsatisfied.Root, unsatisfied.Requirement, unsatisfied.Reason));
        Assert.Equal(["requests", "missing-dep"], unsatisfied.Path);
        Assert.Equal(["requests"], read.ModelApproved);
        var unapproved = Assert.Single(read.UnapprovedDependencies);
        Assert.Equal(("certifi", 0.42, "score 0.42 below the threshold 0.8"), (unapproved.Package, unapproved.Score, unapproved.Note));
        Assert.Equal(["requests"], read.RequiredBy["certifi"]);
        Assert.Equal(["base-files"], read.ImplicitRoots);
        Assert.Null(await other.LoadAsync("cran", CancellationToken.None));
    }

    [Fact]
    public async Task Each_store_raises_the_generation_and_an_older_computation_never_replaces_a_newer_one()
    {
        var a = await ClosureStore.OpenAsync(Database, CancellationToken.None);
        var b = await ClosureStore.OpenAsync(OpenReplica(), CancellationToken.None);

        Assert.Equal(1, await a.SaveAsync(Closure("pypi", Computed, "requests"), Policy, CancellationToken.None));
        Assert.Equal(2, await b.SaveAsync(Closure("pypi", Computed.AddMinutes(5), "requests", "flask"), Policy, CancellationToken.None));
        // A slow computation started before the last one finishes after it: refused, the newer one stays.
        Assert.Null(await a.SaveAsync(Closure("pypi", Computed.AddMinutes(1), "requests", "old"), Policy, CancellationToken.None));
        Assert.Equal(1, await a.SaveAsync(Closure("cran", Computed, "ggplot2"), Policy, CancellationToken.None));

        var generations = await a.GetGenerationsAsync(CancellationToken.None);
        Assert.Equal(2, generations["pypi"]);
        Assert.Equal(1, generations["cran"]);
        var pypi = await a.LoadAsync("pypi", CancellationToken.None);
        Assert.True(pypi!.Closure.Contains("flask"));
        Assert.False(pypi.Closure.Contains("old"));
    }

    [Fact]
    public async Task Replicas_storing_at_once_each_get_a_distinct_generation()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => ClosureStore.OpenAsync(i == 0 ? Database : OpenReplica(), CancellationToken.None)));

        var generations = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            stores[i % stores.Length].SaveAsync(Closure("conda", Computed.AddSeconds(i), "numpy"), Policy, CancellationToken.None))));

        // Later computations may be refused when an even later one got in first, but no two stores share a generation.
        var stored = generations.Where(g => g is not null).Select(g => g!.Value).ToList();
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(stored.Max(), (await stores[0].GetGenerationsAsync(CancellationToken.None))["conda"]);
        Assert.Equal(Computed.AddSeconds(7), (await stores[1].LoadAsync("conda", CancellationToken.None))!.Closure.ComputedAt);
    }
}
