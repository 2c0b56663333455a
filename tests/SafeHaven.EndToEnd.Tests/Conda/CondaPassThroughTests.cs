using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>Real rattler against a Tier 0 appliance over a conda-forge-shaped and an old defaults-shaped channel.</summary>
public sealed class CondaPassThroughTests(CondaPassThroughFixture fixture) : IClassFixture<CondaPassThroughFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Tier0_solves_to_the_newest_versions_and_serves_each_file_intact()
    {
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "greet");

        CondaAssert.Solved(fixture, solved, "greet 2.0", "libgreet 2.1");
        Assert.Equal(("noarch", "greet-2.0-pyh0_0.conda"), (solved["greet"].Subdir, solved["greet"].Filename));
        await CondaAssert.DownloadsIntactAsync(fixture, "conda-forge", solved);
    }

    [Fact]
    public async Task An_old_channel_with_second_timestamps_and_only_tar_bz2_is_solved_and_a_record_without_sha256_is_not_listed()
    {
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("main"), "oldtool");
        CondaAssert.Solved(fixture, solved, "oldtool 1.2");
        Assert.EndsWith(".tar.bz2", solved["oldtool"].Filename, StringComparison.Ordinal);
        await CondaAssert.DownloadsIntactAsync(fixture, "main", solved);

        var nosha = await Rattler.SolveAsync(fixture.ChannelUrl("main"), "nosha");
        Assert.False(nosha.Succeeded, nosha.Process.Output);
        Assert.Contains("No candidates were found for nosha", nosha.Process.StandardError, StringComparison.Ordinal);
        using var direct = await Http.GetAsync(fixture.ChannelFileUrl("main", "linux-64/nosha-1.0-0.tar.bz2"));
        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
    }

    [Fact]
    public async Task A_file_changed_upstream_after_indexing_is_never_served_and_later_requests_still_work()
    {
        var channel = fixture.Channel("conda-forge");
        var (sha256, size) = channel.Indexed(CondaTimelineFixture.Shaky);
        var original = await channel.TamperAsync(CondaTimelineFixture.Shaky);
        try
        {
            // The record still lists the file, so the solve succeeds; the client's download is what fails.
            var solved = await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "shaky");
            CondaAssert.Solved(fixture, solved, "shaky 1.0");
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var download = await Rattler.DownloadAsync(solved["shaky"]);
                Assert.Equal(HttpStatusCode.BadGateway, download.Status);
                Assert.NotEqual(sha256, download.Sha256);
            }
        }
        finally
        {
            await File.WriteAllBytesAsync(channel.PathOf(CondaTimelineFixture.Shaky), original);
        }

        // Other files are unaffected, and once upstream serves the indexed bytes again the file is served.
        await CondaAssert.DownloadsIntactAsync(fixture, "conda-forge", await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "libgreet 1.0"));
        var again = await Rattler.DownloadAsync(fixture.ChannelFileUrl("conda-forge", "linux-64/" + CondaTimelineFixture.Shaky.FileName));
        Assert.Equal(new CondaDownload(HttpStatusCode.OK, sha256, size), again);
    }

    [Fact]
    public async Task Every_record_carries_the_appliances_indexed_timestamp_in_milliseconds()
    {
        foreach (var (channel, subdir) in new[] { ("conda-forge", "noarch"), ("conda-forge", "linux-64"), ("main", "linux-64") })
        {
            var repodata = await CondaAssert.RepodataAsync(fixture, channel, subdir);
            var records = CondaAssert.Records(repodata);
            Assert.NotEmpty(records);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var (file, record) in records)
            {
                var indexed = record["indexed_timestamp"]?.GetValue<long>() ?? throw new Xunit.Sdk.XunitException($"{channel}/{subdir}/{file} has no indexed_timestamp: {record.ToJsonString()}");
                Assert.InRange(indexed, fixture.Started.ToUnixTimeMilliseconds() - 1000, now);
            }
            // No base_url sends clients around the mirror.
            var baseUrl = repodata["info"]?["base_url"]?.GetValue<string>();
            Assert.True(baseUrl is null || baseUrl.StartsWith(fixture.ChannelUrl(channel).ToString(), StringComparison.Ordinal), baseUrl);
        }
    }

    [Fact]
    public async Task The_zst_index_decodes_to_the_same_json_and_both_answer_304_to_their_etag()
    {
        var json = fixture.ChannelFileUrl("conda-forge", "linux-64/repodata.json");
        var zst = fixture.ChannelFileUrl("conda-forge", "linux-64/repodata.json.zst");
        var plain = await Http.GetByteArrayAsync(json);
        var compressed = await Http.GetByteArrayAsync(zst);
        var file = Path.Combine(fixture.Root, "appliance-repodata.json.zst");
        await File.WriteAllBytesAsync(file, compressed);
        var decoded = await ProcessRunner.RunCheckedAsync("zstd", ["-d", "-c", "-q", file]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(plain), JsonNode.Parse(decoded.StandardOutput)), "repodata.json.zst does not decode to repodata.json");
        Assert.Contains("libgreet-2.1-h0_0.conda", decoded.StandardOutput, StringComparison.Ordinal);

        foreach (var url in new[] { json, zst })
        {
            using var first = await Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var etag = first.Headers.ETag ?? throw new Xunit.Sdk.XunitException($"{url} has no ETag");
            using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
            conditional.Headers.IfNoneMatch.Add(etag);
            using var notModified = await Http.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
            using var stale = new HttpRequestMessage(HttpMethod.Get, url);
            stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"not-the-current-index\""));
            using var modified = await Http.SendAsync(stale);
            Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        }
    }

    [Fact]
    public async Task Sharded_repodata_answers_404_and_rattler_falls_back_to_the_zst_index()
    {
        foreach (var subdir in CondaUpstreamBuilder.Subdirs)
        {
            using var shards = await Http.GetAsync(fixture.ChannelFileUrl("conda-forge", $"{subdir}/repodata_shards.msgpack.zst"));
            Assert.Equal(HttpStatusCode.NotFound, shards.StatusCode);
        }

        // What rattler asks for, in order, seen by an nginx that logs each request and passes it to the appliance.
        await using var proxy = await NginxServer.StartAsync(fixture.Root,
            $"location / {{ proxy_pass {fixture.Appliance.BaseUrl}; proxy_http_version 1.1; }}", accessLog: true);
        var solved = await Rattler.SolveAsync(new Uri(proxy.BaseUrl, "conda/conda-forge/"), "greet");
        Assert.True(solved.Succeeded, solved.Process.Output);
        await proxy.StopAsync();
        // (The proxy's own readiness probe, GET /, is not rattler's.)
        var requests = (await File.ReadAllLinesAsync(proxy.AccessLogPath)).Select(l => string.Join(' ', l.Split(' ').Take(3)))
            .Where(r => r.StartsWith("GET /conda/", StringComparison.Ordinal)).ToList();
        var expected = CondaUpstreamBuilder.Subdirs.Select(s => $"GET /conda/conda-forge/{s}/repodata_shards.msgpack.zst 404")
            .Concat(CondaUpstreamBuilder.Subdirs.Select(s => $"GET /conda/conda-forge/{s}/repodata.json.zst 200"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, requests.Order(StringComparer.Ordinal));
        foreach (var subdir in CondaUpstreamBuilder.Subdirs)
        {
            Assert.True(requests.FindIndex(r => r.Contains($"/{subdir}/repodata_shards", StringComparison.Ordinal)) < requests.FindIndex(r => r.Contains($"/{subdir}/repodata.json.zst", StringComparison.Ordinal)),
                $"rattler asked for {subdir}/repodata.json.zst before its shard index answered: " + string.Join("; ", requests));
        }
    }
}
