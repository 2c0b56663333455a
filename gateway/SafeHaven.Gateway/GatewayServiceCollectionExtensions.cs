using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Catalog;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Management;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>Registers storage, the tier policy and every enabled mirror from the <c>SafeHaven</c> section.</summary>
    public static IServiceCollection AddSafeHavenGateway(this IServiceCollection services, SafeHavenOptions options)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddMemoryCache(cache => cache.SizeLimit = 512L * 1024 * 1024);
        services.AddSingleton<TierPolicyProvider>();
        services.AddSingleton<AllowlistClosureRegistry>();
        services.AddSingleton<MirrorHealth>();
        services.AddSingleton<ReadinessState>();

        services.AddSingleton<IIndexCacheStore>(_ => options.Database.Provider.ToLowerInvariant() switch
        {
            "sqlite" => string.IsNullOrWhiteSpace(options.Database.ConnectionString)
                ? SqliteIndexCacheStore.ForFile(options.ResolveDataPath("safehaven.db"))
                : new SqliteIndexCacheStore(options.Database.ConnectionString),
            var other => throw new OptionsValidationException(nameof(DatabaseOptions.Provider), typeof(DatabaseOptions),
                [$"SafeHaven:Database:Provider '{other}' is not available in this build (supported: sqlite)."]),
        });
        services.AddSingleton<IBlobStore>(_ => options.BlobStore.Provider.ToLowerInvariant() switch
        {
            "filesystem" => new FileSystemBlobStore(string.IsNullOrWhiteSpace(options.BlobStore.Path) ? options.ResolveDataPath("blobs") : options.BlobStore.Path),
            var other => throw new OptionsValidationException(nameof(BlobStoreOptions.Provider), typeof(BlobStoreOptions),
                [$"SafeHaven:BlobStore:Provider '{other}' is not available in this build (supported: filesystem)."]),
        });

        if (options.Mirrors.TryGetValue(PyPIMirror.Ecosystem, out var pypi) && pypi.Enabled && !string.IsNullOrWhiteSpace(pypi.Upstream))
        {
            var upstream = new Uri(pypi.Upstream.EndsWith('/') ? pypi.Upstream : pypi.Upstream + "/");
            services.AddSingleton(sp => new UpstreamHttp(upstream, pypi.FileOrigins, TimeSpan.FromSeconds(pypi.UpstreamTimeoutSeconds),
                CreateClient(decompress: true), CreateClient(decompress: false)));
            services.AddSingleton(new PyPIMirrorSettings(upstream, TimeSpan.FromSeconds(pypi.IndexTtlSeconds),
                TimeSpan.FromSeconds(Math.Clamp(pypi.IndexTtlSeconds, 5, 60))));
            services.AddSingleton<PyPIMirror>();
            services.AddSingleton<PyPIArtifacts>();
            services.AddSingleton(sp => new PyPIClosureSource(sp.GetRequiredService<PyPIMirror>(), sp.GetRequiredService<PyPIArtifacts>(), pypi));
            services.AddSingleton<IMirrorEcosystem, PyPIMirrorEcosystem>();
        }
        return services;
    }

    private static HttpClient CreateClient(bool decompress) => new(new SocketsHttpHandler
    {
        AutomaticDecompression = decompress ? DecompressionMethods.All : DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        AllowAutoRedirect = false, // redirects are followed by UpstreamHttp, which checks each hop's origin
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // per-request timeouts; artifact bodies may take long
        DefaultRequestHeaders = { { "User-Agent", "SafeHaven-Appliance/1.0" } },
    };

    /// <summary>Maps health, mirror reports and every enabled ecosystem's endpoints.</summary>
    public static IEndpointRouteBuilder MapSafeHavenGateway(this IEndpointRouteBuilder app)
    {
        app.MapHealth();
        app.MapMirrorReports();
        if (app.ServiceProvider.GetService<PyPIMirror>() is not null)
        {
            app.MapPyPI();
        }
        return app;
    }
}
