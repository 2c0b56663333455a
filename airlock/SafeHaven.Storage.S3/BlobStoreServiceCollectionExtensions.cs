using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Storage.S3;

public static class BlobStoreServiceCollectionExtensions
{
    /// <summary>Every blob store provider this build knows, by the value of <c>SafeHaven:BlobStore:Provider</c>.</summary>
    public static IReadOnlyList<string> Providers { get; } = ["filesystem", "s3"];

    /// <summary>Problems with the <c>SafeHaven:BlobStore</c> section, each named by its key; empty when usable.</summary>
    public static IReadOnlyList<string> ValidateBlobStore(SafeHavenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.BlobStore.Provider.ToLowerInvariant() switch
        {
            "filesystem" => [],
            "s3" => S3BlobStoreFactory.Validate(options.BlobStore.S3),
            var other => [$"SafeHaven:BlobStore:Provider '{other}' is not known (supported: {string.Join(", ", Providers)})."],
        };
    }

    /// <summary>Creates the blob store <c>SafeHaven:BlobStore:Provider</c> names.</summary>
    public static IBlobStore CreateBlobStore(SafeHavenOptions options)
    {
        var problems = ValidateBlobStore(options);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }
        return options.BlobStore.Provider.ToLowerInvariant() switch
        {
            "s3" => S3BlobStore.Create(options.BlobStore.S3),
            _ => new FileSystemBlobStore(string.IsNullOrWhiteSpace(options.BlobStore.Path) ? options.ResolveDataPath("blobs") : options.BlobStore.Path),
        };
    }

    /// <summary>
    /// A blob store of its own for one kind of content that must not share keys with the artifacts (e.g.
    /// <c>airlock-chunks</c>, upload chunks deleted once their file is joined): with <c>s3</c>, the same bucket under the
    /// key prefix <c>&lt;area&gt;/</c>, so every replica sees it; with <c>filesystem</c>, the folder <c>DATA/&lt;area&gt;</c>.
    /// </summary>
    public static IBlobStore CreateAreaBlobStore(SafeHavenOptions options, string area)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(area);
        var problems = ValidateBlobStore(options);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }
        return options.BlobStore.Provider.Equals("s3", StringComparison.OrdinalIgnoreCase)
            ? S3BlobStore.Create(options.BlobStore.S3, prefix: area + "/")
            : new FileSystemBlobStore(options.ResolveDataPath(area));
    }

    /// <summary>Registers <see cref="IBlobStore"/> as the store <c>SafeHaven:BlobStore:Provider</c> names.</summary>
    public static IServiceCollection AddSafeHavenBlobStore(this IServiceCollection services, SafeHavenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(_ => CreateBlobStore(options));
        return services;
    }
}
