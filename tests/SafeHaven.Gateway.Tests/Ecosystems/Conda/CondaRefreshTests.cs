using System.Net;
using System.Text.Json.Nodes;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway.Ecosystems.Conda.Channels;
using SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

/// <summary>
/// Refreshes: on demand when an index is stale, the last good index kept when upstream fails, and what was read
/// before a restart served when upstream is gone. The upstream is a conda-forge style <c>noarch</c> reduced to one or two records.
/// </summary>
public sealed class CondaRefreshTests
{
    private static readonly long Old = DateTimeOffset.UtcNow.AddDays(-30).ToUnixTimeMilliseconds();

    private static JsonObject Index(params (ChannelFile File, string Name, string Version)[] records)
    {
        var packages = new JsonObject();
        foreach (var (file, name, version) in records)
        {
            packages[file.Filename] = CondaChannelFixture.Record(file, name, version, "0", timestamp: Old);
        }
        return new JsonObject { ["info"] = new JsonObject { ["subdir"] = "noarch" }, ["packages"] = new JsonObject(), ["packages.conda"] = packages };
    }

    private static async Task<IReadOnlyList<string>> ListedAsync(HttpClient client) =>
        JsonNode.Parse(await client.GetStringAsync("/conda/forge/noarch/repodata.json"))!["packages.conda"]!.AsObject().Select(p => p.Key).ToList();

    [Fact]
    public async Task A_stale_index_is_re_read_when_requested_and_a_failed_read_keeps_the_last_good_one()
    {
        await using var upstream = await CondaChannelFixture.StartAsync();
        var first = upstream.AddFile("noarch", "a-1.0-0.conda");
        upstream.WriteRepodata("noarch", Index((first, "a", "1.0")));
        var settings = upstream.Settings("noarch");
        settings["SafeHaven:Mirrors:conda:IndexTtlSeconds"] = "1";
        await using var host = await CondaGatewayHost.StartAsync(0, settings);
        await host.RefreshAsync();
        Assert.Equal([first.Filename], await ListedAsync(host.Client));

        var second = upstream.AddFile("noarch", "a-2.0-0.conda");
        upstream.WriteRepodata("noarch", Index((first, "a", "1.0"), (second, "a", "2.0")));
        File.SetLastWriteTimeUtc(Path.Combine(upstream.Root, CondaChannelFixture.Channel, "noarch", "repodata.json"), DateTime.UtcNow.AddMinutes(1)); // a new ETag
        await Task.Delay(1100);
        Assert.Equal([first.Filename, second.Filename], (await ListedAsync(host.Client)).Order(StringComparer.Ordinal));

        // Upstream now serves something that is not a repodata object: the last good index stays, marked stale, and healthz says why.
        File.WriteAllText(Path.Combine(upstream.Root, CondaChannelFixture.Channel, "noarch", "repodata.json"), "<html>maintenance</html>");
        await Task.Delay(1100);
        using var response = await host.Client.GetAsync("/conda/forge/noarch/repodata.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("upstream refresh failed", response.Headers.GetValues("X-SafeHaven-Stale").Single(), StringComparison.Ordinal);
        Assert.Equal(2, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["packages.conda"]!.AsObject().Count);
        Assert.Contains("the last refresh failed", await host.Client.GetStringAsync("/healthz"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_restart_what_was_read_before_is_served_while_upstream_is_down()
    {
        var data = Directory.CreateTempSubdirectory("safehaven-conda-").FullName;
        var upstream = await CondaChannelFixture.StartAsync();
        var file = upstream.AddFile("noarch", "a-1.0-0.conda");
        upstream.WriteRepodata("noarch", Index((file, "a", "1.0")));
        var settings = upstream.Settings("noarch");
        var host = await CondaGatewayHost.StartAsync(0, settings, Directory.CreateDirectory(Path.Combine(data, "one")).FullName);
        await host.RefreshAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/conda/forge/noarch/" + file.Filename)).StatusCode); // stored
        // Stop the gateway without deleting its data: copy it aside first (the host deletes its folder on dispose).
        await host.Mirror.PublishAsync(CancellationToken.None);
        var kept = Path.Combine(data, "two");
        CopyDirectory(host.DataDirectory, kept);
        await host.DisposeAsync();
        await upstream.DisposeAsync();

        await using var restarted = await CondaGatewayHost.StartAsync(0, settings, kept);
        await restarted.RefreshAsync(); // upstream is gone: the refresh fails, the kept index is published

        Assert.Equal([file.Filename], await ListedAsync(restarted.Client));
        using var download = await restarted.Client.GetAsync("/conda/forge/noarch/" + file.Filename);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(file.Content, await download.Content.ReadAsByteArrayAsync());
        Directory.Delete(data, recursive: true);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
        }
    }

    [Fact]
    public void Configuration_problems_are_named_by_their_keys()
    {
        var problems = CondaConfiguration.Validate(new MirrorOptions
        {
            Upstream = "http://conda.upstream.example/",
            Channels = new(StringComparer.Ordinal)
            {
                ["Conda Forge"] = new CondaChannelOptions { Upstream = "ftp://conda.upstream.example/conda-forge/" },
                ["bioconda"] = new CondaChannelOptions { Subdirs = ["noarch, linux/64"] },
            },
        }).ToList();

        Assert.Contains(problems, p => p.StartsWith("SafeHaven:Mirrors:conda:Upstream: not used by conda", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("SafeHaven:Mirrors:conda:Channels:Conda Forge: the name is a URL path segment", StringComparison.Ordinal));
        Assert.Contains("SafeHaven:Mirrors:conda:Channels:Conda Forge:Upstream: 'ftp://conda.upstream.example/conda-forge/' is not an absolute http(s) URL", problems);
        Assert.Contains(problems, p => p.StartsWith("SafeHaven:Mirrors:conda:Channels:bioconda:Upstream: required", StringComparison.Ordinal));
        Assert.Contains("SafeHaven:Mirrors:conda:Channels:bioconda:Subdirs: 'linux/64' is not a conda subdir (e.g. noarch, linux-64, osx-arm64)", problems);
        Assert.Equal(5, problems.Count);
        Assert.Equal(["noarch", "linux-64"], CondaConfiguration.Read(new MirrorOptions
        {
            Channels = new(StringComparer.Ordinal) { ["forge"] = new CondaChannelOptions { Upstream = "http://conda.upstream.example/conda-forge" } },
        }).Single().Subdirs);
    }
}
