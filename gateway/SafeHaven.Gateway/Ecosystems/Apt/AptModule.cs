using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.OpenPgp;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.Gateway.Ecosystems.Apt.Upstream;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Policy;
using SafeHaven.Gateway.Upstreams;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// The apt mirror: <c>/apt/&lt;repository&gt;/dists|pool/...</c>, one per <c>SafeHaven:Mirrors:apt:Repositories:&lt;name&gt;</c>,
/// each read from its own upstream through the shared upstream machinery (proxy, credentials, transfer limits),
/// verified against its own keyring, and re-signed with the appliance's key.
/// </summary>
public sealed class AptModule : IEcosystemModule
{
    public string Name => AptMirror.Ecosystem;

    public void AddServices(IServiceCollection services, MirrorOptions mirror, SafeHavenOptions options)
    {
        var repositories = AptConfiguration.Read(mirror);
        services.AddSingleton(sp => new AptArchiveKey(AptArchiveKey.PathIn(options.ResolveDataPath()), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new AptPublisher(options.ResolveDataPath(), sp.GetRequiredService<AptArchiveKey>()));
        services.AddSingleton(sp =>
        {
            var readers = new Dictionary<string, AptUpstreamReader>(StringComparer.Ordinal);
            var artifacts = new Dictionary<string, ArtifactFetcher>(StringComparer.Ordinal);
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var health = sp.GetRequiredService<MirrorHealth>().Get(Name);
            foreach (var repository in repositories)
            {
                var http = MirrorInfrastructure.CreateUpstreamHttp(repository.Upstream, mirror, UpstreamHttp.DefaultMaximumIndexBytes);
                readers[repository.Name] = new AptUpstreamReader(http, OpenPgpKeyring.Load(repository.UpstreamKeyring),
                    sp.GetRequiredService<IFirstSeenStore>(), sp.GetRequiredService<TimeProvider>(), loggers.CreateLogger("SafeHaven.Gateway.Ecosystems.Apt"));
                artifacts[repository.Name] = new ArtifactFetcher(Name, sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<IIndexCacheStore>(), http, health,
                    loggers.CreateLogger("SafeHaven.Gateway.Artifacts.apt"), sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
                    fetchLock: sp.GetService<IArtifactFetchLock>());
            }
            return new AptMirror(repositories, readers, artifacts, sp.GetRequiredService<AptPublisher>(), sp.GetRequiredService<TierPolicyProvider>(),
                sp.GetRequiredService<AllowlistClosureRegistry>(), sp.GetRequiredService<ModelApprovals>(), sp.GetRequiredService<IIndexCacheStore>(),
                sp.GetRequiredService<TimeProvider>(), loggers.CreateLogger("SafeHaven.Gateway.Ecosystems.Apt"), TimeSpan.FromDays(mirror.ReleaseValidDays));
        });
        services.AddSingleton<IHealthContributor, AptHealth>();
        services.AddSingleton<IMirrorEcosystem, AptMirrorEcosystem>();
        services.AddSingleton<ISnapshotPlan, AptSnapshotPlan>();
        services.AddSingleton<IRepositoryRefresh>(sp => new AptScheduledRefresh(sp.GetRequiredService<AptMirror>(), sp.GetRequiredService<AptArchiveKey>(),
            TimeSpan.FromSeconds(Math.Max(1, mirror.IndexTtlSeconds)), sp.GetRequiredService<ILogger<AptScheduledRefresh>>()));
    }

    public void MapEndpoints(IEndpointRouteBuilder app) => app.MapApt();
}

/// <summary>The apt mirror as the scheduled jobs see it: its closure source, and a suite re-read by its key.</summary>
public sealed class AptMirrorEcosystem(AptMirror mirror) : IMirrorEcosystem
{
    public string Ecosystem => AptMirror.Ecosystem;

    public IClosureSource ClosureSource => mirror.ClosureSource;

    public Task RefreshAsync(string key, CancellationToken cancellationToken) => mirror.RefreshAsync(key, cancellationToken);
}
