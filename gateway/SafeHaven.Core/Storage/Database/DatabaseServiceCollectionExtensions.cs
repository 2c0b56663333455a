using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Core.Storage.Database;

public static class DatabaseServiceCollectionExtensions
{
    /// <summary>
    /// Registers the one <see cref="SafeHavenDatabase"/> the <c>SafeHaven:Database</c> section names, shared by every area
    /// that registers it (the first registration wins).
    /// </summary>
    public static IServiceCollection AddSafeHavenDatabase(this IServiceCollection services, SafeHavenOptions options)
    {
        services.TryAddSingleton(_ => SafeHavenDatabase.Create(options));
        return services;
    }

    /// <summary>
    /// Registers a store that needs its schema migrated before use. The migrations run when the store is first resolved
    /// (at start, for the appliance's stores); a database newer than this build fails that resolution with its message.
    /// </summary>
    public static IServiceCollection AddDatabaseStore<TService>(this IServiceCollection services,
        Func<SafeHavenDatabase, CancellationToken, Task<TService>> open) where TService : class
    {
        services.AddSingleton(sp => open(sp.GetRequiredService<SafeHavenDatabase>(), CancellationToken.None).GetAwaiter().GetResult());
        return services;
    }
}
