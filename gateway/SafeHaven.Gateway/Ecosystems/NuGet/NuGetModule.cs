using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Upstreams;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>The NuGet v3 mirror under <c>/nuget/v3/</c>; <c>SafeHaven:Mirrors:nuget:Upstream</c> is the upstream's service index URL.</summary>
public sealed class NuGetModule : IEcosystemModule
{
    public string Name => NuGetMirror.Ecosystem;

    public void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options)
    {
        services.AddMirrorInfrastructure(Name, mirror, options.ResolveDataPath("tmp"));
        var serviceIndex = new Uri(mirror.Upstream!);
        services.AddSingleton(sp => new NuGetMirror(
            serviceIndex,
            sp.GetRequiredKeyedService<UpstreamDocumentCache>(Name),
            sp.GetRequiredKeyedService<ArtifactFetcher>(Name),
            sp.GetRequiredService<IIndexCacheStore>(),
            sp.GetRequiredService<IMemoryCache>(),
            sp.GetRequiredService<TierPolicyProvider>(),
            sp.GetRequiredService<AllowlistClosureRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IFirstSeenStore>(),
            sp.GetRequiredService<Health.MirrorHealth>().Get(Name),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NuGetMirror).FullName!),
            mirror.TrustedSigners,
            options.ResolveDataPath("tmp")));
        services.AddSingleton(sp => new NuGetClosureSource(sp.GetRequiredService<NuGetMirror>(), mirror.TargetFrameworks));
        services.AddSingleton<IMirrorEcosystem, NuGetMirrorEcosystem>();
        services.AddSingleton<ISnapshotPlan, NuGetSnapshotPlan>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app) => app.MapNuGet();
}

/// <summary>The NuGet mirror as the scheduled jobs see it.</summary>
public sealed class NuGetMirrorEcosystem(NuGetMirror mirror, NuGetClosureSource closureSource) : IMirrorEcosystem
{
    public string Ecosystem => NuGetMirror.Ecosystem;

    public IClosureSource ClosureSource => closureSource;

    public Task RefreshAsync(string key, CancellationToken cancellationToken) => mirror.RefreshNowAsync(key, cancellationToken);
}
