using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems;

/// <summary>
/// The shared machinery every mirror is built on, registered once per ecosystem as keyed services (key = the
/// ecosystem's name): its <see cref="UpstreamHttp"/>, <see cref="UpstreamDocumentCache"/> and <see cref="ArtifactFetcher"/>.
/// </summary>
public static class MirrorInfrastructure
{
    /// <param name="temporaryDirectory">Where large index pages are spooled while parsed: the data directory's <c>tmp</c>, on disk.</param>
    public static IServiceCollection AddMirrorInfrastructure(this IServiceCollection services, string ecosystem, MirrorOptions mirror, string? temporaryDirectory = null)
    {
        var upstream = new Uri(mirror.Upstream!.EndsWith('/') ? mirror.Upstream : mirror.Upstream + "/");
        services.AddKeyedSingleton(ecosystem, (_, _) => CreateUpstreamHttp(upstream, mirror, UpstreamHttp.DefaultMaximumIndexBytes, temporaryDirectory));
        services.AddKeyedSingleton(ecosystem, (sp, _) => new UpstreamDocumentCache(
            ecosystem,
            sp.GetRequiredKeyedService<UpstreamHttp>(ecosystem),
            sp.GetRequiredService<IIndexCacheStore>(),
            sp.GetRequiredService<IMemoryCache>(),
            sp.GetRequiredService<MirrorHealth>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger($"SafeHaven.Gateway.Upstreams.{ecosystem}"),
            TimeSpan.FromSeconds(mirror.IndexTtlSeconds),
            TimeSpan.FromSeconds(Math.Clamp(mirror.IndexTtlSeconds, 5, 60)),
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
            TimeSpan.FromSeconds(mirror.NotFoundTtlSeconds)));
        services.AddKeyedSingleton(ecosystem, (sp, _) => new ArtifactFetcher(
            ecosystem,
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<IIndexCacheStore>(),
            sp.GetRequiredKeyedService<UpstreamHttp>(ecosystem),
            sp.GetRequiredService<MirrorHealth>().Get(ecosystem),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger($"SafeHaven.Gateway.Artifacts.{ecosystem}"),
            sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
            sp.GetService<IUpstreamAuditLog>(),
            sp.GetService<IArtifactFetchLock>()));
        return services;
    }

    /// <summary>
    /// The upstream client of one upstream base URL with the mirror's proxy, credentials, timeouts and transfer limits;
    /// <paramref name="defaultMaximumIndexBytes"/> applies when <c>MaximumIndexBytes</c> is not configured.
    /// </summary>
    public static UpstreamHttp CreateUpstreamHttp(Uri upstream, MirrorOptions mirror, long defaultMaximumIndexBytes, string? temporaryDirectory = null) =>
        new(upstream, mirror.FileOrigins,
            TimeSpan.FromSeconds(mirror.UpstreamTimeoutSeconds),
            UpstreamAccess.CreateClient(mirror, decompress: true), UpstreamAccess.CreateClient(mirror, decompress: false),
            UpstreamCredentials.From(mirror.Credentials),
            new UpstreamTransferLimits(mirror.UpstreamMinimumBytesPerSecond, TimeSpan.FromSeconds(mirror.UpstreamRateWindowSeconds),
                TimeSpan.FromSeconds(mirror.UpstreamBodyDeadlineSeconds)),
            mirror.MaximumIndexBytes ?? defaultMaximumIndexBytes,
            temporaryDirectory);
}
