using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Management;
using SafeHaven.Gateway.Snapshots;
using SafeHaven.Storage.S3;

namespace SafeHaven.Gateway;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>Every ecosystem the gateway can mirror; each is enabled by its <c>SafeHaven:Mirrors:&lt;name&gt;</c> section.</summary>
    public static readonly IReadOnlyList<IEcosystemModule> Modules = [new PyPIModule(), new Ecosystems.Cran.CranModule(), new Ecosystems.NuGet.NuGetModule(), new Ecosystems.Apt.AptModule(), new Ecosystems.Conda.CondaModule()];

    /// <summary>Registers storage, the tier policy and every enabled mirror from the <c>SafeHaven</c> section.</summary>
    public static IServiceCollection AddSafeHavenGateway(this IServiceCollection services, SafeHavenOptions options)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddMemoryCache(cache => cache.SizeLimit = 512L * 1024 * 1024);
        services.AddSingleton<TierPolicyProvider>();
        services.AddSingleton<AllowlistClosureRegistry>();
        services.AddSingleton<MirrorHealth>();
        services.AddSingleton<ReadinessState>();
        services.AddSingleton<Policy.ModelApprovals>();
        services.AddExceptionHandler<Http.StorageFullExceptionHandler>();

        // The metadata database SafeHaven:Database:Provider names: sqlite (DATA/safehaven.db, the default) or postgres.
        services.AddSafeHavenDatabase(options);
        services.AddDatabaseStore<IIndexCacheStore>(async (database, ct) => await IndexCacheStore.OpenAsync(database, ct).ConfigureAwait(false));
        services.AddDatabaseStore<IFirstSeenStore>(async (database, ct) => await FirstSeenStore.OpenAsync(database, ct).ConfigureAwait(false));
        // The blob store SafeHaven:BlobStore:Provider names: filesystem (embedded default) or s3 (any S3-compatible store).
        services.AddSafeHavenBlobStore(options);
        // Snapshots: the model, the in-process capture and the serving middleware's dependencies (UseSafeHavenSnapshots).
        services.AddSafeHavenSnapshotServing(options);
        if (Core.Storage.Database.SafeHavenDatabase.ParseProvider(options.Database.Provider) == Core.Storage.Database.DatabaseProvider.Postgres)
        {
            // Several replicas share the blob store: one of them fetches a file first asked of several at once.
            services.AddSingleton<Artifacts.IArtifactFetchLock>(sp => new Artifacts.DatabaseArtifactFetchLock(
                sp.GetRequiredService<Core.Storage.Database.SafeHavenDatabase>(), TimeSpan.FromMinutes(5)));
        }

        // A mirror with no upstream (a snapshot-only mirror of an import-only appliance) builds none of its
        // ecosystem's upstream machinery: the snapshot middleware alone serves it.
        foreach (var module in Modules)
        {
            if (options.Mirrors.TryGetValue(module.Name, out var mirror) && mirror.Enabled && mirror.HasUpstream)
            {
                services.AddSingleton(module);
                module.AddServices(services, mirror, options);
            }
        }
        return services;
    }

    /// <summary>Maps health, mirror reports and every enabled ecosystem's endpoints.</summary>
    public static IEndpointRouteBuilder MapSafeHavenGateway(this IEndpointRouteBuilder app)
    {
        app.MapHealth();
        app.MapMirrorReports();
        foreach (var module in app.ServiceProvider.GetServices<IEcosystemModule>())
        {
            module.MapEndpoints(app);
        }
        return app;
    }
}
