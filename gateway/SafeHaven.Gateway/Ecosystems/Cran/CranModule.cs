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
using SafeHaven.Gateway.Snapshots;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>The CRAN mirror: <c>/cran/src/contrib/</c>. Its upstream is a CRAN root (what R takes as <c>repos</c>).</summary>
public sealed class CranModule : IEcosystemModule
{
    public string Name => CranMirror.Ecosystem;

    public void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options)
    {
        services.AddMirrorInfrastructure(Name, mirror, options.ResolveDataPath("tmp"));
        services.AddSingleton(sp => new CranMirror(
            sp.GetRequiredKeyedService<UpstreamDocumentCache>(Name),
            sp.GetRequiredKeyedService<ArtifactFetcher>(Name),
            sp.GetRequiredService<IIndexCacheStore>(),
            sp.GetRequiredService<IMemoryCache>(),
            sp.GetRequiredService<TierPolicyProvider>(),
            sp.GetRequiredService<AllowlistClosureRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("SafeHaven.Gateway.Ecosystems.Cran"),
            TimeSpan.FromSeconds(Math.Clamp(mirror.IndexTtlSeconds, 5, 60)),
            sp.GetRequiredService<IFirstSeenStore>(),
            sp.GetRequiredService<MirrorHealth>().Get(Name)));
        services.AddSingleton(sp => new CranClosureSource(sp.GetRequiredService<CranMirror>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IMirrorEcosystem, CranMirrorEcosystem>();
        services.AddSingleton<ISnapshotPlan, CranSnapshotPlan>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app) => app.MapCran();
}
