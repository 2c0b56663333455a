using System.Globalization;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway.Health;

namespace SafeHaven.Airlock.Api;

/// <summary>One place the appliance writes to.</summary>
public sealed record StorageLocation(string Name, string Path);

/// <summary>
/// The <c>storage</c> section of <c>/healthz</c>: free space of every store (the data directory with its SQLite
/// files and airlock chunks, and the blob store when it is on the file system) against
/// <c>SafeHaven:Airlock:Storage:MinFreeBytes</c>; a store below it, or one whose space cannot be read, is a problem
/// (the appliance is <c>degraded</c>).
/// </summary>
public sealed class AirlockStorageHealth(IReadOnlyList<StorageLocation> stores, long minFreeBytes) : IHealthContributor
{
    public IReadOnlyList<StorageLocation> Stores { get; } = stores;

    public static IReadOnlyList<StorageLocation> StoresOf(SafeHavenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stores = new List<StorageLocation> { new("data", options.ResolveDataPath()) };
        if (!string.Equals(options.BlobStore.Provider, "s3", StringComparison.OrdinalIgnoreCase))
        {
            stores.Add(new("blobs", string.IsNullOrWhiteSpace(options.BlobStore.Path) ? options.ResolveDataPath("blobs") : Path.GetFullPath(options.BlobStore.Path)));
        }
        return stores;
    }

    public ValueTask<HealthSection> ReportAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var details = new List<object>();
        foreach (var store in Stores)
        {
            var space = DiskFull.Space(store.Path);
            details.Add(new { store = store.Name, path = store.Path, freeBytes = space?.Free, totalBytes = space?.Total, minFreeBytes });
            if (space is not { } known)
            {
                problems.Add($"storage: the free space of the {store.Name} store at '{store.Path}' cannot be read");
            }
            else if (known.Free < minFreeBytes)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"storage: the {store.Name} store at '{store.Path}' has {known.Free} bytes free, below the {minFreeBytes}-byte threshold (SafeHaven:Airlock:Storage:MinFreeBytes)"));
            }
        }
        return ValueTask.FromResult(new HealthSection("storage", details, problems));
    }
}
