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

    private static async Task<JsonElement> HealthAsync(ApplianceProcess appliance) =>
        JsonDocument.Parse(await Http.GetStringAsync(new Uri(appliance.BaseUrl, "healthz"))).RootElement;

    private static IReadOnlyList<string> Problems(JsonElement health) =>
        health.TryGetProperty("problems", out var problems) ? problems.EnumerateArray().Select(p => p.GetString()!).ToList() : [];

    private static int Hidden(JsonElement health, string code) =>
        health.GetProperty("mirrors").GetProperty("cran").GetProperty("coverage").GetProperty("hidden").TryGetProperty(code, out var count) ? count.GetInt32() : 0;

    [Fact]
    public async Task Tier0_installs_the_newest_version()
    {
        // The upstream is shaped like CRAN: PACKAGES without dates, the dates in R's databases beside it.
        Assert.DoesNotContain("Date/Publication", await File.ReadAllTextAsync(Path.Combine(upstream.Root, "src", "contrib", "PACKAGES")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(upstream.Root, "web", "packages", "packages.rds")));
        Assert.True(File.Exists(Path.Combine(upstream.Root, "src", "contrib", "Meta", "archive.rds")));
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
        Assert.Equal(CranUpstreamFixture.CurrentVersions, Entries(plain).Count); // undated ones too: Tier 0 passes everything

        var health = await HealthAsync(appliance);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal(CranUpstreamFixture.CurrentVersions, health.GetProperty("mirrors").GetProperty("cran").GetProperty("coverage").GetProperty("upstreamVersions").GetInt32());
        Assert.Equal(0, Hidden(health, "no-upload-date"));
    }

    [Fact]
    public async Task Tier2_dates_versions_from_packages_rds_and_archive_rds_and_falls_back_to_archived_versions()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));

        // shbase: current 2.0-1, dated 60 days ago by packages.rds. shalpha: current 2.0 is a day old (packages.rds),
        // so the archived 1.5 stands in, dated by archive.rds. shnodate: current 1.0 is dated nowhere upstream, so
        // the archived 0.9 stands in, dated by its DESCRIPTION.
        var result = await RClient.InstallAsync(Repository(appliance), "shalpha", "shbase", "shnodate");
        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal(new Dictionary<string, string> { ["shalpha"] = "1.5", ["shbase"] = "2.0-1", ["shnodate"] = "0.9" }, result.Installed);

        // One version per package, archived ones reached through Path:; what is held back is absent.
        var entries = Entries(await GetPackagesAsync(appliance));
        Assert.Equal(("1.5", "Archive/shalpha"), entries["shalpha"]);
        Assert.Equal(("2.0-1", (string?)null), entries["shbase"]);
        Assert.Equal(("0.9", "Archive/shnodate"), entries["shnodate"]);
        Assert.Equal(("1.0", (string?)null), entries["shother"]);
        Assert.False(entries.ContainsKey("shfresh"));
        Assert.False(entries.ContainsKey("shdesc"));

        // The quarantined version: 404 with the reason, never 401.
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shalpha_2.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("quarantined", response.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("quarantined until", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The undated version: the appliance fetches it once to read its DESCRIPTION, finds no date, and holds it by first-seen.
        using var undated = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shnodate_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, undated.StatusCode);
        Assert.Equal("no-upload-date", undated.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("upstream publishes no date for shnodate_1.0.tar.gz", await undated.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // /healthz says how much is hidden for want of a date (shnodate 1.0, shdesc 1.0: 2 of 10, over the 10 % threshold).
        var health = await HealthAsync(appliance);
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains(Problems(health), p => p.StartsWith($"cran: 2 of {CranUpstreamFixture.CurrentVersions} upstream versions seen are hidden as 'no-upload-date'", StringComparison.Ordinal));
        Assert.Equal(2, Hidden(health, "no-upload-date"));
        Assert.Equal(2, Hidden(health, "quarantined")); // shalpha 2.0, shfresh 1.0

        // The log says what each date came from and why a package is missing, once per package.
        var log = appliance.Log;
        Assert.Contains("package shalpha is listed at tier 2 as archived version 1.5 (dated by its file time in src/contrib/Meta/archive.rds)", log, StringComparison.Ordinal);
        Assert.Contains("package shnodate is listed at tier 2 as archived version 0.9 (dated by Date/Publication in its DESCRIPTION)", log, StringComparison.Ordinal);
        Assert.Contains("every version of 'shfresh' is in quarantine until", log, StringComparison.Ordinal);
        Assert.Contains("shnodate_1.0.tar.gz has no Date/Publication in its DESCRIPTION", log, StringComparison.Ordinal);
        await GetPackagesAsync(appliance);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(appliance.Log, "package shfresh is not listed at tier 2"));
    }

    [Fact]
    public async Task Tier2_dates_a_version_upstream_dates_only_in_its_DESCRIPTION_once_its_tarball_is_fetched()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));
        Assert.False(Entries(await GetPackagesAsync(appliance)).ContainsKey("shdesc"));
        Assert.Contains(Problems(await HealthAsync(appliance)), p => p.StartsWith($"cran: 2 of {CranUpstreamFixture.CurrentVersions} upstream versions seen are hidden as 'no-upload-date'", StringComparison.Ordinal));

        // A direct request makes the appliance fetch and verify the tarball and read its DESCRIPTION's Date/Publication.
        using var download = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shdesc_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Contains("shdesc_1.0.tar.gz is dated", appliance.Log, StringComparison.Ordinal);

        var result = await RClient.InstallAsync(Repository(appliance), "shdesc");
        Assert.True(result.Installed.ContainsKey("shdesc"), Describe(result, appliance));
        Assert.Equal("1.0", result.Installed["shdesc"]);
        var health = await HealthAsync(appliance);
        Assert.Contains(Problems(health), p => p.StartsWith($"cran: 1 of {CranUpstreamFixture.CurrentVersions} upstream versions seen are hidden as 'no-upload-date'", StringComparison.Ordinal));
        Assert.Equal(1, Hidden(health, "no-upload-date"));
    }

    [Fact]
    public async Task Tier2_without_packages_rds_and_with_a_corrupt_archive_rds_falls_back_to_DESCRIPTION_and_first_seen_and_says_so()
    {
        // An upstream like a CRAN-like repository that publishes no package database (as most private ones), and
        // whose archive.rds is damaged: the appliance must keep serving what it can date and report the rest.
        var copy = upstream.Copy();
        try
        {
            File.Delete(Path.Combine(copy, "web", "packages", "packages.rds"));
            await File.WriteAllTextAsync(Path.Combine(copy, "src", "contrib", "Meta", "archive.rds"), "<html><body>502 Bad Gateway</body></html>");
            await using var nginx = await NginxServer.StartAsync(copy);
            var settings = upstream.Settings(2);
            settings["Mirrors:cran:Upstream"] = nginx.BaseUrl.ToString();
            await using var appliance = await ApplianceProcess.StartAsync(settings);

            // Every current version is dated only by first-seen now; archived versions by their DESCRIPTION.
            var result = await RClient.InstallAsync(Repository(appliance), "shbase");
            Assert.True(result.Installed.ContainsKey("shbase"), Describe(result, appliance));
            Assert.Equal("1.0", result.Installed["shbase"]);
            var entries = Entries(await GetPackagesAsync(appliance));
            Assert.Equal(("1.0", "Archive/shbase"), entries["shbase"]);
            Assert.Equal(("1.5", "Archive/shalpha"), entries["shalpha"]);
            Assert.Equal(("0.9", "Archive/shnodate"), entries["shnodate"]);
            Assert.Equal(3, entries.Count);

            var health = await HealthAsync(appliance);
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            Assert.Contains(Problems(health), p => p.StartsWith($"cran: {CranUpstreamFixture.CurrentVersions} of {CranUpstreamFixture.CurrentVersions} upstream versions seen are hidden as 'no-upload-date'", StringComparison.Ordinal));
            var log = appliance.Log;
            Assert.Contains("upstream src/contrib/Meta/archive.rds is not a readable R serialisation", log, StringComparison.Ordinal);
            Assert.Contains($"{CranUpstreamFixture.CurrentVersions} of {CranUpstreamFixture.CurrentVersions} current versions have no date in PACKAGES, web/packages/packages.rds (absent or unreadable)", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
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
        Assert.Equal("healthy", (await HealthAsync(appliance)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Tier3_installs_an_allowlisted_package_with_its_dependencies_and_refuses_others()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "cran.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nshapp\nshbroken\nshfresh\n");
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
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("cran: 2 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));
        using var broken = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shbroken_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, broken.StatusCode);
        Assert.Equal("dependencies-unavailable", broken.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("it needs shmissing (>= 1.0), which upstream does not have", await broken.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // An approved package with no visible version is refused for that reason, not as "not on the approved list".
        using var fresh = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/shfresh_1.0.tar.gz"));
        Assert.Equal(HttpStatusCode.NotFound, fresh.StatusCode);
        Assert.Equal("quarantined", fresh.Headers.GetValues("X-SafeHaven-Policy").Single());
        var why = await fresh.Content.ReadAsStringAsync();
        Assert.Contains("'shfresh' is approved, but every version of 'shfresh' is in quarantine until", why, StringComparison.Ordinal);
        Assert.DoesNotContain("not on the approved list", why, StringComparison.Ordinal);
        Assert.Contains("cran allowlist entry shfresh cannot be satisfied", appliance.Log, StringComparison.Ordinal);
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

        var health = await HealthAsync(appliance);
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains(Problems(health), p => p.StartsWith("cran: the last artifact fetch failed", StringComparison.Ordinal) && p.Contains(CranUpstreamFixture.TamperedFile, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_last_good_index_is_served_when_upstream_goes_down()
    {
        var settings = upstream.Settings(0);
        settings["Mirrors:cran:IndexTtlSeconds"] = "0";
        // A second upstream on a copy, so stopping it does not disturb the other tests.
        var copy = upstream.Copy();
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
