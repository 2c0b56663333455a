using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.NuGet;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

public sealed class NuGetRendererTests
{
    private const string Base = "http://mirror.internal:8080/nuget/v3/";
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Hash = Convert.ToBase64String(SHA512.HashData("package"u8));

    private static NuGetLeaf Leaf(string version, int daysOld, bool listed = true) => new()
    {
        Id = "Foo.Bar",
        Version = version,
        Published = Now.AddDays(-daysOld).ToString("O"),
        Listed = listed,
        PackageHash = Hash,
        PackageHashAlgorithm = "SHA512",
        PackageContent = $"https://nuget.upstream.example/v3-flatcontainer/foo.bar/{version}/foo.bar.{version}.nupkg",
        CatalogUrl = "https://nuget.upstream.example/v3/catalog0/data/foo.bar.json",
        Description = "A package",
        Authors = "Ann, Bob",
        Tags = ["json"],
        DependencyGroups = [new(".NETStandard2.0", [new("Lib.Core", "[1.0.0, )")])],
    };

    private static NuGetPackageView View(int tier, params NuGetLeaf[] leaves) =>
        new(new NuGetPackageState("foo.bar", leaves),
            new PolicySnapshot(1, new TierPolicy(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty), new Dictionary<string, Allowlist>()),
            null, Now);

    private static JsonElement Parse(byte[] body) => JsonDocument.Parse(body).RootElement.Clone();

    [Fact]
    public void Service_index_names_the_appliance_absolute_urls()
    {
        var resources = Parse(NuGetRenderer.ServiceIndex(Base)).GetProperty("resources").EnumerateArray()
            .ToDictionary(r => r.GetProperty("@type").GetString()!, r => r.GetProperty("@id").GetString()!);
        Assert.Equal(Base + "flatcontainer/", resources["PackageBaseAddress/3.0.0"]);
        Assert.Equal(Base + "registration/", resources["RegistrationsBaseUrl/3.6.0"]);
        Assert.Equal(Base + "query", resources["SearchQueryService"]);
    }

    [Fact]
    public void Flat_container_lists_only_visible_versions_normalised()
    {
        var view = View(2, Leaf("1.0.0.0", 30), Leaf("2.0.0-RC.1", 20), Leaf("3.0.0", 1));
        var versions = Parse(NuGetRenderer.FlatContainerVersions(view)).GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray();
        Assert.Equal(["1.0.0", "2.0.0-rc.1"], versions);
    }

    [Fact]
    public void Registration_has_one_inline_page_of_visible_versions_pointing_only_at_the_appliance()
    {
        var view = View(2, Leaf("1.0.0", 30), Leaf("2.0.0", 1));
        var body = NuGetRenderer.RegistrationIndex(Base, view);
        Assert.DoesNotContain("upstream.example", System.Text.Encoding.UTF8.GetString(body), StringComparison.Ordinal);

        var root = Parse(body);
        Assert.Equal(Base + "registration/foo.bar/index.json", root.GetProperty("@id").GetString());
        var page = root.GetProperty("items").EnumerateArray().Single();
        Assert.Equal("1.0.0", page.GetProperty("lower").GetString());
        Assert.Equal("1.0.0", page.GetProperty("upper").GetString());
        var leaf = page.GetProperty("items").EnumerateArray().Single();
        Assert.Equal(Base + "flatcontainer/foo.bar/1.0.0/foo.bar.1.0.0.nupkg", leaf.GetProperty("packageContent").GetString());
        var entry = leaf.GetProperty("catalogEntry");
        Assert.Equal("Foo.Bar", entry.GetProperty("id").GetString());
        Assert.Equal(Hash, entry.GetProperty("packageHash").GetString());
        var dependency = entry.GetProperty("dependencyGroups")[0].GetProperty("dependencies")[0];
        Assert.Equal("[1.0.0, )", dependency.GetProperty("range").GetString());
        Assert.Equal(Base + "registration/lib.core/index.json", dependency.GetProperty("registration").GetString());
    }

    [Fact]
    public void Registration_of_a_package_with_nothing_visible_is_empty()
    {
        var root = Parse(NuGetRenderer.RegistrationIndex(Base, View(2, Leaf("1.0.0", 1))));
        Assert.Equal(0, root.GetProperty("count").GetInt32());
        Assert.Equal(0, root.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public void Search_matches_ids_and_shows_listed_versions_by_prerelease_and_semver_level()
    {
        var view = View(0, Leaf("1.0.0", 30), Leaf("1.1.0", 30, listed: false), Leaf("2.0.0-beta", 10), Leaf("2.0.0-beta.1", 5));
        var stable = NuGetSearchQuery.Parse("foo", "false", null);
        Assert.True(stable.Matches("foo.bar"));
        Assert.False(NuGetSearchQuery.Parse("foo baz", null, null).Matches("foo.bar"));
        Assert.True(NuGetSearchQuery.Parse("packageid:Foo.Bar", null, null).Matches("foo.bar"));
        Assert.False(NuGetSearchQuery.Parse("packageid:foo", null, null).Matches("foo.bar"));
        Assert.True(NuGetSearchQuery.Parse("", null, null).Matches("foo.bar"));

        Assert.Equal(["1.0.0"], stable.Hit(view)!.Versions.Select(v => v.Normalized).ToArray());
        Assert.Equal(["1.0.0", "2.0.0-beta"], NuGetSearchQuery.Parse("foo", "true", null).Hit(view)!.Versions.Select(v => v.Normalized).ToArray());
        Assert.Equal(["1.0.0", "2.0.0-beta", "2.0.0-beta.1"], NuGetSearchQuery.Parse("foo", "true", "2.0.0").Hit(view)!.Versions.Select(v => v.Normalized).ToArray());
        Assert.Null(stable.Hit(View(0, Leaf("2.0.0-beta", 10))));

        var results = Parse(NuGetRenderer.SearchResults(Base, 1, [stable.Hit(view)!]));
        var hit = results.GetProperty("data").EnumerateArray().Single();
        Assert.Equal("Foo.Bar", hit.GetProperty("id").GetString());
        Assert.Equal("1.0.0", hit.GetProperty("version").GetString());
        Assert.Equal(["Ann", "Bob"], hit.GetProperty("authors").EnumerateArray().Select(a => a.GetString()!).ToArray());
        Assert.Equal(Base + "registration/foo.bar/index.json", hit.GetProperty("registration").GetString());

        Assert.Equal(["foo", "foo.bar", "afoo"], NuGetSearchQuery.Parse("foo", null, null).Order(["afoo", "foo.bar", "foo"]).ToArray());
    }
}
