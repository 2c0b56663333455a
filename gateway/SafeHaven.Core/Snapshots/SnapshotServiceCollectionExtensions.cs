using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;

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
        services.TryAddSingleton<ISnapshotStore>(_ => options.Database.Provider.ToLowerInvariant() switch
        {
            "sqlite" => string.IsNullOrWhiteSpace(options.Database.ConnectionString)
                ? SqliteSnapshotStore.ForFile(options.ResolveDataPath("safehaven.db"))
                : new SqliteSnapshotStore(options.Database.ConnectionString),
            var other => throw new OptionsValidationException(nameof(DatabaseOptions.Provider), typeof(DatabaseOptions),
                [$"SafeHaven:Database:Provider '{other}' is not available in this build (supported: sqlite)."]),
        });
        services.TryAddSingleton(provider => new SnapshotManifests(
            provider.GetRequiredService<IBlobStore>(), provider.GetService<Microsoft.Extensions.Caching.Memory.IMemoryCache>()));
        services.TryAddSingleton<SnapshotPublisher>();
        return services;
    }
}
