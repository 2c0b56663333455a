using System.Text;
using SafeHaven.Gateway.Ecosystems.NuGet;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

public sealed class NuGetUpstreamParserTests
{
    private static readonly Uri IndexUrl = new("https://nuget.upstream.example/v3/index.json");

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Service_index_prefers_registrations_3_6_0_and_resolves_relative_urls()
    {
        var index = NuGetUpstreamParser.ParseServiceIndex(Bytes("""
            {"version":"3.0.0","resources":[
              {"@id":"https://nuget.upstream.example/v3/registration5-gz/","@type":"RegistrationsBaseUrl/3.4.0"},
              {"@id":"https://nuget.upstream.example/v3/registration5-semver1/","@type":"RegistrationsBaseUrl"},
              {"@id":"registration5-gz-semver2","@type":["RegistrationsBaseUrl/3.6.0"]},
              {"@id":"https://files.upstream.example/v3-flatcontainer/","@type":"PackageBaseAddress/3.0.0"},
              {"@id":"https://nuget.upstream.example/query","@type":"SearchQueryService"}
            ]}
            """), IndexUrl);

        Assert.Equal("https://nuget.upstream.example/v3/registration5-gz-semver2/", index.RegistrationsBaseUrl);
        Assert.Equal("https://files.upstream.example/v3-flatcontainer/", index.PackageBaseAddress);
    }

    [Theory]
    [InlineData("""{"version":"3.0.0","resources":[{"@id":"https://x.example/flat/","@type":"PackageBaseAddress/3.0.0"}]}""")]
    [InlineData("""{"version":"3.0.0"}""")]
    [InlineData("""<html>not json</html>""")]
    public void Service_index_without_registrations_or_garbage_is_a_format_error(string text) =>
        Assert.Throws<UpstreamFormatException>(() => NuGetUpstreamParser.ParseServiceIndex(Bytes(text), IndexUrl));

    private const string Registration = """
        {"@id":"https://nuget.upstream.example/v3/registration/foo.bar/index.json","count":2,"items":[
          {"@id":"https://nuget.upstream.example/v3/registration/foo.bar/page/1.0.0/1.1.0.json","lower":"1.0.0","upper":"1.1.0","items":[
            {"@id":"https://nuget.upstream.example/v3/registration/foo.bar/1.0.0.json",
             "catalogEntry":{"@id":"https://nuget.upstream.example/v3/catalog0/data/foo.bar.1.0.0.json","id":"Foo.Bar","version":"1.0.0",
               "published":"2024-01-02T03:04:05.123+00:00","listed":true,"authors":["Ann","Bob"],"tags":["json","fast"],
               "packageHash":"abc=","packageHashAlgorithm":"SHA512",
               "dependencyGroups":[
                 {"targetFramework":".NETFramework4.8","dependencies":[{"id":"Win.Only","range":"[2.0.0, )"}]},
                 {"targetFramework":".NETStandard2.0","dependencies":[{"id":"Lib","range":"[1.0.0, 2.0.0)"}]},
                 {"targetFramework":"net8.0"}
               ]},
             "packageContent":"/v3-flatcontainer/foo.bar/1.0.0/foo.bar.1.0.0.nupkg"},
            {"@id":"x","catalogEntry":{"id":"Other.Package","version":"9.9.9"},"packageContent":"https://evil.example/other.nupkg"},
            {"@id":"y","catalogEntry":{"id":"foo.bar","version":"1.1.0","published":"1900-01-01T00:00:00+00:00","listed":false,"authors":"Ann"}}
          ]},
          {"@id":"https://nuget.upstream.example/v3/registration/foo.bar/page/2.0.0/3.0.0.json","lower":"2.0.0","upper":"3.0.0"}
        ]}
        """;

    [Fact]
    public void Registration_index_reads_inline_leaves_and_linked_pages()
    {
        var index = NuGetUpstreamParser.ParseRegistrationIndex(Bytes(Registration),
            new Uri("https://nuget.upstream.example/v3/registration/foo.bar/index.json"), "foo.bar");

        Assert.Equal(2, index.Pages.Count);
        var leaves = index.Pages[0].Items!;
        Assert.Equal(["1.0.0", "1.1.0"], leaves.Select(l => l.Version).ToArray()); // the other package's leaf is dropped
        var first = leaves[0];
        Assert.Equal("Foo.Bar", first.Id);
        Assert.Equal("https://nuget.upstream.example/v3-flatcontainer/foo.bar/1.0.0/foo.bar.1.0.0.nupkg", first.PackageContent);
        Assert.Equal("https://nuget.upstream.example/v3/catalog0/data/foo.bar.1.0.0.json", first.CatalogUrl);
        Assert.Equal("abc=", first.PackageHash);
        Assert.Equal("Ann, Bob", first.Authors);
        Assert.Equal(["json", "fast"], first.Tags);
        Assert.Equal(3, first.DependencyGroups!.Count);
        Assert.Equal("Win.Only", first.DependencyGroups![0].Dependencies.Single().Id);
        Assert.Empty(first.DependencyGroups![2].Dependencies);
        Assert.False(leaves[1].Listed);
        Assert.Null(leaves[1].PackageContent);

        var linked = index.Pages[1];
        Assert.Null(linked.Items);
        Assert.Equal("https://nuget.upstream.example/v3/registration/foo.bar/page/2.0.0/3.0.0.json", linked.Url);
    }

    [Fact]
    public void Registration_page_reads_its_leaves()
    {
        var page = NuGetUpstreamParser.ParseRegistrationPage(Bytes("""
            {"items":[{"catalogEntry":{"id":"Foo.Bar","version":"2.0.0-beta.1+sha.abc","published":"2024-02-01T00:00:00Z"}}]}
            """), new Uri("https://nuget.upstream.example/v3/registration/foo.bar/page/2.0.0/3.0.0.json"), "foo.bar");
        Assert.Equal("2.0.0-beta.1+sha.abc", page.Items.Single().Version);
    }

    [Theory]
    [InlineData("""{"items": [ garbage""")]
    [InlineData("""{"count": 1}""")]
    [InlineData("""{"items":[{"lower":"1.0.0"}]}""")]
    [InlineData("""{"items":[{"@id":"p","items":[{"catalogEntry":"https://x.example/leaf.json"}]}]}""")]
    [InlineData("""{"items":[{"@id":"p","items":[{"catalogEntry":{"id":"foo.bar","version":"1.0.0","dependencyGroups":{}}}]}]}""")]
    public void Garbage_registrations_are_format_errors(string text) =>
        Assert.Throws<UpstreamFormatException>(() => NuGetUpstreamParser.ParseRegistrationIndex(Bytes(text),
            new Uri("https://nuget.upstream.example/v3/registration/foo.bar/index.json"), "foo.bar"));

    [Fact]
    public void Catalog_leaf_gives_the_package_hash()
    {
        var leaf = NuGetUpstreamParser.ParseCatalogLeaf(Bytes("""
            {"@id":"c","id":"Foo.Bar","version":"1.0.0","packageHash":"q1w2e3==","packageHashAlgorithm":"SHA512","packageSize":1234}
            """));
        Assert.Equal(new NuGetCatalogLeaf("Foo.Bar", "1.0.0", "q1w2e3==", "SHA512"), leaf);
        Assert.Throws<UpstreamFormatException>(() => NuGetUpstreamParser.ParseCatalogLeaf(Bytes("""{"packageHash":"x"}""")));
    }
}
