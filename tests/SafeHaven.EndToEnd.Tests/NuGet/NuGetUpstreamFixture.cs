using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary>
/// One static NuGet v3 upstream for the NuGet end-to-end tests: tiny real <c>.nupkg</c> files with dependency
/// groups between them and chosen <c>published</c> dates, a flat container, registrations and catalog leaves,
/// served by a real nginx on loopback.
/// </summary>
public sealed class NuGetUpstreamFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private NginxServer? _nginx;

    public string Root { get; } = Directory.CreateTempSubdirectory("safehaven-nuget-upstream-").FullName;

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public string UpstreamUrl { get; private set; } = "";

    /// <summary>An OSV advisory naming ShFixed 1.1 as the fix (the package says 1.1.0: NuGet's rules make them equal).</summary>
    public const string Advisory = """
        {
          "schema_version": "1.6.0",
          "id": "GHSA-0000-sh00-nu01",
          "modified": "2026-11-01T00:00:00Z",
          "published": "2026-11-01T00:00:00Z",
          "summary": "Remote code execution in ShFixed",
          "affected": [
            {
              "package": { "ecosystem": "NuGet", "name": "ShFixed" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "fixed": "1.1" } ] } ]
            }
          ]
        }
        """;

    /// <summary>The packages of the upstream, with their dates relative to now.</summary>
    public static TinyNuGetPackage[] Packages()
    {
        var older = Now.AddDays(-90);
        var old = Now.AddDays(-60);
        var recent = Now.AddDays(-30);
        var fresh = Now.AddDays(-1);
        return
        [
            new("ShAlpha", "1.0.0", older),
            new("ShAlpha", "2.0.0", recent),
            new("ShAlpha", "3.0.0", fresh),
            new("ShFixed", "1.0.0", old),
            new("ShFixed", "1.1.0", fresh),
            // An older ShApp needed ShLegacy, which the newest no longer does: a project pinning 0.9.0 needs it.
            new("ShApp", "0.9.0", older, [new TinyNuGetGroup("netstandard2.0", [("ShLegacy", "[1.0.0, )")])]),
            new("ShLegacy", "1.0.0", older),
            new("ShApp", "1.0.0", old, [
                new TinyNuGetGroup("net48", [("ShWin", "[1.0.0, )")]),
                new TinyNuGetGroup("netstandard2.0", [("ShLib", "[1.0.0, )")]),
            ]),
            new("ShLib", "0.9.0", older),
            new("ShLib", "1.0.0", old),
            new("ShLib", "1.1.0", fresh),
            new("ShWin", "1.0.0", old),
            new("ShOther", "1.0.0", old),
            new("ShBroken", "1.0.0", old, [new TinyNuGetGroup("netstandard2.0", [("ShMissing", "[1.0.0, )")])]),
            new("ShTampered", "1.0.0", old),
            new("ShPaged", "1.0.0", older, Paged: true, HashInCatalogOnly: true),
            new("ShPaged", "2.0.0", recent, Paged: true, HashInCatalogOnly: true),
        ];
    }

    public async Task InitializeAsync()
    {
        _nginx = await NginxServer.StartAsync(Root);
        UpstreamUrl = await BuildAsync(Root, Nginx.BaseUrl);
    }

    /// <summary>Writes the upstream into <paramref name="root"/> for a server at <paramref name="baseUrl"/>; returns its service index URL.</summary>
    public static async Task<string> BuildAsync(string root, Uri baseUrl)
    {
        var builder = new NuGetUpstreamBuilder(root, baseUrl).Add(Packages());
        await builder.WriteAsync();
        builder.Tamper("ShTampered", "1.0.0");
        return builder.ServiceIndexUrl;
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Appliance settings for a tier against this upstream.</summary>
    public Dictionary<string, string> Settings(int tier) => new()
    {
        ["Tier"] = tier.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mirrors:nuget:Upstream"] = UpstreamUrl,
        ["Mirrors:pypi:Enabled"] = "false", // the sample configuration beside the executable mirrors PyPI; not here
        ["Policy:MinimumAgeDays"] = "7",
        ["Policy:MaximumLagDays"] = "42",
    };
}

[CollectionDefinition(Name)]
public sealed class NuGetCollection : ICollectionFixture<NuGetUpstreamFixture>
{
    public const string Name = "NuGet end to end";
}
