using System.Collections.Frozen;

namespace SafeHaven.Core.Tiers;

/// <summary>
/// A dependency to resolve: a package, an ecosystem-specific version constraint, and requested extras.
/// <see cref="IsRoot"/> marks an allowlist entry itself (its constraint, often empty, is the entry's), as opposed to a
/// dependency of a resolved version: an ecosystem may follow more versions of a root than the one a dependency picks.
/// </summary>
public sealed record ClosureRequest(string Name, string Constraint, IReadOnlySet<string> Extras, bool IsRoot = false);

/// <summary>A resolved package version whose own dependencies are followed.</summary>
public sealed record ClosureNode(string Name, string Version, IReadOnlySet<string> Extras);

/// <summary>The outcome of resolving a <see cref="ClosureRequest"/>: a node, or the reason there is none.</summary>
public sealed record ClosureResolution(ClosureNode? Node, string? Failure)
{
    public static ClosureResolution Resolved(ClosureNode node) => new(node, null);
    public static ClosureResolution Failed(string reason) => new(null, reason);
}

/// <summary>The ecosystem-specific half of closing an allowlist over dependencies.</summary>
public interface IClosureSource
{
    /// <summary>Picks the version a client would install for the request, among those the tier lets through.</summary>
    Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken);

    /// <summary>The dependencies of a resolved version that apply in the environment (markers evaluated).</summary>
    Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="ResolveAsync(ClosureRequest, CancellationToken)"/>, knowing the packages already in the closure
    /// being built, for an ecosystem whose client prefers what is already installed (apt, among alternatives and
    /// among the providers of a virtual package). The closure calls this one; by default it ignores them.
    /// </summary>
    Task<ClosureResolution> ResolveAsync(ClosureRequest request, IReadOnlySet<string> included, CancellationToken cancellationToken) =>
        ResolveAsync(request, cancellationToken);

    /// <summary>
    /// Packages the ecosystem's client assumes are always installed (apt: <c>Essential: yes</c> and
    /// <c>Priority: required</c>), added to every closure as roots of their own, before the allowlist's. None by default.
    /// </summary>
    Task<IReadOnlyList<ClosureRequest>> GetImplicitRootsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ClosureRequest>>([]);
}

/// <summary>
/// A package the closure lets through only because an approved package needs it, which neither a hand-made
/// entry nor the whitelist model approves: reported to the System Manager, not silently allowed.
/// </summary>
public sealed record UnapprovedDependency(string Package, IReadOnlyList<string> RequiredBy, double? Score, string Note);

/// <summary>A dependency of an allowlisted package that cannot be satisfied at the tier.</summary>
public sealed record UnsatisfiedDependency(string Root, IReadOnlyList<string> Path, string Requirement, string Reason);

/// <summary>
/// The set of packages visible at Tier 3+: the allowlist plus everything its entries need, transitively.
/// Immutable; a recomputation replaces it whole.
/// </summary>
public sealed class AllowlistClosure
{
    /// <summary>Bound on nodes visited, so a pathological dependency graph cannot exhaust the appliance.</summary>
    public const int MaximumNodes = 20_000;

    private readonly FrozenSet<string> _packages;

    public AllowlistClosure(
        string ecosystem, DateTimeOffset computedAt, IEnumerable<string> roots, IEnumerable<string> packages,
        IReadOnlyList<UnsatisfiedDependency> unsatisfied, IReadOnlyDictionary<string, IReadOnlySet<string>> extras)
    {
        Ecosystem = ecosystem;
        ComputedAt = computedAt;
        Roots = roots.ToList();
        _packages = packages.ToFrozenSet(StringComparer.Ordinal);
        Unsatisfied = unsatisfied;
        Extras = extras;
    }

    public string Ecosystem { get; }
    public DateTimeOffset ComputedAt { get; }
    public IReadOnlyList<string> Roots { get; }
    public IReadOnlyCollection<string> Packages => _packages;
    public IReadOnlyList<UnsatisfiedDependency> Unsatisfied { get; }

    /// <summary>Roots approved by the whitelist model rather than by hand (Tier 3 only).</summary>
    public IReadOnlyList<string> ModelApproved { get; init; } = [];

    /// <summary>Dependencies in the closure that nobody approved (neither by hand nor by score).</summary>
    public IReadOnlyList<UnapprovedDependency> UnapprovedDependencies { get; init; } = [];

    /// <summary>For each package, the approved roots whose closure pulled it in.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> RequiredBy { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Extras requested for each package anywhere in the closure.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Extras { get; }

    /// <summary>Roots the ecosystem adds to every closure (<see cref="IClosureSource.GetImplicitRootsAsync"/>), not on the allowlist.</summary>
    public IReadOnlyList<string> ImplicitRoots { get; init; } = [];

    public bool Contains(string normalizedName) => _packages.Contains(normalizedName);

    /// <summary>The same closure with the whitelist model's part of the report attached.</summary>
    public AllowlistClosure WithModelReport(IReadOnlyList<string> modelApproved, IReadOnlyList<UnapprovedDependency> unapproved) =>
        new(Ecosystem, ComputedAt, Roots, _packages, Unsatisfied, Extras)
        {
            RequiredBy = RequiredBy,
            ImplicitRoots = ImplicitRoots,
            ModelApproved = modelApproved,
            UnapprovedDependencies = unapproved,
        };

    public static async Task<AllowlistClosure> BuildAsync(
        string ecosystem, Allowlist allowlist, IClosureSource source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var packages = new HashSet<string>(StringComparer.Ordinal);
        var extras = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var requiredBy = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var unsatisfied = new List<UnsatisfiedDependency>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var resolutions = new Dictionary<(string, string, string, bool), ClosureResolution>();
        var queue = new Queue<(ClosureRequest Request, string Root, IReadOnlyList<string> Path)>();

        var implicitRoots = await source.GetImplicitRootsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var request in implicitRoots)
        {
            queue.Enqueue((request with { IsRoot = true }, request.Name, [request.Name]));
        }
        foreach (var entry in allowlist.Entries)
        {
            queue.Enqueue((new ClosureRequest(entry.Name, entry.Constraint, entry.Extras, IsRoot: true), entry.Name, [entry.Name]));
        }

        while (queue.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (request, root, path) = queue.Dequeue();
            var extrasKey = string.Join(',', request.Extras.Order(StringComparer.Ordinal));
            if (!resolutions.TryGetValue((request.Name, request.Constraint, extrasKey, request.IsRoot), out var resolution))
            {
                try
                {
                    resolution = await source.ResolveAsync(request, packages, cancellationToken).ConfigureAwait(false);
                }
                catch (ClosureSourceException e)
                {
                    resolution = ClosureResolution.Failed(e.Message);
                }
                resolutions[(request.Name, request.Constraint, extrasKey, request.IsRoot)] = resolution;
            }
            if (resolution.Node is not { } node)
            {
                var requirement = request.Constraint.Length == 0 ? request.Name : $"{request.Name} {request.Constraint}";
                unsatisfied.Add(new UnsatisfiedDependency(root, path, requirement, resolution.Failure ?? "not resolvable"));
                continue;
            }
            packages.Add(node.Name);
            if (!requiredBy.TryGetValue(node.Name, out var roots))
            {
                requiredBy[node.Name] = roots = new SortedSet<string>(StringComparer.Ordinal);
            }
            roots.Add(root);
            if (!extras.TryGetValue(node.Name, out var nodeExtras))
            {
                extras[node.Name] = nodeExtras = new HashSet<string>(StringComparer.Ordinal);
            }
            nodeExtras.UnionWith(node.Extras);

            var nodeKey = $"{node.Name}\n{node.Version}\n{string.Join(',', node.Extras.Order(StringComparer.Ordinal))}";
            if (!visited.Add(nodeKey))
            {
                continue;
            }
            if (visited.Count > MaximumNodes)
            {
                unsatisfied.Add(new UnsatisfiedDependency(root, path, node.Name,
                    $"the dependency graph exceeds {MaximumNodes} package versions; closure stopped"));
                break;
            }
            IReadOnlyList<ClosureRequest> dependencies;
            try
            {
                dependencies = await source.GetDependenciesAsync(node, cancellationToken).ConfigureAwait(false);
            }
            catch (ClosureSourceException e)
            {
                unsatisfied.Add(new UnsatisfiedDependency(root, path, $"{node.Name} {node.Version}", e.Message));
                continue;
            }
            foreach (var dependency in dependencies)
            {
                queue.Enqueue((dependency, root, [.. path, dependency.Name]));
            }
        }

        return new AllowlistClosure(
            ecosystem, now, allowlist.Entries.Select(e => e.Name), packages, unsatisfied,
            extras.ToDictionary(p => p.Key, p => (IReadOnlySet<string>)p.Value, StringComparer.Ordinal))
        {
            RequiredBy = requiredBy.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.ToList(), StringComparer.Ordinal),
            ImplicitRoots = implicitRoots.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList(),
        };
    }
}

/// <summary>A closure source could not read what it needed (metadata missing or unreadable, upstream down).</summary>
public sealed class ClosureSourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Whether the tier lets a package through the allowlist gate, and the closure it was judged against.</summary>
public sealed record AllowlistAdmission(bool Admitted, AllowlistClosure? Closure, string? Reason, bool ClosurePending)
{
    /// <summary>Below Tier 3, or when the caller deliberately looks past the allowlist: no gate.</summary>
    public static readonly AllowlistAdmission Open = new(true, null, null, false);
}

/// <summary>The closures currently in force, one per ecosystem, each replaced whole when recomputed.</summary>
public sealed class AllowlistClosureRegistry
{
    /// <summary>
    /// The Tier 3+ gate every ecosystem applies before anything else: not ready while the closure is being computed,
    /// hidden when <paramref name="normalizedName"/> is outside it. A null name asks only for the closure (index pages).
    /// </summary>
    public AllowlistAdmission Admit(PolicySnapshot policy, string ecosystem, string? normalizedName)
    {
        if (!policy.Policy.RequiresAllowlist)
        {
            return AllowlistAdmission.Open;
        }
        var tier = policy.Policy.Tier;
        if (Get(ecosystem) is not { } closure)
        {
            return new AllowlistAdmission(false, null, $"tier {tier}: the allowlist closure is still being computed", ClosurePending: true);
        }
        if (normalizedName is not null && !closure.Contains(normalizedName))
        {
            // An approved package the closure could not resolve is refused for that reason, not as "not approved".
            if (closure.Roots.Contains(normalizedName, StringComparer.Ordinal))
            {
                var why = closure.Unsatisfied.FirstOrDefault(u => u.Root == normalizedName && u.Path.Count == 1)?.Reason ?? "no version of it can be served";
                return new AllowlistAdmission(false, closure,
                    $"tier {tier}: '{normalizedName}' is on the approved list, but no version of it is visible at this tier: {why}", ClosurePending: false);
            }
            return new AllowlistAdmission(false, closure,
                $"tier {tier}: '{normalizedName}' is not on the approved list nor a dependency of an approved package", ClosurePending: false);
        }
        return new AllowlistAdmission(true, closure, null, false);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AllowlistClosure> _closures = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Raised for every closure put in force, computed here or adopted from another replica.</summary>
    public event Action<AllowlistClosure>? Published;

    public AllowlistClosure? Get(string ecosystem) => _closures.TryGetValue(ecosystem, out var closure) ? closure : null;

    /// <summary>Puts a closure this process computed in force.</summary>
    public void Publish(AllowlistClosure closure)
    {
        _closures[closure.Ecosystem] = closure;
        Published?.Invoke(closure);
    }

    /// <summary>
    /// Puts in force a closure another replica computed and shared, unless one computed later is already in force.
    /// Returns whether it was adopted.
    /// </summary>
    public bool Adopt(AllowlistClosure closure)
    {
        while (true)
        {
            if (_closures.TryGetValue(closure.Ecosystem, out var current))
            {
                if (current.ComputedAt > closure.ComputedAt)
                {
                    return false;
                }
                if (!_closures.TryUpdate(closure.Ecosystem, closure, current))
                {
                    continue;
                }
            }
            else if (!_closures.TryAdd(closure.Ecosystem, closure))
            {
                continue;
            }
            Published?.Invoke(closure);
            return true;
        }
    }
}
