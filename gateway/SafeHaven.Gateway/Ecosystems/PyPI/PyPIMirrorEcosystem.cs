using SafeHaven.Core.Catalog;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The PyPI mirror as the scheduled jobs see it.</summary>
public sealed class PyPIMirrorEcosystem(PyPIMirror mirror, PyPIClosureSource closureSource) : IMirrorEcosystem
{
    public string Ecosystem => PyPIMirror.Ecosystem;

    public IClosureSource ClosureSource => closureSource;

    public Task RefreshAsync(string key, CancellationToken cancellationToken) => mirror.RefreshNowAsync(key, cancellationToken);
}
