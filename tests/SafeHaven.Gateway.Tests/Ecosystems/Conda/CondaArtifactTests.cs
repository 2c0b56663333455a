using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.Core.Blobs;
using SafeHaven.Gateway.Health;
using SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;
using Microsoft.Extensions.DependencyInjection;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda;

/// <summary>
/// Package files: fetched once, verified against the record's <c>sha256</c> and <c>size</c> before any byte reaches a
/// client, stored, served from the store. The upstream is a conda-forge style channel (<c>packages.conda</c>, ms
/// timestamps) reduced to the records each test needs.
/// </summary>
public sealed class CondaArtifactTests
{
    private static readonly long YearAgoMs = DateTimeOffset.UtcNow.AddDays(-365).ToUnixTimeMilliseconds();

    private static async Task<(CondaChannelFixture Upstream, ChannelFile File)> ChannelWithOneFileAsync()
    {
        var upstream = await CondaChannelFixture.StartAsync();
        var file = upstream.AddFile("noarch", "six-1.16.0-pyh6c4a22f_0.conda", size: 4096);
        var record = CondaChannelFixture.Record(file, "six", "1.16.0", "pyh6c4a22f_0", timestamp: YearAgoMs, depends: ["python"]);
        upstream.WriteRepodata("noarch", new JsonObject
        {
            ["info"] = new JsonObject { ["subdir"] = "noarch" },
            ["packages"] = new JsonObject(),
            ["packages.conda"] = new JsonObject { [file.Filename] = record },
            ["repodata_version"] = 1,
        });
        return (upstream, file);
    }

    [Fact]
    public async Task A_listed_file_is_served_verified_then_from_the_store_with_ETag_and_HEAD()
    {
        var (upstream, file) = await ChannelWithOneFileAsync();
        await using var _ = upstream;
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("noarch"));
        await host.RefreshAsync();
        var path = "/conda/forge/noarch/" + file.Filename;

        using var first = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(file.Content, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{file.Sha256}\"", first.Headers.ETag!.Tag);
        using var second = await host.Client.GetAsync(path);
        Assert.Equal(file.Content, await second.Content.ReadAsByteArrayAsync());
        using var head = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(file.Size, head.Content.Headers.ContentLength);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, path);
        conditional.Headers.IfNoneMatch.Add(first.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, (await host.Client.SendAsync(conditional)).StatusCode);

        Assert.Equal(1, upstream.Upstream.RequestsFor("conda-forge/noarch/" + file.Filename));
    }

    [Fact]
    public async Task A_tampered_file_answers_502_is_never_stored_or_served_and_shows_on_healthz()
    {
        var (upstream, file) = await ChannelWithOneFileAsync();
        await using var _ = upstream;
        var tampered = RandomNumberGenerator.GetBytes((int)file.Size); // same size, other bytes
        upstream.Tamper(file, tampered);
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("noarch"));
        await host.RefreshAsync();
        var path = "/conda/forge/noarch/" + file.Filename;

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await host.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("does not match", body, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(tampered[..32]), body, StringComparison.Ordinal);
        }
        var blobs = host.Services.GetRequiredService<IBlobStore>();
        Assert.Null(await blobs.GetLengthAsync(BlobDigest.Compute(tampered), CancellationToken.None));
        Assert.Null(await blobs.GetLengthAsync(BlobDigest.Compute(file.Content), CancellationToken.None));
        Assert.Equal(2, host.Services.GetRequiredService<MirrorHealth>().Get("conda").ArtifactIntegrityFailures);

        var health = JsonNode.Parse(await host.Client.GetStringAsync("/healthz"))!.ToJsonString();
        Assert.Contains("conda: an upstream file failed verification", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_longer_than_its_record_says_is_refused_even_when_its_sha256_is_the_records()
    {
        // The record's sha256 is of the bytes upstream serves, but its size is one byte less: the record is inconsistent, so nothing is served.
        var (upstream, file) = await ChannelWithOneFileAsync();
        await using var _ = upstream;
        upstream.WriteRepodata("noarch", new JsonObject
        {
            ["packages.conda"] = new JsonObject
            {
                [file.Filename] = CondaChannelFixture.Record(file, "six", "1.16.0", "pyh6c4a22f_0", timestamp: YearAgoMs,
                    extra: new Dictionary<string, JsonNode?> { ["size"] = file.Size - 1 }),
            },
        });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("noarch"));
        await host.RefreshAsync();

        using var response = await host.Client.GetAsync("/conda/forge/noarch/" + file.Filename);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("size its index gives", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await host.Services.GetRequiredService<IBlobStore>().GetLengthAsync(BlobDigest.Compute(file.Content), CancellationToken.None));
    }

    [Fact]
    public async Task A_file_whose_record_has_no_sha256_is_neither_listed_nor_served()
    {
        var (upstream, file) = await ChannelWithOneFileAsync();
        await using var _ = upstream;
        upstream.WriteRepodata("noarch", new JsonObject
        {
            ["packages.conda"] = new JsonObject { [file.Filename] = CondaChannelFixture.Record(file, "six", "1.16.0", "pyh6c4a22f_0", timestamp: YearAgoMs, sha256: false) },
        });
        await using var host = await CondaGatewayHost.StartAsync(0, upstream.Settings("noarch"));
        await host.RefreshAsync();

        var repodata = JsonNode.Parse(await host.Client.GetStringAsync("/conda/forge/noarch/repodata.json"))!;
        Assert.Empty(repodata["packages.conda"]!.AsObject());
        using var response = await host.Client.GetAsync("/conda/forge/noarch/" + file.Filename);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unverifiable", response.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Equal(0, upstream.Upstream.RequestsFor("conda-forge/noarch/" + file.Filename));
    }
}
