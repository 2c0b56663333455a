using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Ecosystems.Apt.Closure;

/// <summary>
/// Closes an apt allowlist (binary package names) over <c>Pre-Depends</c> and <c>Depends</c> inside the one policy
/// engine (<see cref="AllowlistClosure.BuildAsync"/>), choosing what apt would among the packages the tier lets
/// through (<see cref="AptUniverse"/>). apt, like R, never backtracks: it installs a name's <b>candidate</b> (its
/// newest visible version) or fails.
/// <list type="bullet">
/// <item><b>Requests.</b> Each group of alternatives is one <see cref="ClosureRequest"/>: a single relation as
/// <c>Name = "libfoo1[:any]"</c>, <c>Constraint = "(&gt;= 1.2)"</c> (or empty); several as <c>Name = "a (&gt;= 1) | b"</c>,
/// <c>Constraint = ""</c>. The node names the real package chosen, at its candidate version.</item>
/// <item><b>Alternatives</b> (<c>a | b</c>): an alternative already satisfied by a package in the closure is taken (apt
/// installs nothing for a dependency already met); otherwise the first alternative that can be satisfied by a
/// package whose own dependencies the tier can meet (see <see cref="Choose"/>).</item>
/// <item><b>One relation</b>: the real package's candidate when it satisfies the version and architecture, else a
/// provider (a real package before a virtual one's provider).</item>
/// <item><b>Virtual packages</b>: a provider already in the closure if there is one, else the first in apt's
/// <c>CompareProviders</c> order (<c>Essential</c>, then <c>Important</c>, then <c>Priority</c>, then by name where apt
/// uses its cache order). Whichever apt would take, the mirror lists only the providers in the closure, so apt can
/// only take the one chosen here. An unversioned <c>Provides</c> never satisfies a versioned relation; a versioned
/// one (<c>Provides: v (= 2)</c>) is checked.</item>
/// <item><b>Multi-Arch</b>: <c>x:any</c> needs the target to be <c>Multi-Arch: allowed</c> (apt's rule; <c>foreign</c> does
/// not do); <c>x:native</c> and <c>x:&lt;native arch&gt;</c> are met by native and <c>all</c> packages; <c>x:&lt;other
/// arch&gt;</c> only by a <c>Multi-Arch: foreign</c> package, the universe holding no other architecture.</item>
/// <item><b>Roots</b> (allowlist entries, optionally <c>name@&gt;= 1.2</c>): the real package's candidate; a virtual name
/// with exactly one provider resolves to it (apt: "Note, selecting ... instead of ..."), with several it fails, as
/// <c>apt-get install</c> does.</item>
/// <item><b>Essential and required</b> packages (<see cref="ImplicitRoots"/>) are implicit roots of every closure
/// (<see cref="GetImplicitRootsAsync"/>): apt assumes them installed, so they and their dependencies are served.</item>
/// </list>
/// </summary>
public sealed class AptClosureSource(Func<CancellationToken, ValueTask<AptUniverse>> universe) : IClosureSource
{
    private static readonly IReadOnlySet<string> NoExtras = new HashSet<string>();

    /// <summary>The names apt assumes installed: candidates with <c>Essential: yes</c> or <c>Priority: required</c>, by name.</summary>
    public static IReadOnlyList<string> ImplicitRoots(AptUniverse universe)
    {
        ArgumentNullException.ThrowIfNull(universe);
        return universe.Names
            .Select(universe.Candidate)
            .OfType<AptPackage>()
            .Where(p => p.Essential || string.Equals(p.Priority, "required", StringComparison.OrdinalIgnoreCase))
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The request standing for one group of alternatives (see the class remarks for the encoding).</summary>
    public static ClosureRequest Request(IReadOnlyList<AptRelation> group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Count == 1)
        {
            var relation = group[0];
            var name = relation.ArchQualifier is null ? relation.Name : $"{relation.Name}:{relation.ArchQualifier}";
            var constraint = relation.Operator is { } op && relation.Version is not null
                ? $"({AptRelations.Symbol(op)} {relation.Version.Text})"
                : "";
            return new ClosureRequest(name, constraint, NoExtras);
        }
        return new ClosureRequest(AptRelations.Format(group), "", NoExtras);
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetImplicitRootsAsync(CancellationToken cancellationToken)
    {
        var current = await universe(cancellationToken).ConfigureAwait(false);
        return ImplicitRoots(current).Select(n => new ClosureRequest(n, "", NoExtras, IsRoot: true)).ToList();
    }

    public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) =>
        ResolveAsync(request, new HashSet<string>(), cancellationToken);

    public async Task<ClosureResolution> ResolveAsync(ClosureRequest request, IReadOnlySet<string> included, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(included);
        var current = await universe(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<IReadOnlyList<AptRelation>> groups;
        try
        {
            groups = AptRelations.Parse(Text(request), current.NativeArchitecture);
        }
        catch (FormatException e)
        {
            return ClosureResolution.Failed($"'{Text(request)}' is not an apt relation: {e.Message}");
        }
        if (groups.Count != 1)
        {
            return ClosureResolution.Failed($"'{Text(request)}' is not one apt relation (a group of alternatives)");
        }
        var chosen = request.IsRoot ? ResolveRoot(current, groups[0], out var failure) : Choose(current, groups[0], included, out failure);
        return chosen is null
            ? ClosureResolution.Failed(failure!)
            : ClosureResolution.Resolved(new ClosureNode(chosen.Name, chosen.Version.Text, NoExtras));
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var current = await universe(cancellationToken).ConfigureAwait(false);
        var package = current.Find(node.Name, node.Version)
            ?? throw new ClosureSourceException($"{node.Name} {node.Version} is no longer served at this tier");
        return Dependencies(package);
    }

    /// <summary>The requests for a package's <c>Pre-Depends</c> then <c>Depends</c>, each group once.</summary>
    public static IReadOnlyList<ClosureRequest> Dependencies(AptPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        var requests = new List<ClosureRequest>();
        var seen = new HashSet<(string, string)>();
        foreach (var group in package.PreDepends.Concat(package.Depends))
        {
            var request = Request(group);
            if (seen.Add((request.Name, request.Constraint)))
            {
                requests.Add(request);
            }
        }
        return requests;
    }

    /// <summary>
    /// The package apt installs for a group of alternatives, or null with the reason, following apt's
    /// <c>pkgDepCache::MarkInstall</c>: nothing new when an alternative is already met by a package in the closure;
    /// otherwise the solutions of each alternative in turn (each sorted as apt's <c>CompareProviders</c> sorts them,
    /// see <see cref="AptUniverse.Satisfiers(AptRelation, IReadOnlySet{string}?, out string?)"/>), skipping one whose
    /// own <c>Pre-Depends</c>/<c>Depends</c> no served candidate can meet (apt's
    /// <c>IsInstallOkDependenciesSatisfiableByCandidates</c>, one level deep). When every solution is skipped so, the
    /// first is chosen anyway, so that the closure reports the dependency that is really missing, with its path.
    /// </summary>
    public static AptPackage? Choose(AptUniverse universe, IReadOnlyList<AptRelation> group, IReadOnlySet<string> included, out string? failure)
    {
        ArgumentNullException.ThrowIfNull(universe);
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(included);
        foreach (var relation in group)
        {
            if (universe.Satisfiers(relation, included, out _).FirstOrDefault(p => included.Contains(p.Name)) is { } already)
            {
                failure = null;
                return already;
            }
        }
        var reasons = new List<string>();
        AptPackage? fallback = null;
        foreach (var relation in group)
        {
            var satisfiers = universe.Satisfiers(relation, included, out var why);
            if (satisfiers.Count == 0)
            {
                reasons.Add(why!);
                continue;
            }
            fallback ??= satisfiers[0];
            if (satisfiers.FirstOrDefault(universe.DependenciesSatisfiable) is { } installable)
            {
                failure = null;
                return installable;
            }
        }
        failure = fallback is null ? string.Join("; ", reasons) : null;
        return fallback;
    }

    private static AptPackage? ResolveRoot(AptUniverse universe, IReadOnlyList<AptRelation> group, out string? failure)
    {
        if (group.Count != 1)
        {
            failure = "an allowlist entry names one package, not alternatives";
            return null;
        }
        var relation = group[0];
        if (universe.Candidate(relation.Name) is { } candidate)
        {
            failure = universe.ArchitectureProblem(relation, candidate);
            if (failure is null && !relation.VersionMatches(candidate.Version))
            {
                failure = $"'{relation}': the candidate version of '{relation.Name}' at this tier is {candidate.Version}{universe.HeldBackNote(relation)}";
            }
            return failure is null ? candidate : null;
        }
        var providers = universe.Satisfiers(relation, null, out failure);
        if (providers.Count > 1)
        {
            failure = $"'{relation.Name}' is a virtual package provided by {string.Join(", ", providers.Select(p => p.Name))}; "
                + "apt-get install refuses to choose among several providers, so approve one of them by name";
            return null;
        }
        return providers.Count == 1 ? providers[0] : null;
    }

    private static string Text(ClosureRequest request)
    {
        if (request.Constraint.Length == 0)
        {
            return request.Name;
        }
        var constraint = request.Constraint.Trim();
        return constraint.StartsWith('(') ? $"{request.Name} {constraint}" : $"{request.Name} ({constraint})";
    }
}
