using System.Globalization;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary>
/// A bare NuGet v3 upstream as the feed reachable from these machines is: only <c>PackageBaseAddress/3.0.0</c> and
/// <c>RegistrationsBaseUrl/3.6.0</c>; registration entries with only <c>id</c>, <c>version</c> and <c>listed</c>; no
/// <c>published</c>, no hash, no dependency groups, no catalog, no search (see <see cref="BareNuGetFeed"/>). It serves
/// real signed packages copied from the local NuGet package folder (what <c>dotnet restore SafeHaven.sln</c> downloads
/// for the appliance itself), served by a real nginx on loopback:
/// <list type="bullet">
/// <item>NuGet.Packaging 8.0.0 and its net10.0 closure (NuGet.Configuration, NuGet.Common, NuGet.Frameworks,
/// NuGet.Versioning, Newtonsoft.Json, System.Security.Cryptography.Pkcs and .ProtectedData): three levels of
/// transitive dependencies, signed with two different repository certificates of the public gallery;</item>
/// <item>Microsoft.OpenApi 2.12.2 and 2.13.0: one id with two versions, for a pinned older version (the test project
/// has the solution's restore download 2.12.2 with a <c>PackageDownload</c>, since nothing references it);</item>
/// <item>System.CommandLine 2.0.0: a package no allowlist below approves;</item>
/// <item>Dapper 2.1.86, re-zipped with one more file after signing (tampered): its signature no longer matches.</item>
/// </list>
/// Only the feed's own structure is left out on purpose; nothing is added that the real bare feed lacks.
/// </summary>
public sealed class BareNuGetUpstreamFixture : IAsyncLifetime
{
    /// <summary>
    /// SHA-256 fingerprints of the public gallery's repository signing certificates found on the packages above
    /// (<c>dotnet nuget verify --all -v detailed</c>): the current one, and the one Newtonsoft.Json 13.0.3 and
    /// System.Security.Cryptography.ProtectedData 8.0.0 were countersigned with.
    /// </summary>
    public static readonly string[] GalleryRepositorySigners =
    [
        "1F4B311D9ACC115C8DC8018B5A49E00FCE6DA8E2855F9F014CA6F34570BC482D",
        "5A2901D6ADA3D18260B9C6DFE2133C95D74B9EEF6AE0E5DC334C8454D1477DF4",
    ];

    /// <summary>NuGet.Packaging 8.0.0 and everything it needs on net10.0, as restore resolves it.</summary>
    public static readonly (string Id, string Version)[] PackagingClosure =
    [
        ("NuGet.Packaging", "8.0.0"),
        ("NuGet.Configuration", "8.0.0"),
        ("NuGet.Common", "8.0.0"),
        ("NuGet.Frameworks", "8.0.0"),
        ("NuGet.Versioning", "8.0.0"),
        ("Newtonsoft.Json", "13.0.3"),
        ("System.Security.Cryptography.Pkcs", "8.0.1"),
        ("System.Security.Cryptography.ProtectedData", "8.0.0"),
    ];

    private NginxServer? _nginx;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-nuget-bare-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public string UpstreamUrl { get; private set; } = "";

    /// <summary>The original (signed, untampered) files by lower-case id and version.</summary>
    public Dictionary<(string, string), string> Originals { get; } = [];

    public async Task InitializeAsync()
    {
        var packages = PackagingClosure.Select(p => BareNuGetFeed.FromLocalFolder(p.Id, p.Version))
            .Append(BareNuGetFeed.FromLocalFolder("Microsoft.OpenApi", "2.12.2"))
            .Append(BareNuGetFeed.FromLocalFolder("Microsoft.OpenApi", "2.13.0"))
            .Append(BareNuGetFeed.FromLocalFolder("System.CommandLine", "2.0.0"))
            .Append(BareNuGetFeed.FromLocalFolder("Dapper", "2.1.86"))
            .ToList();
        foreach (var package in packages)
        {
            Originals[(package.Id.ToLowerInvariant(), package.Version)] = package.File;
        }
        _nginx = await NginxServer.StartAsync(Root);
        UpstreamUrl = await BareNuGetFeed.WriteAsync(Root, Nginx.BaseUrl, packages);
        BareNuGetFeed.TamperSigned(Path.Combine(Root, "v3", "flatcontainer", "dapper", "2.1.86", "dapper.2.1.86.nupkg"));
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Appliance settings for a tier against this upstream, trusting the gallery's repository signers unless told not to.</summary>
    public Dictionary<string, string> Settings(int tier, bool trustGallery = true)
    {
        var settings = new Dictionary<string, string>
        {
            ["Tier"] = tier.ToString(CultureInfo.InvariantCulture),
            ["Mirrors:nuget:Upstream"] = UpstreamUrl,
            ["Mirrors:pypi:Enabled"] = "false",
            ["Mirrors:nuget:TargetFrameworks:0"] = "net10.0",
            ["Policy:MinimumAgeDays"] = "7",
            ["Policy:MaximumLagDays"] = "42",
        };
        if (trustGallery)
        {
            for (var i = 0; i < GalleryRepositorySigners.Length; i++)
            {
                settings[$"Mirrors:nuget:TrustedSigners:{i}"] = GalleryRepositorySigners[i];
            }
        }
        return settings;
    }
}

[CollectionDefinition(Name)]
public sealed class BareNuGetCollection : ICollectionFixture<BareNuGetUpstreamFixture>
{
    public const string Name = "NuGet bare feed end to end";
}
