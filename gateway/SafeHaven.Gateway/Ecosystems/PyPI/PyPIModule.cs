using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The PyPI mirror: <c>/pypi/simple/</c> and <c>/pypi/packages/</c>.</summary>
public sealed class PyPIModule : IEcosystemModule
{
    public string Name => PyPIMirror.Ecosystem;

    public void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options)
    {
        services.AddMirrorInfrastructure(Name, mirror, options.ResolveDataPath("tmp"));
        services.AddSingleton(sp => new PyPIMirror(
            sp.GetRequiredKeyedService<UpstreamDocumentCache>(Name),
            sp.GetRequiredKeyedService<ArtifactFetcher>(Name),
            sp.GetRequiredService<IMemoryCache>(),
            sp.GetRequiredService<TierPolicyProvider>(),
            sp.GetRequiredService<AllowlistClosureRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IFirstSeenStore>(),
            sp.GetRequiredService<MirrorHealth>().Get(Name),
            sp.GetRequiredService<ILogger<PyPIMirror>>()));
        services.AddSingleton(sp => new PyPIClosureSource(sp.GetRequiredService<PyPIMirror>(), mirror));
        services.AddSingleton<IMirrorEcosystem, PyPIMirrorEcosystem>();
        services.AddSingleton<Snapshots.ISnapshotPlan, PyPISnapshotPlan>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app) => app.MapPyPI();
}
