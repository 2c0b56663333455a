using SafeHaven.Core.Catalog;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>
/// Closes a CRAN allowlist over <c>Depends</c>, <c>Imports</c> and <c>LinkingTo</c> (not <c>Suggests</c>, which R does
/// not install by default), leaving out R itself and the base and recommended packages every R installation has.
/// R never backtracks: each package resolves to the one version the index lists at the tier, and a constraint
/// that version does not satisfy is unsatisfiable.
/// </summary>
public sealed class CranClosureSource(CranMirror mirror, TimeProvider time) : IClosureSource
{
    public async Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken)
    {
        if (!CranDependencies.IsValidName(request.Name))
        {
            return ClosureResolution.Failed($"'{request.Name}' is not an R package name");
        }
        var index = await mirror.GetDatedIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Document is not { } state)
        {
            return ClosureResolution.Failed($"'{request.Name}' could not be read: {(index.NotFound ? "upstream has no src/contrib/PACKAGES" : index.StaleReason)}");
        }
        var (choice, archiveFailed) = await mirror.ChooseAsync(state, request.Name, mirror.Policy.Policy, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (choice.Chosen is not { } chosen)
        {
            return ClosureResolution.Failed((choice.Reason ?? "no visible version") + (archiveFailed ? " (the upstream archive could not be read)" : ""));
        }
        if (request.Constraint.Length > 0)
        {
            var parts = request.Constraint.Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !RVersion.TryParse(parts[1], out var bound))
            {
                return ClosureResolution.Failed($"'{request.Constraint}' is not an R version constraint");
            }
            if (chosen.Version is null || !chosen.Version.Satisfies(parts[0], bound))
            {
                return ClosureResolution.Failed(
                    $"the version of '{request.Name}' listed at this tier is {chosen.VersionText}, which does not satisfy '{request.Constraint}' (R never backtracks)");
            }
        }
        return ClosureResolution.Resolved(new ClosureNode(request.Name, chosen.VersionText, new HashSet<string>()));
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
    {
        var index = await mirror.GetDatedIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index.Document is not { } state)
        {
            throw new ClosureSourceException($"'{node.Name}' could not be read again");
        }
        var (choice, _) = await mirror.ChooseAsync(state, node.Name, mirror.Policy.Policy, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var package = choice.Candidates.Select(c => c.Package).FirstOrDefault(p => p.VersionText == node.Version)
            ?? throw new ClosureSourceException($"{node.Name} {node.Version} could not be read again");
        if (package.DependencyError is { } error)
        {
            throw new ClosureSourceException($"{node.Name} {node.Version} has an unreadable dependency field: {error}");
        }
        return package.Dependencies.Select(d => new ClosureRequest(d.Name, d.Constraint, new HashSet<string>())).ToList();
    }
}

/// <summary>The CRAN mirror as the scheduled jobs see it.</summary>
public sealed class CranMirrorEcosystem(CranMirror mirror, CranClosureSource closureSource) : IMirrorEcosystem
{
    public string Ecosystem => CranMirror.Ecosystem;

    public IClosureSource ClosureSource => closureSource;

    public Task RefreshAsync(string key, CancellationToken cancellationToken) => mirror.RefreshNowAsync(key, cancellationToken);
}
