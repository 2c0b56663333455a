using System.IO.Compression;
using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Cran;

/// <summary>Real R (<c>install.packages</c>) against the running appliance, at every tier, with a real static CRAN-like upstream.</summary>
[Collection(CranCollection.Name)]
public sealed class RInstallTests(CranUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private static string Repository(ApplianceProcess appliance) => $"http://127.0.0.1:{appliance.Port}/cran";

    private static string Describe(RClient.InstallResult result, ApplianceProcess appliance) =>
        $"R said:\n{result.Process.Output}\nappliance log:\n{appliance.Log}";

    private static async Task<string> GetPackagesAsync(ApplianceProcess appliance)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/PACKAGES"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The <c>Version</c> and <c>Path</c> of each package in <c>PACKAGES</c>.</summary>
    private static Dictionary<string, (string Version, string? Path)> Entries(string packages) =>
        packages.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(record =>
        {
            var fields = record.Split('\n').Where(l => l.Contains(':', StringComparison.Ordinal) && !char.IsWhiteSpace(l[0]))
                .ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)], l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
            return (Name: fields["Package"], Version: fields["Version"], Path: fields.GetValueOrDefault("Path"));
        }).ToDictionary(e => e.Name, e => (e.Version, e.Path));

    [Fact]
    public async Task Tier0_installs_the_newest_version()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await RClient.InstallAsync(Repository(appliance), "shalpha");

        Assert.True(result.Installed.ContainsKey("shalpha"), Describe(result, appliance));
        Assert.Equal("2.0", result.Installed["shalpha"]);

        // PACKAGES.gz is the same index; PACKAGES.rds answers a clean 404 so that R falls back.
        var plain = await GetPackagesAsync(appliance);
        await using (var gz = new GZipStream(await Http.GetStreamAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/PACKAGES.gz")), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
        {
            Assert.Equal(plain, await reader.ReadToEndAsync());
        }
        using var rds = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/PACKAGES.rds"));
        Assert.Equal(HttpStatusCode.NotFound, rds.StatusCode);
        Assert.All(Entries(plain).Values, e => Assert.Null(e.Path));
    }

    [Fact]
    public async Task Tier2_installs_an_older_archived_version_when_the_newest_is_too_new()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));

        var result = await RClient.InstallAsync(Repository(appliance), "shalpha");
        Assert.True(result.Installed.ContainsKey("shalpha"), Describe(result, appliance));
        Assert.Equal("1.5", result.Installed["shalpha"]);

        // One version per package: the newest archived one past the quarantine, reached through Path:.
        var entries = Entries(await GetPackagesAsync(appliance));
        Assert.Equal(("1.5", "Archive/shalpha"), entries["shalpha"]);
        Assert.Equal(("2.0-1", (string?)null), entries["shbase"]);

        // The quarantined version: 404 with the reason, never 401.
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shalpha_2.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("quarantined", response.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("quarantined until", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archived_version_is_reached_through_its_archive_url()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await RClient.InstallUrlAsync($"{Repository(appliance)}/src/contrib/Archive/shalpha/shalpha_1.0.tar.gz");

        Assert.True(result.Installed.ContainsKey("shalpha"), Describe(result, appliance));
        Assert.Equal("1.0", result.Installed["shalpha"]);
        using var missing = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/Archive/shalpha/shalpha_0.9.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Tier3_installs_an_allowlisted_package_with_its_dependencies_and_refuses_others()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "cran.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nshapp\nshbroken\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:cran"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var installed = await RClient.InstallAsync(Repository(appliance), "shapp");
        Assert.True(installed.Installed.ContainsKey("shapp"), Describe(installed, appliance));
        Assert.Equal("1.0", installed.Installed["shapp"]);
        Assert.Equal("2.0-1", installed.Installed["shbase"]); // Imports
        Assert.Equal("1.0", installed.Installed["shlink"]); // LinkingTo
        Assert.Equal(3, installed.Installed.Count); // not Suggests

        var refused = await RClient.InstallAsync(Repository(appliance), "shother");
        Assert.Empty(refused.Installed);
        Assert.Contains("package ‘shother’ is not available", refused.Process.Output, StringComparison.Ordinal);

        using var download = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shother_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.Equal("not-allowlisted", download.Headers.GetValues("X-SafeHaven-Policy").Single());

        // PACKAGES lists the closure, without the approved package whose dependency cannot be satisfied.
        Assert.Equal(["shapp", "shbase", "shlink"], Entries(await GetPackagesAsync(appliance)).Keys.Order(StringComparer.Ordinal));

        // The reason is reported: in the log by the closure job, on /healthz, and on a direct download.
        Assert.Contains("cran allowlist entry shbroken cannot be satisfied: shbroken -> shmissing needs shmissing >= 1.0: upstream has no package 'shmissing'",
            appliance.Log, StringComparison.Ordinal);
        var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(appliance.BaseUrl, "healthz"))).RootElement;
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("cran: 1 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));
        using var broken = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shbroken_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, broken.StatusCode);
        Assert.Equal("dependencies-unavailable", broken.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("it needs shmissing (>= 1.0), which upstream does not have", await broken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_upstream_tarball_is_never_installed_or_served()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await RClient.InstallAsync(Repository(appliance), "shtampered");
        Assert.False(result.Installed.ContainsKey("shtampered"), Describe(result, appliance));

        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, $"cran/src/contrib/{CranUpstreamFixture.TamperedFile}"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("does not match the hash its index gives (expected MD5", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_last_good_index_is_served_when_upstream_goes_down()
    {
        var settings = upstream.Settings(0);
        settings["Mirrors:cran:IndexTtlSeconds"] = "0";
        // A second upstream on a copy, so stopping it does not disturb the other tests.
        var copy = Directory.CreateTempSubdirectory("safehaven-cran-copy-").FullName;
        foreach (var file in Directory.EnumerateFiles(upstream.Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(upstream.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        await using var nginx = await NginxServer.StartAsync(copy);
        settings["Mirrors:cran:Upstream"] = nginx.BaseUrl.ToString();
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var before = await GetPackagesAsync(appliance);
        await nginx.StopAsync();

        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/PACKAGES"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("X-SafeHaven-Stale"), appliance.Log);
        Directory.Delete(copy, recursive: true);
    }
}
