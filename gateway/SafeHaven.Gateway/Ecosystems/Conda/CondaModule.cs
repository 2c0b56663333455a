using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Conda.Channels;
using SafeHaven.Gateway.Ecosystems.Conda.Publishing;
using SafeHaven.Gateway.Ecosystems.Conda.Upstream;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.Conda;

/// <summary>
/// The conda mirror: <c>/conda/&lt;channel&gt;/&lt;subdir&gt;/...</c>, one per <c>SafeHaven:Mirrors:conda:Channels:&lt;name&gt;</c>,
/// each read from its own upstream through the shared upstream machinery (proxy, credentials, transfer limits), its
/// indexes refreshed whole on a schedule (<see cref="CondaScheduledRefresh"/>) and on demand when stale.
/// </summary>
public sealed class CondaModule : IEcosystemModule
{
    public string Name => CondaMirror.Ecosystem;

    public void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options)
    {
        var channels = CondaConfiguration.Read(mirror);
        services.AddSingleton(sp =>
        {
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var health = sp.GetRequiredService<MirrorHealth>().Get(Name);
            var accesses = channels.Select(channel =>
            {
                var http = MirrorInfrastructure.CreateUpstreamHttp(channel.Upstream, mirror, CondaConfiguration.DefaultMaximumIndexBytes, options.ResolveDataPath("tmp"));
                return new CondaChannelAccess(channel, http, new ArtifactFetcher(Name, sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<IIndexCacheStore>(), http, health,
                    loggers.CreateLogger("SafeHaven.Gateway.Artifacts.conda"), sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
                    sp.GetService<IUpstreamAuditLog>(), sp.GetService<IArtifactFetchLock>()));
            }).ToList();
            var logger = loggers.CreateLogger("SafeHaven.Gateway.Ecosystems.Conda");
            return new CondaMirror(accesses,
                new CondaUpstreamReader(options.ResolveDataPath("conda", "upstream"), sp.GetRequiredService<IFirstSeenStore>(), sp.GetRequiredService<TimeProvider>(), logger),
                new CondaPublisher(options.ResolveDataPath()), sp.GetRequiredService<TierPolicyProvider>(), sp.GetRequiredService<AllowlistClosureRegistry>(),
                sp.GetRequiredService<ModelApprovals>(), sp.GetRequiredService<TimeProvider>(), logger, TimeSpan.FromSeconds(Math.Max(1, mirror.IndexTtlSeconds)));
        });
        services.AddSingleton<IHealthContributor, CondaHealth>();
        services.AddSingleton<IMirrorEcosystem, CondaMirrorEcosystem>();
        services.AddSingleton<ISnapshotPlan, CondaSnapshotPlan>();
        services.AddSingleton<IRepositoryRefresh>(sp => new CondaScheduledRefresh(sp.GetRequiredService<CondaMirror>(),
            TimeSpan.FromSeconds(Math.Max(1, mirror.IndexTtlSeconds))));
    }

    public void MapEndpoints(IEndpointRouteBuilder app) => app.MapConda();
}

/// <summary>The conda mirror as the scheduled jobs see it: its closure source, and a subdir re-read by its key (<c>&lt;channel&gt;/&lt;subdir&gt;</c>).</summary>
public sealed class CondaMirrorEcosystem(CondaMirror mirror) : IMirrorEcosystem
{
    public string Ecosystem => CondaMirror.Ecosystem;

    public IClosureSource ClosureSource => mirror.ClosureSource;

    public Task RefreshAsync(string key, CancellationToken cancellationToken) => mirror.RefreshAsync(key, cancellationToken);
}

/// <summary>
/// The conda mirror as the scheduled repository refresh (<c>RepositoryRefreshJob</c>) runs it: the first run loads what
/// was read before a restart, then re-reads (conditionally) and publishes every subdir; the appliance is not ready until
/// that first run ends, success or not. Later runs, every <c>SafeHaven:Mirrors:conda:IndexTtlSeconds</c>, do the same.
/// </summary>
public sealed class CondaScheduledRefresh(CondaMirror mirror, TimeSpan interval) : IRepositoryRefresh
{
    public string Ecosystem => CondaMirror.Ecosystem;

    public TimeSpan Interval => interval;

    public string ReadinessKey => CondaMirror.ReadinessKey;

    public Task RefreshAllAsync(CancellationToken cancellationToken) => mirror.RefreshAllAsync(cancellationToken);
}
