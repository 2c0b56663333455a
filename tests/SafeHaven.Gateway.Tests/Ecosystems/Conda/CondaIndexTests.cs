using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

/// <summary>The published <c>repodata.json</c> (Tier 0, pass-through) against the shapes real channels have.</summary>
public sealed class CondaIndexTests
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private static readonly long YearAgoMs = Now - 365L * 24 * 3600 * 1000;

    private static async Task<JsonObject> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>
    /// An old anaconda-style index (as the defaults channel served before 2023): no <c>repodata_version</c>, no
    /// <c>packages.conda</c>, <c>timestamp</c> in seconds on one record, none at all on another, and one record without
    /// <c>sha256</c> (md5 only, as very old records are). Left out on purpose: <c>removed</c>, <c>info.platform</c>/<c>arch</c>.
    /// </summary>
    [Fact]
    public async Task An_old_anaconda_style_index_is_listed_verified_only_with_indexed_timestamps()
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        var seconds = upstream.AddFile("linux-64", "zlib-1.2.11-h7b6447c_3.tar.bz2");
        var undated = upstream.AddFile("linux-64", "zlib-1.2.12-h7b6447c_0.tar.bz2");
        var md5Only = upstream.AddFile("linux-64", "zlib-1.2.8-3.tar.bz2");
        upstream.WriteRepodata("linux-64", new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = "linux-64" },
            ["packages"] = new JsonObject
            {
                [seconds.Filename] = CondaChannelFixture.Record(seconds, "zlib", "1.2.11", "h7b6447c_3", 3, timestamp: 1_556_000_000),
                [undated.Filename] = CondaChannelFixture.Record(undated, "zlib", "1.2.12", "h7b6447c_0"),
                [md5Only.Filename] = CondaChannelFixture.Record(md5Only, "zlib", "1.2.8", "3", 3, sha256: false),
            },
        });
        upstream.WriteRepodata("noarch", new JsonObject { ["packages"] = new JsonObject() });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings());
        await host.RefreshAsync();

        var repodata = await GetJsonAsync(host.Client, "/conda/forge/linux-64/repodata.json");

        Assert.Equal("linux-64", repodata["info"]!["subdir"]!.GetValue<string>());
        Assert.Equal(1, repodata["repodata_version"]!.GetValue<int>());
        Assert.Null(repodata["info"]!["base_url"]);
        var packages = repodata["packages"]!.AsObject();
        Assert.Equal([seconds.Filename, undated.Filename], packages.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Empty(repodata["packages.conda"]!.AsObject());
        Assert.Empty(repodata["removed"]!.AsArray());
        // Upstream fields are kept as they were, the seconds timestamp included.
        Assert.Equal(1_556_000_000, packages[seconds.Filename]!["timestamp"]!.GetValue<long>());
        Assert.Equal(seconds.Sha256, packages[seconds.Filename]!["sha256"]!.GetValue<string>());
        Assert.Equal("MIT", packages[seconds.Filename]!["license"]!.GetValue<string>());
        foreach (var (_, record) in packages)
        {
            var indexed = record!["indexed_timestamp"]!.GetValue<long>();
            Assert.InRange(indexed, Now - 60_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        }
        Assert.Null(packages[undated.Filename]!["timestamp"]);
    }

    /// <summary>
    /// A conda-forge style index: <c>packages.conda</c> beside <c>packages</c>, millisecond timestamps, no
    /// <c>base_url</c>, a <c>removed</c> list. Left out: <c>signatures</c>, <c>run_exports</c>.
    /// </summary>
    [Fact]
    public async Task A_conda_forge_style_index_round_trips_through_zstd_with_ETags_HEAD_and_304()
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        var tarball = upstream.AddFile("noarch", "tzdata-2024a-h0c530f3_0.tar.bz2");
        var conda = upstream.AddFile("noarch", "tzdata-2024b-hc8b5060_0.conda");
        upstream.WriteRepodata("noarch", new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = "noarch" },
            ["packages"] = new JsonObject { [tarball.Filename] = CondaChannelFixture.Record(tarball, "tzdata", "2024a", "h0c530f3_0", timestamp: YearAgoMs) },
            ["packages.conda"] = new JsonObject { [conda.Filename] = CondaChannelFixture.Record(conda, "tzdata", "2024b", "hc8b5060_0", timestamp: YearAgoMs + 1000) },
            ["removed"] = new JsonArray("tzdata-2023c-h71feb2d_0.conda"),
            ["repodata_version"] = 1,
        });
        upstream.WriteRepodata("linux-64", new JsonObject { ["info"] = new JsonObject { ["subdir"] = "linux-64" }, ["packages"] = new JsonObject(), ["packages.conda"] = new JsonObject() });
        await using var host = await CondaGatewayHost.StartAsync(1, upstream.Settings("noarch", "linux-64"));
        await host.RefreshAsync();

        using var plain = await host.Client.GetAsync("/conda/forge/noarch/repodata.json");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var plainBytes = await plain.Content.ReadAsByteArrayAsync();
        var repodata = JsonNode.Parse(plainBytes)!;
        Assert.Equal(conda.Sha256, repodata["packages.conda"]![conda.Filename]!["sha256"]!.GetValue<string>());
        Assert.Equal(tarball.Size, repodata["packages"]![tarball.Filename]!["size"]!.GetValue<long>());
        Assert.Equal("tzdata-2023c-h71feb2d_0.conda", repodata["removed"]![0]!.GetValue<string>());

        using var zst = await host.Client.GetAsync("/conda/forge/noarch/repodata.json.zst");
        Assert.Equal(HttpStatusCode.OK, zst.StatusCode);
        await using (var decompressed = new ZstdSharp.DecompressionStream(await zst.Content.ReadAsStreamAsync()))
        using (var copy = new MemoryStream())
        {
            await decompressed.CopyToAsync(copy);
            Assert.Equal(plainBytes, copy.ToArray());
        }

        var etag = plain.Headers.ETag!;
        Assert.False(etag.IsWeak);
        Assert.NotEqual(etag, zst.Headers.ETag);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/conda/forge/noarch/repodata.json");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await host.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        using var conditionalZst = new HttpRequestMessage(HttpMethod.Get, "/conda/forge/noarch/repodata.json.zst");
        conditionalZst.Headers.IfNoneMatch.Add(zst.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await host.Client.SendAsync(conditionalZst)).StatusCode);

        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/conda/forge/noarch/repodata.json"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(plainBytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // current_repodata.json: the same filtered content (conda reads it first and falls back to repodata.json).
        using var current = await host.Client.GetAsync("/conda/forge/noarch/current_repodata.json");
        Assert.Equal(plainBytes, await current.Content.ReadAsByteArrayAsync());

        // A second refresh of an unchanged upstream is one conditional request (304): nothing re-read or re-published.
        var published = host.Mirror.Published("forge", "noarch")!;
        await host.RefreshAsync();
        Assert.Equal(published.Directory, host.Mirror.Published("forge", "noarch")!.Directory);
        Assert.Equal(2, upstream.Upstream.RequestsFor("conda-forge/noarch/repodata.json"));
    }

    /// <summary>
    /// A repodata_version 2 index (CEP 15) whose absolute <c>base_url</c> names a separate file folder on the upstream
    /// host: the published index has no <c>base_url</c> and version 1, so clients fetch every file from the appliance,
    /// which fetches it from where upstream said.
    /// </summary>
    [Fact]
    public async Task A_version_2_index_with_an_absolute_base_url_is_rewritten_to_point_at_the_appliance()
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        var file = upstream.AddFile("linux-64", "libzlib-1.3.1-hb9d3cd8_2.conda", folder: "files/linux-64");
        upstream.WriteRepodata("linux-64", new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = "linux-64", ["base_url"] = new Uri(upstream.Upstream.BaseUrl, "files/linux-64/").AbsoluteUri },
            ["packages"] = new JsonObject(),
            ["packages.conda"] = new JsonObject { [file.Filename] = CondaChannelFixture.Record(file, "libzlib", "1.3.1", "hb9d3cd8_2", 2, timestamp: YearAgoMs) },
            ["repodata_version"] = 2,
        });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("linux-64"));
        await host.RefreshAsync();

        var repodata = await GetJsonAsync(host.Client, "/conda/forge/linux-64/repodata.json");
        Assert.Equal(1, repodata["repodata_version"]!.GetValue<int>());
        Assert.DoesNotContain("base_url", repodata["info"]!.AsObject().Select(p => p.Key));
        Assert.DoesNotContain(upstream.Upstream.BaseUrl.Authority, repodata.ToJsonString(), StringComparison.Ordinal);

        using var download = await host.Client.GetAsync("/conda/forge/linux-64/" + file.Filename);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(file.Content, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, upstream.Upstream.RequestsFor("files/linux-64/" + file.Filename));
    }

    /// <summary>A channel with no <c>noarch</c> folder at all (some private channels): every client needs one, so an empty valid index is served.</summary>
    [Fact]
    public async Task A_subdir_upstream_lacks_is_served_as_an_empty_valid_index()
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        var file = upstream.AddFile("linux-64", "a-1.0-0.tar.bz2");
        upstream.WriteRepodata("linux-64", new JsonObject { ["packages"] = new JsonObject { [file.Filename] = CondaChannelFixture.Record(file, "a", "1.0", "0", timestamp: YearAgoMs) } });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings());
        await host.RefreshAsync();

        var noarch = await GetJsonAsync(host.Client, "/conda/forge/noarch/repodata.json");
        Assert.Equal("noarch", noarch["info"]!["subdir"]!.GetValue<string>());
        Assert.Empty(noarch["packages"]!.AsObject());
        Assert.Empty(noarch["packages.conda"]!.AsObject());
        Assert.Single((await GetJsonAsync(host.Client, "/conda/forge/linux-64/repodata.json"))["packages"]!.AsObject());
    }

    [Theory]
    [InlineData("/conda/elsewhere/noarch/repodata.json", "no conda channel 'elsewhere'")]
    [InlineData("/conda/forge/osx-arm64/repodata.json", "not 'osx-arm64'")]
    [InlineData("/conda/forge/noarch/repodata.json.bz2", "not published here")]
    [InlineData("/conda/forge/noarch/repodata_shards.msgpack.zst", "CEP 16")]
    [InlineData("/conda/forge/noarch/shards/0123abcd.msgpack.zst", "CEP 16")]
    [InlineData("/conda/forge/channeldata.json", "channeldata.json is not served")]
    [InlineData("/conda/forge/noarch/nothing-1.0-0.conda", "is not listed")]
    [InlineData("/conda/forge/noarch/index.html", "is not served")]
    public async Task What_is_not_served_answers_a_404_problem(string path, string detail)
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        upstream.WriteRepodata("noarch", new JsonObject { ["packages"] = new JsonObject() });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("noarch"));
        await host.RefreshAsync();

        using var response = await host.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
