using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// PyPI clients as real machines have them (Debian 12's own pip 23.0.1 beside a newer pip) against upstreams as
/// real ones are: a PEP 691 JSON upstream whose PEP 700 <c>versions</c> names more versions than it has files
/// for, and a static HTML-only PEP 503 upstream with no dates at all.
/// </summary>
[Collection(PyPICollection.Name)]
public sealed class PipClientTests(PyPIUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private static string Describe(Pip.InstallResult result, ApplianceProcess appliance) =>
        $"pip said:\n{result.Process.Output}\nappliance log:\n{appliance.Log}";

    [Fact]
    public async Task The_pips_under_test_are_Debians_23_0_1_and_a_newer_one()
    {
        Assert.Equal("23.0.1", await PipClient.Debian.VersionAsync());
        var newer = await PipClient.Newer.VersionAsync();
        // Both pips must really differ, or the "newer" cases silently repeat the Debian ones.
        Assert.True(newer != "23.0.1", "python3 on PATH must carry a pip newer than Debian's 23.0.1 (on this machine: pyenv's 23.2.1)");
    }

    /// <summary>
    /// A copy of the shared JSON upstream (it imitates PyPI's PEP 691 pages: hashes, PEP 658 core-metadata objects,
    /// upload-time) whose shalpha page lists versions 0.1 and 0.5 with no files left, as PyPI does for projects
    /// whose old files were deleted (pytz lists 112 versions and has files for 67).
    /// </summary>
    private async Task<(NginxServer Nginx, string Root)> StartJsonUpstreamWithExtraVersionsAsync()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-pypi-versions-").FullName;
        foreach (var directory in Directory.EnumerateDirectories(upstream.Root, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(upstream.Root, root, StringComparison.Ordinal));
        }
        foreach (var file in Directory.EnumerateFiles(upstream.Root, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(upstream.Root, root, StringComparison.Ordinal));
        }
        var page = Path.Combine(root, "simple", "shalpha", "index.json");
        var json = JsonNode.Parse(await File.ReadAllTextAsync(page))!;
        json["versions"] = new JsonArray("0.1", "0.5", "1.0", "2.0", "3.0");
        await File.WriteAllTextAsync(page, json.ToJsonString());
        return (await NginxServer.StartAsync(root), root);
    }

    [Theory]
    [InlineData("debian", 0)]
    [InlineData("debian", 2)]
    [InlineData("newer", 0)]
    [InlineData("newer", 2)]
    public async Task Both_pips_install_from_the_JSON_pages_and_versions_pass_through(string pipName, int tier)
    {
        var pip = PipClient.Named(pipName);
        var (nginx, root) = await StartJsonUpstreamWithExtraVersionsAsync();
        await using var server = nginx;
        var settings = upstream.Settings(tier);
        settings["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString();
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        // Both pips ask for JSON first; Debian's used to crash here with "unhashable type: 'dict'".
        var result = await Pip.InstallAsync(pip, appliance.PyPIIndexUrl, "shalpha", "shapp");

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.DoesNotContain("TypeError", result.Process.Output, StringComparison.Ordinal);
        Assert.Equal(tier == 0 ? "3.0" : "2.0", result.Installed["shalpha"]);
        Assert.Equal("1.0", result.Installed["shapp"]);
        Assert.Equal(tier == 0 ? "1.1" : "1.0", result.Installed["shlib"]); // shlib 1.1 is one day old
        Assert.Equal(3, result.Installed.Count);

        // PEP 700: upstream's list, less what the tier hides entirely (3.0 is one day old); 0.1 and 0.5 have no files to hide.
        var page = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
        Assert.Equal(tier == 0 ? ["0.1", "0.5", "1.0", "2.0", "3.0"] : ["0.1", "0.5", "1.0", "2.0"],
            page.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        // PEP 714: core-metadata only.
        Assert.All(page.GetProperty("files").EnumerateArray(), f =>
        {
            Assert.False(f.TryGetProperty("dist-info-metadata", out _));
            Assert.Equal(JsonValueKind.Object, f.GetProperty("core-metadata").ValueKind);
        });

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.True(health.GetProperty("status").GetString() == "healthy", health.ToString());
        var coverage = health.GetProperty("mirrors").GetProperty("pypi").GetProperty("coverage");
        Assert.True(coverage.GetProperty("packages").GetInt64() >= 3, coverage.ToString());
        var hidden = coverage.GetProperty("hidden");
        Assert.False(hidden.TryGetProperty("no-upload-date", out _), coverage.ToString());
        if (tier == 2)
        {
            Assert.True(hidden.GetProperty("quarantined").GetInt64() >= 2, coverage.ToString()); // shalpha 3.0 and shlib 1.1
        }
        Directory.Delete(root, recursive: true);
    }

    /// <summary>
    /// An HTML-only upstream made of the shared fixture's wheels (see <see cref="PyPIHtmlUpstream"/> for the shape
    /// it imitates and what it leaves out on purpose), served by nginx as static index.html files.
    /// </summary>
    private async Task<(NginxServer Nginx, string Root)> StartHtmlUpstreamAsync()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-pypi-html-").FullName;
        var files = Path.Combine(upstream.Root, "files");
        var links = new List<PyPIHtmlUpstream.Link>();
        var styles = Enum.GetValues<PyPIHtmlUpstream.LinkStyle>();
        foreach (var project in (string[])["shalpha", "shapp", "shlib"])
        {
            var wheels = Directory.EnumerateFiles(files, project + "-*.whl").Order(StringComparer.Ordinal).ToList();
            for (var i = 0; i < wheels.Count; i++)
            {
                links.Add(new(project, Path.GetFileName(wheels[i]), PyPIUpstreamBuilder.Sha256(wheels[i]), styles[i % styles.Length]));
            }
        }
        PyPIHtmlUpstream.Write(root, files, links);
        Assert.False(File.Exists(Path.Combine(root, "simple", "shalpha", "index.json")));
        Assert.Contains("data-requires-python=\">=3.7\" href=", await File.ReadAllTextAsync(Path.Combine(root, "simple", "shalpha", "index.html")), StringComparison.Ordinal);
        return (await NginxServer.StartAsync(root), root);
    }

    [Theory]
    [InlineData("debian")]
    [InlineData("newer")]
    public async Task An_HTML_only_upstream_with_raw_gt_in_attributes_installs_at_tier_0(string pipName)
    {
        var (nginx, root) = await StartHtmlUpstreamAsync();
        await using var server = nginx;
        var settings = upstream.Settings(0);
        settings["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString();
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await Pip.InstallAsync(PipClient.Named(pipName), appliance.PyPIIndexUrl, "shalpha", "shapp");

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("3.0", result.Installed["shalpha"]);
        Assert.Equal("1.0", result.Installed["shapp"]);
        Assert.Equal("1.1", result.Installed["shlib"]);

        // Every file read right: names, hashes (one was written "sha256&#x3D;"), requires-python (one written raw ">=").
        var page = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
        var files = page.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["shalpha-1.0-py3-none-any.whl", "shalpha-2.0-py3-none-any.whl", "shalpha-3.0-py3-none-any.whl"], files.Select(f => f.GetProperty("filename").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(files, f =>
        {
            Assert.Equal(64, f.GetProperty("hashes").GetProperty("sha256").GetString()!.Length);
            Assert.StartsWith(">=3.7", f.GetProperty("requires-python").GetString(), StringComparison.Ordinal);
            Assert.False(f.TryGetProperty("upload-time", out _)); // upstream has none, and none is made up
        });
        Assert.Equal(["1.0", "2.0", "3.0"], page.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.True(health.GetProperty("status").GetString() == "healthy", health.ToString());
        var coverage = health.GetProperty("mirrors").GetProperty("pypi").GetProperty("coverage");
        Assert.Equal(7, coverage.GetProperty("upstreamVersions").GetInt64()); // 3 shalpha + 1 shapp + 3 shlib files
        Assert.Empty(coverage.GetProperty("hidden").EnumerateObject());
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task An_HTML_only_upstream_at_tier_2_is_held_back_by_first_seen_and_healthz_says_so()
    {
        var (nginx, root) = await StartHtmlUpstreamAsync();
        await using var server = nginx;
        var settings = upstream.Settings(2);
        settings["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString();

        await using (var appliance = await ApplianceProcess.StartAsync(settings))
        {
            // Seen for the first time now: every file waits out the 7 days from now. Nothing is installable yet.
            var refused = await Pip.InstallAsync(PipClient.Debian, appliance.PyPIIndexUrl, "shalpha");
            Assert.False(refused.Succeeded, Describe(refused, appliance));
            Assert.Contains("No matching distribution found for shalpha", refused.Process.Output, StringComparison.Ordinal);
            Assert.Empty(refused.Installed);

            var page = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
            Assert.Equal(0, page.GetProperty("files").GetArrayLength());
            Assert.Equal(0, page.GetProperty("versions").GetArrayLength());

            using var file = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/packages/shalpha/shalpha-2.0-py3-none-any.whl"));
            Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
            Assert.Equal("no-upload-date", file.Headers.GetValues("X-SafeHaven-Policy").Single());
            var reason = await file.Content.ReadAsStringAsync();
            Assert.Contains("upstream gives no upload time", reason, StringComparison.Ordinal);
            Assert.Contains($"so it is held until {DateTime.UtcNow.AddDays(7):yyyy-MM-dd}", reason, StringComparison.Ordinal);

            var health = await GetJsonAsync(appliance, "healthz");
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            var coverage = health.GetProperty("mirrors").GetProperty("pypi").GetProperty("coverage");
            Assert.Equal(3, coverage.GetProperty("upstreamVersions").GetInt64());
            Assert.Equal(3, coverage.GetProperty("hidden").GetProperty("no-upload-date").GetInt64());
            Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("3 of 3", StringComparison.Ordinal)
                && p.GetString()!.Contains("'no-upload-date'", StringComparison.Ordinal));
            // Logged once for the project, not once per request (pip, the page and the file asked three times).
            Assert.Equal(1, CountOf(appliance.Log, "pypi shalpha: 3 of 3 upstream files hidden as 'no-upload-date'"));
        }

        // The same upstream with no delay: the first-seen clock is a real date, not "no date, hidden forever".
        settings["Policy:MinimumAgeDays"] = "0";
        await using (var appliance = await ApplianceProcess.StartAsync(settings))
        {
            var installed = await Pip.InstallAsync(PipClient.Debian, appliance.PyPIIndexUrl, "shalpha");
            Assert.True(installed.Succeeded, Describe(installed, appliance));
            Assert.Equal("3.0", installed.Installed["shalpha"]);
            var page = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
            Assert.All(page.GetProperty("files").EnumerateArray(), f => Assert.False(f.TryGetProperty("upload-time", out _)));
            var health = await GetJsonAsync(appliance, "healthz");
            Assert.True(health.GetProperty("status").GetString() == "healthy", health.ToString());
        }
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task At_tier_3_an_approved_project_with_nothing_visible_is_refused_with_the_real_cause()
    {
        var (nginx, root) = await StartHtmlUpstreamAsync();
        await using var server = nginx;
        var allowlist = Path.Combine(root, "allowlist-pypi.txt");
        await File.WriteAllTextAsync(allowlist, "shalpha\n");
        var settings = upstream.Settings(3);
        settings["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString();
        settings["Policy:AllowlistFiles:pypi"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var refused = await Pip.InstallAsync(PipClient.Debian, appliance.PyPIIndexUrl, "shalpha");
        Assert.False(refused.Succeeded, Describe(refused, appliance));
        Assert.Empty(refused.Installed);

        // Approved, but every file is within its first-seen quarantine: the page says so, not "not on the approved list".
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shalpha/"));
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            Assert.Equal("no-upload-date", page.Headers.GetValues("X-SafeHaven-Policy").Single());
            var body = await page.Content.ReadAsStringAsync();
            Assert.Contains("'shalpha' is approved, but none of its 3 upstream files is visible at this tier (3 no-upload-date)", body, StringComparison.Ordinal);
            Assert.DoesNotContain("not on the approved list", body, StringComparison.Ordinal);
        }
        // A project that really is not approved still says that.
        using (var other = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shlib/")))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            Assert.Equal("not-allowlisted", other.Headers.GetValues("X-SafeHaven-Policy").Single());
        }

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Equal(3, health.GetProperty("mirrors").GetProperty("pypi").GetProperty("coverage").GetProperty("hidden").GetProperty("no-upload-date").GetInt64());
        // Each decision logged once, however many requests asked.
        Assert.Equal(1, CountOf(appliance.Log, "pypi shalpha refused: tier 3: 'shalpha' is approved, but none of its 3 upstream files"));
        Assert.Equal(1, CountOf(appliance.Log, "pypi shalpha: 3 of 3 upstream files hidden as 'no-upload-date'"));
        Directory.Delete(root, recursive: true);
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static async Task<JsonElement> GetJsonAsync(ApplianceProcess appliance, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, path));
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        request.Headers.Accept.ParseAdd("application/json;q=0.5");
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}\n{appliance.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
