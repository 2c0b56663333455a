using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Ecosystems.Conda.Closure;

/// <summary>
/// INTERIM (replaced when conda's MatchSpec lands from branch conda-core): the conda allowlist closure cannot be
/// computed yet, so at Tier 3+ every entry is reported unsatisfied with this reason and nothing is listed (fail closed).
/// </summary>
public sealed class CondaClosureSource : IClosureSource
{
    private const string Reason = "the conda closure needs conda's MatchSpec rules, which this build does not have yet";

    public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(ClosureResolution.Failed(Reason));

    public Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ClosureRequest>>([]);
}
