using System.Text.Json.Serialization;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>The upstream resources the mirror reads, from the upstream's service index (absolute URLs, ending in '/').</summary>
public sealed record NuGetServiceIndex(string? PackageBaseAddress, string? RegistrationsBaseUrl);

/// <summary>One dependency of a dependency group as the registration lists it; <see cref="Range"/> is a NuGet version range.</summary>
public sealed record NuGetDependency(string Id, string? Range);

/// <summary>A dependency group: the dependencies for one target framework (null: every framework).</summary>
public sealed record NuGetDependencyGroup(string? TargetFramework, IReadOnlyList<NuGetDependency> Dependencies);

/// <summary>
/// One version of a package as an upstream registration leaf describes it (its catalog entry). URLs are absolute
/// upstream URLs; clients never see them. <see cref="Published"/> is upstream's string, kept verbatim.
/// </summary>
public sealed record NuGetLeaf
{
    public required string Id { get; init; }
    public required string Version { get; init; }
    public string? Published { get; init; }
    public bool Listed { get; init; } = true;
    public string? PackageContent { get; init; }
    /// <summary>The upstream catalog leaf, which carries <c>packageHash</c> when the registration does not.</summary>
    public string? CatalogUrl { get; init; }
    public string? PackageHash { get; init; }
    public string? PackageHashAlgorithm { get; init; }
    /// <summary>
    /// The registration's dependency groups; null when it gives none, which means <em>unknown</em> (bare feeds leave
    /// them out), never "no dependencies": the verified package's <c>.nuspec</c> then says.
    /// </summary>
    public IReadOnlyList<NuGetDependencyGroup>? DependencyGroups { get; init; }
    public string? Authors { get; init; }
    public string? Description { get; init; }
    public string? Summary { get; init; }
    public string? Title { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? ProjectUrl { get; init; }
    public string? LicenseExpression { get; init; }
    public string? LicenseUrl { get; init; }
    public bool RequireLicenseAcceptance { get; init; }
    public string? MinClientVersion { get; init; }
}

/// <summary>A registration page: inline (<see cref="Items"/> set) or linked (fetched from <see cref="Url"/>).</summary>
public sealed record NuGetRegistrationPageRef(string? Url, string? Lower, string? Upper, IReadOnlyList<NuGetLeaf>? Items);

/// <summary>An upstream registration index (<c>{id}/index.json</c>).</summary>
public sealed record NuGetRegistrationIndex(IReadOnlyList<NuGetRegistrationPageRef> Pages);

/// <summary>A linked registration page, fetched on its own.</summary>
public sealed record NuGetRegistrationPage(IReadOnlyList<NuGetLeaf> Items);

/// <summary>What the mirror needs of an upstream catalog leaf: the package hash.</summary>
public sealed record NuGetCatalogLeaf(string Id, string Version, string? PackageHash, string? PackageHashAlgorithm);

[JsonSerializable(typeof(NuGetServiceIndex))]
[JsonSerializable(typeof(NuGetRegistrationIndex))]
[JsonSerializable(typeof(NuGetRegistrationPage))]
[JsonSerializable(typeof(NuGetCatalogLeaf))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class NuGetStorageJsonContext : JsonSerializerContext;
