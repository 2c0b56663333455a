using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>Real pip against the running appliance, at every tier, with a real static upstream.</summary>
[Collection(PyPICollection.Name)]
public sealed class PipInstallTests(PyPIUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private static string Describe(Pip.InstallResult result, ApplianceProcess appliance) =>
        $"pip said:\n{result.Process.Output}\nappliance log:\n{appliance.Log}";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tier0_installs_the_newest_version(bool inlineScheduling)
    {
        var settings = upstream.Settings(0);
        settings["Server:InlineScheduling"] = inlineScheduling ? "true" : "false";
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha");

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("3.0", result.Installed["shalpha"]);
    }

    [Fact]
    public async Task Tier2_installs_the_newest_version_past_the_quarantine_and_hides_the_fresh_one()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));

        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha");
        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("2.0", result.Installed["shalpha"]);

        // Absent from the index in both representations.
        var json = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
        Assert.Equal(["1.0", "2.0"], json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        var html = await Http.GetStringAsync(new Uri(appliance.BaseUrl, "pypi/simple/shalpha/"));
        Assert.DoesNotContain("shalpha-3.0", html, StringComparison.Ordinal);

        // A direct request for the hidden file: 404 with the reason, never 401.
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/packages/shalpha/shalpha-3.0-py3-none-any.whl"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("quarantined", response.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("quarantined until", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tier2_fast_tracks_a_fresh_version_that_fixes_an_OSV_advisory()
    {
        var settings = upstream.Settings(2);
        var advisories = Directory.CreateTempSubdirectory("safehaven-osv-").FullName;
        await File.WriteAllTextAsync(Path.Combine(advisories, "PYSEC-0000-SH1.json"), PyPIUpstreamFixture.Advisory);
        settings["Policy:AdvisoriesDirectory"] = advisories;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shfixed");

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("1.1", result.Installed["shfixed"]);
        // The same freshness without an advisory stays hidden (shalpha 3.0 is one day old too).
        var json = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
        Assert.DoesNotContain("3.0", json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Tier3_installs_an_allowlisted_project_with_its_unlisted_dependency_and_refuses_others()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "pypi.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nshapp\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:pypi"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var installed = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shapp");
        Assert.True(installed.Succeeded, Describe(installed, appliance));
        Assert.Equal("1.0", installed.Installed["shapp"]);
        Assert.Equal("1.0", installed.Installed["shlib"]); // 1.1 is still in quarantine; the Tier 2 delay applies
        Assert.Equal(2, installed.Installed.Count);

        var refused = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shother");
        Assert.False(refused.Succeeded);
        Assert.Contains("No matching distribution found for shother", refused.Process.Output, StringComparison.Ordinal);

        using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shother/"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("not-allowlisted", page.Headers.GetValues("X-SafeHaven-Policy").Single());

        // The closure: markers evaluated (no Windows-only shwin), extras not requested skipped (no shtest).
        using var management = await appliance.CreateManagementClientAsync();
        var closure = await GetJsonAsync(appliance, "api/mirrors/pypi/closure", management);
        Assert.Equal(["shapp", "shlib"], closure.GetProperty("visible").EnumerateArray().Select(v => v.GetString()!).ToArray());
        Assert.Equal(0, closure.GetProperty("unsatisfied").GetArrayLength());

        // The root index lists exactly the closure.
        var root = await GetJsonAsync(appliance, "pypi/simple/");
        Assert.Equal(["shapp", "shlib"], root.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToArray());
    }

    [Fact]
    public async Task Tier3_reports_an_allowlisted_project_whose_dependencies_cannot_be_satisfied()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "pypi.txt");
        await File.WriteAllTextAsync(allowlist, "shbroken\nshapp\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:pypi"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        using var management = await appliance.CreateManagementClientAsync();
        var closure = await GetJsonAsync(appliance, "api/mirrors/pypi/closure", management);
        var unsatisfied = closure.GetProperty("unsatisfied").EnumerateArray().ToList();
        var problem = Assert.Single(unsatisfied);
        Assert.Equal("shbroken", problem.GetProperty("root").GetString());
        Assert.Equal("shmissing >=1.0", problem.GetProperty("requirement").GetString());
        Assert.Contains("upstream has no project 'shmissing'", problem.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("pypi allowlist entry shbroken cannot be satisfied", appliance.Log, StringComparison.Ordinal);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_tampered_upstream_file_is_never_installed_stored_or_served()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shtampered");
        Assert.False(result.Succeeded, Describe(result, appliance));
        Assert.False(result.Installed.ContainsKey("shtampered"));

        var url = new Uri(appliance.BaseUrl, $"pypi/packages/shtampered/{upstream.TamperedFilename}");
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("does not match the hash its index gives (expected SHA-256", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var tamperedHash = PyPIUpstreamBuilder.Sha256(Path.Combine(upstream.Root, "files", upstream.TamperedFilename));
        Assert.Empty(Directory.EnumerateFiles(appliance.DataDirectory, tamperedHash, SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(appliance.DataDirectory, "blobs", "tmp")));
    }

    [Fact]
    public async Task Files_support_ETag_Range_and_PEP_658_metadata_and_pages_support_If_None_Match()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));
        var json = await GetJsonAsync(appliance, "pypi/simple/setuptools/");
        var file = json.GetProperty("files").EnumerateArray().Single();
        // PEP 700 upload-time passes through exactly as upstream wrote it.
        using (var upstreamPage = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(upstream.Root, "simple", "setuptools", "index.json"))))
        {
            var upstreamFile = upstreamPage.RootElement.GetProperty("files").EnumerateArray().Single();
            Assert.Equal(upstreamFile.GetProperty("upload-time").GetString(), file.GetProperty("upload-time").GetString());
            Assert.Equal(upstreamFile.GetProperty("size").GetInt64(), file.GetProperty("size").GetInt64());
        }
        var fileUrl = new Uri(new Uri(appliance.BaseUrl, "pypi/simple/setuptools/"), file.GetProperty("url").GetString());

        // PEP 658: the advertised metadata file is served and matches its advertised hash.
        var metadataHash = file.GetProperty("core-metadata").GetProperty("sha256").GetString();
        var metadata = await Http.GetByteArrayAsync(new Uri(fileUrl + ".metadata"));
        Assert.Equal(metadataHash, Convert.ToHexStringLower(SHA256.HashData(metadata)));

        // Range on a file, served from the store after the first fetch.
        var full = await Http.GetByteArrayAsync(fileUrl);
        Assert.Equal(file.GetProperty("hashes").GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(full)));
        using var range = new HttpRequestMessage(HttpMethod.Get, fileUrl);
        range.Headers.Range = new RangeHeaderValue(100, 199);
        using var partial = await Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(full.AsSpan(100, 100).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        // ETag and If-None-Match on a page.
        using var first = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/setuptools/"));
        var etag = first.Headers.ETag!;
        Assert.Contains("Accept", first.Headers.Vary);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, "pypi/simple/setuptools/"));
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        // pip sends Accept-Encoding: gzip; the page then comes compressed, under its own ETag, and is the same page.
        using var compressedRequest = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, "pypi/simple/setuptools/"));
        compressedRequest.Headers.AcceptEncoding.ParseAdd("gzip");
        using var compressed = await Http.SendAsync(compressedRequest);
        Assert.Equal("gzip", Assert.Single(compressed.Content.Headers.ContentEncoding));
        Assert.Contains("Accept-Encoding", compressed.Headers.Vary);
        Assert.NotEqual(etag, compressed.Headers.ETag);
        await using var unzip = new System.IO.Compression.GZipStream(await compressed.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        await unzip.CopyToAsync(inflated);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), inflated.ToArray());
    }

    [Fact]
    public async Task Upstream_down_or_answering_garbage_keeps_serving_the_last_good_copy_marked_stale()
    {
        // A private upstream this test can break, holding a copy of the shared one.
        var root = Directory.CreateTempSubdirectory("safehaven-pypi-breakable-").FullName;
        CopyDirectory(upstream.Root, root);
        var nginx = await NginxServer.StartAsync(root);
        await using var _ = nginx;
        var settings = upstream.Settings(0);
        settings["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString();
        settings["Mirrors:pypi:IndexTtlSeconds"] = "0";
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var first = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha");
        Assert.True(first.Succeeded, Describe(first, appliance));

        // Garbage from upstream: the previous page is still served, marked stale.
        await File.WriteAllTextAsync(Path.Combine(root, "simple", "shalpha", "index.json"), "{\"meta\": {\"api-version\": \"1.1\"}, \"files\": [ garbage");
        using (var stale = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shalpha/")))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("not valid PEP 691 JSON", stale.Headers.GetValues("X-SafeHaven-Stale").Single(), StringComparison.Ordinal);
            Assert.Contains("shalpha-3.0", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Upstream gone: pip still installs from what is cached.
        await nginx.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(6)); // past the failure back-off, so the appliance really tries upstream again
        var second = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha");
        Assert.True(second.Succeeded, Describe(second, appliance));
        Assert.Equal("3.0", second.Installed["shalpha"]);
        Assert.Contains("pypi upstream refresh of shalpha failed", appliance.Log, StringComparison.Ordinal);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("mirrors").GetProperty("pypi").GetProperty("staleResponses").GetInt64() >= 1);

        // A project never cached cannot be served: a clear 502, not an empty page.
        using var missing = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shother/"));
        Assert.Equal(HttpStatusCode.BadGateway, missing.StatusCode);
        Directory.Delete(root, recursive: true);
    }

    private static async Task<JsonElement> GetJsonAsync(ApplianceProcess appliance, string path, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, path));
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        request.Headers.Accept.ParseAdd("application/json;q=0.5");
        using var response = await (client ?? Http).SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}\n{appliance.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(source, destination, StringComparison.Ordinal));
        }
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(source, destination, StringComparison.Ordinal));
        }
    }
}
