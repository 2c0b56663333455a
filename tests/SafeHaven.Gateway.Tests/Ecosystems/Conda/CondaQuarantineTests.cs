using System.Net;
using System.Text.Json.Nodes;
using SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

/// <summary>
/// Tier 2: a record becomes visible <c>MinimumAgeDays</c> after its upload (<c>timestamp</c>, ms or seconds; else the
/// appliance's first-seen time), unless it fixes a known vulnerability. The upstream mixes a conda-forge style
/// <c>packages.conda</c> (ms) with an old-style <c>packages</c> record in seconds and one with no timestamp at all.
/// </summary>
public sealed class CondaQuarantineTests
{
    [Fact]
    public async Task New_records_are_held_back_old_ones_listed_and_a_fix_is_fast_tracked()
    {
        var now = DateTimeOffset.UtcNow;
        await using var upstream = await CondaChannelFixture.StartAsync();
        var oldSeconds = upstream.AddFile("linux-64", "openssl-3.0.0-h7f98852_0.tar.bz2");
        var fresh = upstream.AddFile("linux-64", "openssl-3.3.1-hb9d3cd8_1.conda");
        var fix = upstream.AddFile("linux-64", "openssl-3.3.2-hb9d3cd8_0.conda");
        var undated = upstream.AddFile("linux-64", "openssl-3.3.0-hb9d3cd8_0.conda");
        upstream.WriteRepodata("linux-64", new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = "linux-64" },
            ["packages"] = new JsonObject
            {
                [oldSeconds.Filename] = CondaChannelFixture.Record(oldSeconds, "openssl", "3.0.0", "h7f98852_0", timestamp: now.AddDays(-400).ToUnixTimeSeconds()),
            },
            ["packages.conda"] = new JsonObject
            {
                [fresh.Filename] = CondaChannelFixture.Record(fresh, "openssl", "3.3.1", "hb9d3cd8_1", 1, timestamp: now.AddDays(-1).ToUnixTimeMilliseconds()),
                [fix.Filename] = CondaChannelFixture.Record(fix, "openssl", "3.3.2", "hb9d3cd8_0", timestamp: now.AddDays(-1).ToUnixTimeMilliseconds()),
                [undated.Filename] = CondaChannelFixture.Record(undated, "openssl", "3.3.0", "hb9d3cd8_0"),
            },
        });
        var settings = upstream.Settings("linux-64");
        settings["SafeHaven:Policy:MinimumAgeDays"] = "7";
        var data = Directory.CreateTempSubdirectory("safehaven-conda-").FullName;
        Directory.CreateDirectory(Path.Combine(data, "advisories"));
        // An OSV record as a site writes one for conda packages (OSV defines no conda ecosystem; the appliance reads "conda").
        await File.WriteAllTextAsync(Path.Combine(data, "advisories", "SITE-2024-0001.json"), """
            {"id":"SITE-2024-0001","modified":"2024-09-03T00:00:00Z","summary":"openssl: test advisory",
             "affected":[{"package":{"ecosystem":"conda","name":"openssl"},
                          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"3.0.0"},{"fixed":"3.3.2"}]}]}]}
            """);
        await using var host = await CondaGatewayHost.StartAsync(2, settings, data);
        await host.RefreshAsync();

        var repodata = JsonNode.Parse(await host.Client.GetStringAsync("/conda/forge/linux-64/repodata.json"))!;
        Assert.Equal([oldSeconds.Filename], repodata["packages"]!.AsObject().Select(p => p.Key));
        Assert.Equal([fix.Filename], repodata["packages.conda"]!.AsObject().Select(p => p.Key));

        using var held = await host.Client.GetAsync("/conda/forge/linux-64/" + fresh.Filename);
        Assert.Equal(HttpStatusCode.NotFound, held.StatusCode);
        Assert.Equal("quarantined", held.Headers.GetValues("X-SafeHaven-Policy").Single());
        using var undatedResponse = await host.Client.GetAsync("/conda/forge/linux-64/" + undated.Filename);
        Assert.Equal("quarantined", undatedResponse.Headers.GetValues("X-SafeHaven-Policy").Single()); // first seen just now
        Assert.Contains("quarantined until", await undatedResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/conda/forge/linux-64/" + fix.Filename)).StatusCode);

        var health = JsonNode.Parse(await host.Client.GetStringAsync("/healthz"))!.ToJsonString();
        Assert.Contains("\"quarantined\":2", health, StringComparison.Ordinal);
    }
}
