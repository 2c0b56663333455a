using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// The root <c>/pypi/simple/</c> through the real appliance: rendered once per upstream change and per policy change,
/// answered with per-variant ETags, 304s and a pre-compressed gzip body, and read by real clients (curl, Debian's pip).
/// </summary>
[Collection(PyPICollection.Name)]
public sealed class RootIndexTests(PyPIUpstreamFixture upstream)
{
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private const string RenderedJson = "Rendered the PyPI root index as JSON";
    private const string RenderedHtml = "Rendered the PyPI root index as HTML";

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = TimeSpan.FromSeconds(60) };

    private sealed record Answer(HttpStatusCode Status, byte[] Body, string? ETag, string? ContentEncoding, string Vary, string? Stale, string? ContentType);

    private static async Task<Answer> GetAsync(ApplianceProcess appliance, string accept, bool gzip = false, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, "pypi/simple/"));
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (gzip)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate");
        }
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return new Answer(
            response.StatusCode, body, response.Headers.ETag?.ToString(),
            response.Content.Headers.ContentEncoding.SingleOrDefault(),
            string.Join(", ", response.Headers.Vary),
            response.Headers.TryGetValues("X-SafeHaven-Stale", out var stale) ? stale.Single() : null,
            response.Content.Headers.ContentType?.MediaType);
    }

    private static byte[] Gunzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static string[] JsonNames(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToArray();
    }

    private static int Count(string log, string line) =>
        log.Split('\n').Count(l => l.Contains(line, StringComparison.Ordinal));

    /// <summary>How many times the appliance logged <paramref name="line"/>, waiting up to 5 s for <paramref name="expected"/> (the console log is written asynchronously) and 0.3 s more.</summary>
    private static async Task<int> CountAsync(ApplianceProcess appliance, string line, int expected)
    {
        var count = Count(appliance.Log, line);
        for (var attempt = 0; count < expected && attempt < 50; attempt++)
        {
            await Task.Delay(100);
            count = Count(appliance.Log, line);
        }
        // And a moment more, so that one render too many would show.
        await Task.Delay(300);
        return Count(appliance.Log, line);
    }

    private static Task WriteRootAsync(string directory, IEnumerable<string> names)
    {
        var root = new JsonObject
        {
            ["meta"] = new JsonObject { ["api-version"] = "1.1", ["_last-serial"] = 1 },
            ["projects"] = new JsonArray(names.Select(n => (JsonNode)new JsonObject { ["name"] = n, ["_last-serial"] = 7 }).ToArray()),
        };
        Directory.CreateDirectory(directory);
        // Written beside and renamed, so nginx never serves half a file.
        var temporary = Path.Combine(directory, "index.json.tmp");
        File.WriteAllText(temporary, root.ToJsonString());
        File.Move(temporary, Path.Combine(directory, "index.json"), overwrite: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Tier0_root_is_rendered_once_served_with_etags_and_gzip_and_rerendered_only_when_upstream_changes()
    {
        var names = Enumerable.Range(0, 20_000).Select(i => $"project-{i:D5}").Concat(["Django", "zope.interface", "café"]).ToList();
        var root = Directory.CreateTempSubdirectory("safehaven-pypi-root-upstream-").FullName;
        await WriteRootAsync(Path.Combine(root, "simple"), names);
        var nginx = await NginxServer.StartAsync(root);
        try
        {
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:IndexTtlSeconds"] = "2",
            });

            // Concurrent first requests share one render.
            var first = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GetAsync(appliance, PipAccept)));
            Assert.All(first, a => Assert.Equal(HttpStatusCode.OK, a.Status));
            var plain = first[0];
            Assert.All(first, a => Assert.Equal(plain.ETag, a.ETag));
            Assert.All(first, a => Assert.Equal(plain.Body, a.Body));
            Assert.Equal(names, JsonNames(plain.Body));
            Assert.Equal("application/vnd.pypi.simple.v1+json", plain.ContentType);
            Assert.Null(plain.ContentEncoding);
            Assert.Equal("Accept, Accept-Encoding", plain.Vary);
            Assert.NotNull(plain.ETag);

            // The gzip variant: its own ETag, the same content.
            var gzip = await GetAsync(appliance, PipAccept, gzip: true);
            Assert.Equal(HttpStatusCode.OK, gzip.Status);
            Assert.Equal("gzip", gzip.ContentEncoding);
            Assert.Equal("Accept, Accept-Encoding", gzip.Vary);
            Assert.NotEqual(plain.ETag, gzip.ETag);
            Assert.Equal(plain.Body, Gunzip(gzip.Body));
            Assert.True(gzip.Body.Length * 4 < plain.Body.Length, $"gzip {gzip.Body.Length} bytes, plain {plain.Body.Length}");

            // 304 for each variant on its own ETag; the other variant's ETag does not match.
            var notModified = await GetAsync(appliance, PipAccept, ifNoneMatch: plain.ETag);
            Assert.Equal(HttpStatusCode.NotModified, notModified.Status);
            Assert.Empty(notModified.Body);
            Assert.Equal(plain.ETag, notModified.ETag);
            var gzipNotModified = await GetAsync(appliance, PipAccept, gzip: true, ifNoneMatch: gzip.ETag);
            Assert.Equal(HttpStatusCode.NotModified, gzipNotModified.Status);
            Assert.Equal(gzip.ETag, gzipNotModified.ETag);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(appliance, PipAccept, gzip: true, ifNoneMatch: plain.ETag)).Status);

            // HTML is rendered once too, for both HTML media types.
            var html = await GetAsync(appliance, "text/html");
            var html2 = await GetAsync(appliance, "application/vnd.pypi.simple.v1+html", gzip: true);
            Assert.Equal(HttpStatusCode.OK, html.Status);
            Assert.Equal("text/html", html.ContentType);
            Assert.Equal("application/vnd.pypi.simple.v1+html", html2.ContentType);
            Assert.Equal(html.Body, Gunzip(html2.Body));
            var htmlText = Encoding.UTF8.GetString(html.Body);
            Assert.Contains("<a href=\"zope.interface/\">zope.interface</a>", htmlText, StringComparison.Ordinal);
            Assert.Contains("<a href=\"caf%C3%A9/\">caf&#233;</a>", htmlText, StringComparison.Ordinal);
            Assert.Equal(names.Count, htmlText.Split("<a href=").Length - 1);

            // Real clients: curl --compressed and Debian's own pip (its vendored requests, pip's Accept header).
            var curlBody = Path.Combine(root, "curl-body");
            var curl = await ProcessRunner.RunAsync("curl", ["-sS", "--compressed", "-H", "Accept: " + PipAccept, "-o", curlBody, "-w", "%header{content-encoding}", appliance.PyPIIndexUrl]);
            Assert.True(curl.ExitCode == 0, curl.Output);
            Assert.Equal("gzip", curl.StandardOutput.Trim());
            Assert.Equal(plain.Body, await File.ReadAllBytesAsync(curlBody));
            var pip = await ProcessRunner.RunAsync("/usr/bin/python3", ["-c", """
                import sys
                from pip._vendor import requests
                r = requests.get(sys.argv[1], headers={"Accept": sys.argv[2]})
                r.raise_for_status()
                print(r.headers.get("Content-Encoding"))
                print("\n".join(p["name"] for p in r.json()["projects"]))
                """, appliance.PyPIIndexUrl, PipAccept], environment: PipEnvironment.Isolated());
            Assert.True(pip.ExitCode == 0, pip.Output);
            var pipLines = pip.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("gzip", pipLines[0]);
            Assert.Equal(names, pipLines[1..]);

            Assert.Equal(1, await CountAsync(appliance, RenderedJson, 1));
            Assert.Equal(1, await CountAsync(appliance, RenderedHtml, 1));

            // The TTL passes with upstream unchanged: upstream answers 304, nothing is rendered again.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var unchanged = await GetAsync(appliance, PipAccept);
            Assert.Equal(plain.ETag, unchanged.ETag);
            Assert.Equal(1, await CountAsync(appliance, RenderedJson, 1));

            // Upstream changes and the TTL passes: one new render, a new ETag, the new name listed.
            names.Add("brand-new-project");
            await WriteRootAsync(Path.Combine(root, "simple"), names);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var changed = await GetAsync(appliance, PipAccept);
            Assert.Equal(HttpStatusCode.OK, changed.Status);
            Assert.NotEqual(plain.ETag, changed.ETag);
            Assert.Equal(names, JsonNames(changed.Body));
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(appliance, PipAccept, ifNoneMatch: plain.ETag)).Status);
            var changedGzip = await GetAsync(appliance, PipAccept, gzip: true);
            Assert.Equal(changed.Body, Gunzip(changedGzip.Body));
            Assert.Equal(2, await CountAsync(appliance, RenderedJson, 2));

            // Upstream goes away: the last good render is served, marked stale, with the same ETag.
            await nginx.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var stale = await GetAsync(appliance, PipAccept);
            Assert.Equal(HttpStatusCode.OK, stale.Status);
            Assert.Equal(changed.ETag, stale.ETag);
            Assert.Equal(changed.Body, stale.Body);
            Assert.NotNull(stale.Stale);
            Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(appliance, PipAccept, ifNoneMatch: changed.ETag)).Status);
            Assert.Equal(2, await CountAsync(appliance, RenderedJson, 2));
        }
        finally
        {
            await nginx.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_tier_change_through_the_management_api_changes_the_root_and_its_etag()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "pypi.txt");
        await File.WriteAllTextAsync(allowlist, "shapp\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:pypi"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);
        using var management = await appliance.CreateManagementClientAsync();

        // Tier 3: exactly the closure.
        var tier3 = await GetOnceClosureIsReadyAsync(appliance);
        Assert.True(tier3.Status == HttpStatusCode.OK, $"{tier3.Status}\n{appliance.Log}");
        Assert.Equal(["shapp", "shlib"], JsonNames(tier3.Body));
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(appliance, PipAccept, ifNoneMatch: tier3.ETag)).Status);

        // Tier 0: every upstream project; the old ETag no longer matches.
        await PutPolicyAsync(appliance, management, """{"tier": 0, "reason": "open data only"}""");
        var tier0 = await GetAsync(appliance, PipAccept);
        Assert.Equal(HttpStatusCode.OK, tier0.Status);
        Assert.Contains("shother", JsonNames(tier0.Body));
        Assert.Contains("pip", JsonNames(tier0.Body));
        Assert.NotEqual(tier3.ETag, tier0.ETag);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(appliance, PipAccept, ifNoneMatch: tier3.ETag)).Status);
        var tier0Gzip = await GetAsync(appliance, PipAccept, gzip: true);
        Assert.Equal(tier0.Body, Gunzip(tier0Gzip.Body));

        // Back to Tier 3: the closure's names again, and since the ETag follows the content, the same ETag.
        await PutPolicyAsync(appliance, management, """{"tier": 3, "reason": "personal data arrives"}""");
        var back = await GetOnceClosureIsReadyAsync(appliance);
        Assert.Equal(["shapp", "shlib"], JsonNames(back.Body));
        Assert.Equal(tier3.ETag, back.ETag);
        Assert.Equal(3, await CountAsync(appliance, RenderedJson, 3));
    }

    /// <summary>At Tier 3+ the root answers 503 while the allowlist closure is being computed.</summary>
    private static async Task<Answer> GetOnceClosureIsReadyAsync(ApplianceProcess appliance)
    {
        var answer = await GetAsync(appliance, PipAccept);
        for (var attempt = 0; answer.Status == HttpStatusCode.ServiceUnavailable && attempt < 120; attempt++)
        {
            await Task.Delay(500);
            answer = await GetAsync(appliance, PipAccept);
        }
        return answer;
    }

    private static async Task PutPolicyAsync(ApplianceProcess appliance, HttpClient management, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await management.PutAsync(new Uri(appliance.BaseUrl, "api/policy"), content);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{appliance.Log}");
    }
}
