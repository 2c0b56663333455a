using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Core.Snapshots;

public static class SnapshotServiceCollectionExtensions
{
    /// <summary>
    /// Registers the snapshot store (the <c>snapshots</c> table of the configured database: <c>DATA/safehaven.db</c>
    /// by default), <see cref="SnapshotManifests"/> and <see cref="SnapshotPublisher"/>. The blob store is registered
    /// by whoever hosts this (the gateway's <c>AddSafeHavenBlobStore</c>).
    /// </summary>
    public static IServiceCollection AddSafeHavenSnapshots(this IServiceCollection services, SafeHavenOptions options)
    {
        // The snapshots tables of the appliance's metadata database (SafeHaven:Database: SQLite or PostgreSQL).
        services.AddSafeHavenDatabase(options);
        services.TryAddSingleton(sp => SnapshotStore.OpenAsync(sp.GetRequiredService<SafeHavenDatabase>(), CancellationToken.None).GetAwaiter().GetResult());
        services.TryAddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<SnapshotStore>());
        services.TryAddSingleton(provider => new SnapshotManifests(
            provider.GetRequiredService<IBlobStore>(), provider.GetService<Microsoft.Extensions.Caching.Memory.IMemoryCache>()));
        services.TryAddSingleton<SnapshotPublisher>();
        return services;
    }
}
