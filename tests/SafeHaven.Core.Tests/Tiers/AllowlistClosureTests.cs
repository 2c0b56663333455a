using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Tests.Tiers;

public sealed class AllowlistClosureTests
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static ClosureRequest Req(string name, string constraint = "", params string[] extras) =>
        new(name, constraint, new HashSet<string>(extras, StringComparer.Ordinal));

    private static Allowlist List(params string[] lines) =>
        Allowlist.Parse(lines, n => TierPolicyProvider.NormalizeForEcosystem("pypi", n));

    private static Task<AllowlistClosure> Build(Allowlist allowlist, IClosureSource source, CancellationToken token = default) =>
        AllowlistClosure.BuildAsync("pypi", allowlist, source, Now, token);

    /// <summary>
    /// An in-memory package universe: each package has one version visible at the tier, its base dependencies and
    /// the extra dependencies per extra. Counts every call so the tests can check what the algorithm asked for.
    /// </summary>
    private sealed class FakeSource : IClosureSource
    {
        private readonly Dictionary<string, (string Version, List<ClosureRequest> Base, Dictionary<string, List<ClosureRequest>> Extras)> _packages = new(StringComparer.Ordinal);

        public List<ClosureRequest> Resolved { get; } = [];
        public List<ClosureNode> Expanded { get; } = [];
        public HashSet<string> DependenciesUnreadable { get; } = new(StringComparer.Ordinal);
        public HashSet<string> ResolveThrows { get; } = new(StringComparer.Ordinal);

        public FakeSource Add(string name, string version, params ClosureRequest[] dependencies)
        {
            _packages[name] = (version, dependencies.ToList(), new Dictionary<string, List<ClosureRequest>>(StringComparer.Ordinal));
            return this;
        }

        public FakeSource Extra(string name, string extra, params ClosureRequest[] dependencies)
        {
            _packages[name].Extras[extra] = dependencies.ToList();
            return this;
        }

        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken)
        {
            Resolved.Add(request);
            if (ResolveThrows.Contains(request.Name))
            {
                throw new ClosureSourceException($"'{request.Name}' could not be read: upstream answered 503");
            }
            if (!_packages.TryGetValue(request.Name, out var package))
            {
                return Task.FromResult(ClosureResolution.Failed($"upstream has no project '{request.Name}'"));
            }
            // Constraints understood here: "" (any) and "==X".
            if (request.Constraint.StartsWith("==", StringComparison.Ordinal) && request.Constraint[2..] != package.Version)
            {
                return Task.FromResult(ClosureResolution.Failed(
                    $"no visible version of '{request.Name}' satisfies '{request.Constraint}' (visible: {package.Version})"));
            }
            return Task.FromResult(ClosureResolution.Resolved(new ClosureNode(request.Name, package.Version, request.Extras)));
        }

        public Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
        {
            Expanded.Add(node);
            if (DependenciesUnreadable.Contains(node.Name))
            {
                throw new ClosureSourceException($"{node.Name} {node.Version} has no file the tier lets through to read dependencies from");
            }
            var package = _packages[node.Name];
            var result = new List<ClosureRequest>(package.Base);
            foreach (var extra in node.Extras)
            {
                if (package.Extras.TryGetValue(extra, out var more))
                {
                    result.AddRange(more);
                }
            }
            return Task.FromResult<IReadOnlyList<ClosureRequest>>(result);
        }
    }

    /// <summary>requests 2.31.0 as its METADATA declares it.</summary>
    private static FakeSource Requests() => new FakeSource()
        .Add("requests", "2.31.0", Req("charset-normalizer", "<4,>=2"), Req("idna", "<4,>=2.5"), Req("urllib3", "<3,>=1.21.1"), Req("certifi", ">=2017.4.17"))
        .Extra("requests", "socks", Req("pysocks", "!=1.5.7,>=1.5.6"))
        .Extra("requests", "use-chardet-on-py3", Req("chardet", "<6,>=3.0.2"))
        .Add("charset-normalizer", "3.3.2")
        .Add("idna", "3.7")
        .Add("urllib3", "2.2.1")
        .Extra("urllib3", "socks", Req("pysocks", "!=1.5.7,<2.0,>=1.5.6"))
        .Add("certifi", "2024.2.2")
        .Add("pysocks", "1.7.1")
        .Add("chardet", "5.2.0");

    [Fact]
    public async Task EmptyAllowlistIsAnEmptyClosure()
    {
        var closure = await Build(Allowlist.Empty, new FakeSource());

        Assert.Empty(closure.Packages);
        Assert.Empty(closure.Roots);
        Assert.Empty(closure.Unsatisfied);
        Assert.Equal("pypi", closure.Ecosystem);
        Assert.Equal(Now, closure.ComputedAt);
    }

    [Fact]
    public async Task ClosesOverDependenciesTransitively()
    {
        var source = new FakeSource()
            .Add("pandas", "2.2.2", Req("numpy", ">=1.22.4"), Req("python-dateutil", ">=2.8.2"), Req("pytz", ">=2020.1"), Req("tzdata", ">=2022.7"))
            .Add("numpy", "1.26.4")
            .Add("python-dateutil", "2.9.0.post0", Req("six", ">=1.5"))
            .Add("six", "1.16.0")
            .Add("pytz", "2024.1")
            .Add("tzdata", "2024.1")
            .Add("unrelated", "1.0");

        var closure = await Build(List("pandas"), source);

        Assert.Equal(["numpy", "pandas", "python-dateutil", "pytz", "six", "tzdata"], closure.Packages.Order(StringComparer.Ordinal));
        Assert.Equal(["pandas"], closure.Roots);
        Assert.Empty(closure.Unsatisfied);
        Assert.True(closure.Contains("six"));
        Assert.False(closure.Contains("unrelated"));
    }

    [Fact]
    public async Task ARootIsResolvedWithoutAConstraint()
    {
        var source = Requests();

        await Build(List("requests"), source);

        var root = source.Resolved[0];
        Assert.Equal("requests", root.Name);
        Assert.Equal("", root.Constraint);
    }

    [Fact]
    public async Task DiamondsAreVisitedOnce()
    {
        // app -> (web, db); web -> common; db -> common; common -> base
        var source = new FakeSource()
            .Add("app", "1.0", Req("web"), Req("db"))
            .Add("web", "1.0", Req("common", ">=1"))
            .Add("db", "1.0", Req("common", ">=1"))
            .Add("common", "1.0", Req("base"))
            .Add("base", "1.0");

        var closure = await Build(List("app"), source);

        Assert.Equal(["app", "base", "common", "db", "web"], closure.Packages.Order(StringComparer.Ordinal));
        Assert.Single(source.Expanded, n => n.Name == "common");
        Assert.Single(source.Expanded, n => n.Name == "base");
        Assert.Single(source.Resolved, r => r.Name == "common");
        Assert.Equal(source.Expanded.Count, source.Expanded.Select(n => n.Name).Distinct().Count());
    }

    [Fact]
    public async Task DifferentConstraintsLeadingToTheSameVersionExpandItOnce()
    {
        var source = new FakeSource()
            .Add("app", "1.0", Req("left"), Req("right"))
            .Add("left", "1.0", Req("shared", ">=1"))
            .Add("right", "1.0", Req("shared", "<3"))
            .Add("shared", "2.0");

        var closure = await Build(List("app"), source);

        Assert.Contains("shared", closure.Packages);
        Assert.Equal(2, source.Resolved.Count(r => r.Name == "shared"));
        Assert.Single(source.Expanded, n => n.Name == "shared");
    }

    [Fact]
    public async Task SharedDependenciesOfSeveralRootsAreExpandedOnce()
    {
        var source = Requests();

        var closure = await Build(List("requests", "urllib3", "idna"), source);

        Assert.Equal(["requests", "urllib3", "idna"], closure.Roots);
        Assert.Single(source.Expanded, n => n.Name == "idna");
        Assert.Single(source.Expanded, n => n.Name == "urllib3");
        Assert.Empty(closure.Unsatisfied);
    }

    [Fact]
    public async Task CyclesTerminate()
    {
        // Real cycles exist on PyPI (e.g. sphinx and its sphinxcontrib-* helpers in old releases).
        var source = new FakeSource()
            .Add("sphinx", "5.0.0", Req("sphinxcontrib-applehelp"), Req("sphinxcontrib-serializinghtml"))
            .Add("sphinxcontrib-applehelp", "1.0.4", Req("sphinx", ">=5"))
            .Add("sphinxcontrib-serializinghtml", "1.1.5", Req("sphinx", ">=5"), Req("sphinxcontrib-serializinghtml"));

        var task = Build(List("sphinx"), source);
        var closure = await task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["sphinx", "sphinxcontrib-applehelp", "sphinxcontrib-serializinghtml"], closure.Packages.Order(StringComparer.Ordinal));
        Assert.Equal(3, source.Expanded.Count);
        Assert.Empty(closure.Unsatisfied);
    }

    [Fact]
    public async Task UnsatisfiedDependenciesAreReportedWithRootAndPath()
    {
        var source = new FakeSource()
            .Add("jupyter", "1.0.0", Req("notebook"), Req("ipykernel"))
            .Add("notebook", "7.0.0", Req("jupyter-server", ">=2.4.0,<3"))
            .Add("ipykernel", "6.29.0", Req("tornado", "==6.4"))
            .Add("tornado", "6.3.3");

        var closure = await Build(List("jupyter"), source);

        Assert.Equal(2, closure.Unsatisfied.Count);
        var server = Assert.Single(closure.Unsatisfied, u => u.Requirement.StartsWith("jupyter-server", StringComparison.Ordinal));
        Assert.Equal("jupyter", server.Root);
        Assert.Equal(["jupyter", "notebook", "jupyter-server"], server.Path);
        Assert.Equal("jupyter-server >=2.4.0,<3", server.Requirement);
        Assert.Contains("no project 'jupyter-server'", server.Reason, StringComparison.Ordinal);

        var tornado = Assert.Single(closure.Unsatisfied, u => u.Requirement.StartsWith("tornado", StringComparison.Ordinal));
        Assert.Equal(["jupyter", "ipykernel", "tornado"], tornado.Path);
        Assert.Contains("6.3.3", tornado.Reason, StringComparison.Ordinal);

        // What could be resolved is still in the closure; the unresolved are not.
        Assert.Equal(["ipykernel", "jupyter", "notebook"], closure.Packages.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnUnresolvableRootIsReportedAgainstItself()
    {
        var source = Requests();

        var closure = await Build(List("requests", "no-such-package"), source);

        var missing = Assert.Single(closure.Unsatisfied);
        Assert.Equal("no-such-package", missing.Root);
        Assert.Equal(["no-such-package"], missing.Path);
        Assert.Equal("no-such-package", missing.Requirement);
        Assert.Contains("requests", closure.Packages);
        Assert.False(closure.Contains("no-such-package"));
        Assert.Equal(["requests", "no-such-package"], closure.Roots);
    }

    [Fact]
    public async Task EachRootLearnsOfItsOwnBrokenDependency()
    {
        var source = new FakeSource()
            .Add("a", "1.0", Req("gone"))
            .Add("b", "1.0", Req("gone"));

        var closure = await Build(List("a", "b"), source);

        Assert.Equal(["a", "b"], closure.Unsatisfied.Select(u => u.Root).Order(StringComparer.Ordinal));
        Assert.All(closure.Unsatisfied, u => Assert.Equal([u.Root, "gone"], u.Path));
    }

    [Fact]
    public async Task ClosureSourceExceptionFromDependenciesIsReportedNotThrown()
    {
        var source = Requests();
        source.DependenciesUnreadable.Add("urllib3");

        var closure = await Build(List("requests[socks]"), source);

        var failure = Assert.Single(closure.Unsatisfied);
        Assert.Equal("requests", failure.Root);
        Assert.Equal(["requests", "urllib3"], failure.Path);
        Assert.Equal("urllib3 2.2.1", failure.Requirement);
        Assert.Contains("no file the tier lets through", failure.Reason, StringComparison.Ordinal);
        // The rest of the graph is still walked.
        Assert.Contains("pysocks", closure.Packages);
        Assert.Contains("certifi", closure.Packages);
    }

    [Fact]
    public async Task ClosureSourceExceptionFromResolveIsReportedNotThrown()
    {
        var source = Requests();
        source.ResolveThrows.Add("idna");

        var closure = await Build(List("requests"), source);

        var failure = Assert.Single(closure.Unsatisfied);
        Assert.Equal("requests", failure.Root);
        Assert.Equal(["requests", "idna"], failure.Path);
        Assert.StartsWith("idna", failure.Requirement, StringComparison.Ordinal);
        Assert.Contains("503", failure.Reason, StringComparison.Ordinal);
        Assert.False(closure.Contains("idna"));
        Assert.Contains("certifi", closure.Packages);
    }

    [Fact]
    public async Task OtherExceptionsPropagate()
    {
        var closure = Build(List("requests"), new ThrowingSource());

        await Assert.ThrowsAsync<InvalidOperationException>(() => closure);
    }

    private sealed class ThrowingSource : IClosureSource
    {
        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a bug in the source");

        public Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a bug in the source");
    }

    [Fact]
    public async Task ExtrasOnTheAllowlistArePassedToTheRoot()
    {
        var source = Requests();

        var closure = await Build(List("requests[socks]"), source);

        Assert.Equal(["socks"], source.Resolved[0].Extras);
        Assert.Contains("pysocks", closure.Packages);
        Assert.DoesNotContain("chardet", closure.Packages);
        Assert.Equal(["socks"], closure.Extras["requests"]);
        Assert.Empty(closure.Extras["idna"]);
    }

    [Fact]
    public async Task WithoutExtrasTheirDependenciesStayOut()
    {
        var closure = await Build(List("requests"), Requests());

        Assert.Equal(["certifi", "charset-normalizer", "idna", "requests", "urllib3"], closure.Packages.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExtrasRequestedByADependencyPropagate()
    {
        // httpx[socks] is not what we test; a dependency asking for urllib3[socks] pulls PySocks in.
        var source = Requests().Add("app", "1.0", Req("requests"), Req("urllib3", ">=2", "socks"));

        var closure = await Build(List("app"), source);

        Assert.Contains("pysocks", closure.Packages);
        Assert.Equal(["socks"], closure.Extras["urllib3"]);
        // urllib3 was reached twice (plain from requests, with socks from app): expanded once per extras set.
        Assert.Equal(2, source.Expanded.Count(n => n.Name == "urllib3"));
        var pysocks = source.Resolved.Single(r => r.Name == "pysocks");
        Assert.Equal("!=1.5.7,<2.0,>=1.5.6", pysocks.Constraint);
    }

    [Fact]
    public async Task ExtrasAreMergedPerPackage()
    {
        var source = Requests().Add("app", "1.0", Req("requests", "", "use-chardet-on-py3"));

        var closure = await Build(List("app", "requests[socks]"), source);

        Assert.Equal(new HashSet<string> { "socks", "use-chardet-on-py3" }, closure.Extras["requests"]);
        Assert.Contains("chardet", closure.Packages);
        Assert.Contains("pysocks", closure.Packages);
    }

    [Fact]
    public async Task CancellationStopsTheWalk()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Build(List("requests"), Requests(), cancellation.Token));
    }

    [Fact]
    public async Task APathologicalGraphIsCutOffAndReported()
    {
        // A meta-package with more dependencies than the bound.
        var count = AllowlistClosure.MaximumNodes + 10;
        var source = new FakeSource().Add("p0", "1.0", Enumerable.Range(1, count).Select(i => Req("p" + i)).ToArray());
        for (var i = 1; i <= count; i++)
        {
            source.Add("p" + i, "1.0");
        }

        var closure = await Build(List("p0"), source);

        var cut = Assert.Single(closure.Unsatisfied);
        Assert.Equal("p0", cut.Root);
        Assert.Contains(AllowlistClosure.MaximumNodes.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Reason, StringComparison.Ordinal);
        Assert.True(source.Expanded.Count <= AllowlistClosure.MaximumNodes);
    }

    /// <summary>A source using both optional members: implicit roots, and resolution that sees the closure so far.</summary>
    private sealed class ContextSource(IReadOnlyList<string> implicitRoots) : IClosureSource
    {
        private readonly FakeSource _inner = new FakeSource()
            .Add("base", "1", Req("shared"))
            .Add("app", "1", Req("either"))
            .Add("shared", "1")
            .Add("other", "1");

        public List<(string Request, string[] Included)> Seen { get; } = [];

        public Task<IReadOnlyList<ClosureRequest>> GetImplicitRootsAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ClosureRequest>>(implicitRoots.Select(n => Req(n)).ToList());

        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the engine calls the overload that passes the closure so far");

        public Task<ClosureResolution> ResolveAsync(ClosureRequest request, IReadOnlySet<string> included, CancellationToken cancellationToken)
        {
            Seen.Add((request.Name, included.Order(StringComparer.Ordinal).ToArray()));
            // "either" is met by "shared" when the closure already has it, else by "other" (as apt treats "other | shared").
            var name = request.Name == "either" ? (included.Contains("shared") ? "shared" : "other") : request.Name;
            return _inner.ResolveAsync(request with { Name = name }, cancellationToken);
        }

        public Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken) =>
            _inner.GetDependenciesAsync(node, cancellationToken);
    }

    [Fact]
    public async Task ImplicitRootsComeFirstAndResolutionSeesTheClosureSoFar()
    {
        var source = new ContextSource(["base"]);

        var closure = await Build(List("app"), source);

        Assert.Equal(["app", "base", "shared"], closure.Packages.Order(StringComparer.Ordinal));
        Assert.Equal(["app"], closure.Roots);
        Assert.Equal(["base"], closure.ImplicitRoots);
        Assert.Equal(["app", "base"], closure.RequiredBy["shared"]);
        Assert.Equal(("base", Array.Empty<string>()), (source.Seen[0].Request, source.Seen[0].Included));
        Assert.Contains(source.Seen, s => s.Request == "either" && s.Included.Contains("shared"));
        Assert.Equal(["base"], closure.WithModelReport([], []).ImplicitRoots);
    }

    [Fact]
    public async Task WithoutImplicitRootsTheContextChangesTheChoice()
    {
        var closure = await Build(List("app"), new ContextSource([]));

        Assert.Equal(["app", "other"], closure.Packages.Order(StringComparer.Ordinal));
        Assert.Empty(closure.ImplicitRoots);
    }
}
