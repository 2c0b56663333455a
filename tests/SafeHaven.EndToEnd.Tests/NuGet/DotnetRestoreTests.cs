using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary>Real <c>dotnet restore</c> against the running appliance, at every tier, with a real static NuGet v3 upstream.</summary>
[Collection(NuGetCollection.Name)]
public sealed class DotnetRestoreTests(NuGetUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private static string ServiceIndex(ApplianceProcess appliance) => new Uri(appliance.BaseUrl, "nuget/v3/index.json").ToString();

    private static string Describe(DotnetRestore.Result result, ApplianceProcess appliance) =>
        $"dotnet restore said:\n{result.Process.Output}\nappliance log:\n{appliance.Log}";

    [Fact]
    public async Task Tier0_restores_the_newest_versions_including_a_paged_registration_verified_by_its_catalog_leaf()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShAlpha", "*"), ("ShPaged", "*"));

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("3.0.0", result.Restored["ShAlpha"]);
        Assert.Equal("2.0.0", result.Restored["ShPaged"]);

        // The service index names the appliance's own absolute URLs, never the upstream.
        var index = await GetJsonAsync(appliance, "nuget/v3/index.json");
        var resources = index.GetProperty("resources").EnumerateArray().ToList();
        Assert.Contains(resources, r => r.GetProperty("@type").GetString() == "PackageBaseAddress/3.0.0"
            && r.GetProperty("@id").GetString() == new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/").ToString());
        Assert.Contains(resources, r => r.GetProperty("@type").GetString() == "RegistrationsBaseUrl/3.6.0");
        Assert.Contains(resources, r => r.GetProperty("@type").GetString() == "SearchQueryService");
        var registration = await Http.GetStringAsync(new Uri(appliance.BaseUrl, "nuget/v3/registration/shalpha/index.json"));
        Assert.DoesNotContain($"127.0.0.1:{upstream.Nginx.Port}", registration, StringComparison.Ordinal);

        // The .nuspec the flat container serves comes from the stored, verified package.
        var nuspec = await Http.GetStringAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shalpha/3.0.0/shalpha.nuspec"));
        Assert.Contains("<version>3.0.0</version>", nuspec, StringComparison.Ordinal);

        // Search answers over the ids cached so far.
        var search = await GetJsonAsync(appliance, "nuget/v3/query?q=shal&prerelease=false");
        Assert.Equal(1, search.GetProperty("totalHits").GetInt32());
        var hit = search.GetProperty("data").EnumerateArray().Single();
        Assert.Equal("ShAlpha", hit.GetProperty("id").GetString());
        Assert.Equal("3.0.0", hit.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Tier2_restores_the_newest_version_past_the_quarantine_and_hides_the_fresh_one()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShAlpha", "*"));
        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("2.0.0", result.Restored["ShAlpha"]);

        // Absent from the version list and the registration.
        var versions = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/shalpha/index.json");
        Assert.Equal(["1.0.0", "2.0.0"], versions.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        var registration = await GetJsonAsync(appliance, "nuget/v3/registration/shalpha/index.json");
        var leaves = registration.GetProperty("items").EnumerateArray().SelectMany(p => p.GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal(["1.0.0", "2.0.0"], leaves.Select(l => l.GetProperty("catalogEntry").GetProperty("version").GetString()!).ToArray());
        Assert.All(leaves, l => Assert.StartsWith(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/").ToString(), l.GetProperty("packageContent").GetString(), StringComparison.Ordinal));

        // A direct request for the hidden package: 404 with the reason, never 401.
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shalpha/3.0.0/shalpha.3.0.0.nupkg"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("quarantined", response.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("quarantined until", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Every listed version can be downloaded, and matches upstream's SHA-512.
        var bytes = await Http.GetByteArrayAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shalpha/1.0.0/shalpha.1.0.0.nupkg"));
        Assert.Equal(SHA512.HashData(await File.ReadAllBytesAsync(Path.Combine(upstream.Root, "v3", "flatcontainer", "shalpha", "1.0.0", "shalpha.1.0.0.nupkg"))), SHA512.HashData(bytes));

        // A pinned request for the hidden version fails restore with NuGet's own error.
        var pinned = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShAlpha", "[3.0.0]"));
        Assert.False(pinned.Succeeded);
        Assert.Contains("NU1102", pinned.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tier2_fast_tracks_a_fresh_version_that_fixes_an_OSV_advisory()
    {
        var settings = upstream.Settings(2);
        var advisories = Directory.CreateTempSubdirectory("safehaven-osv-").FullName;
        await File.WriteAllTextAsync(Path.Combine(advisories, "GHSA-0000-sh00-nu01.json"), NuGetUpstreamFixture.Advisory);
        settings["Policy:AdvisoriesDirectory"] = advisories;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShFixed", "*"));

        Assert.True(result.Succeeded, Describe(result, appliance));
        Assert.Equal("1.1.0", result.Restored["ShFixed"]);
        // The same freshness without an advisory stays hidden (ShAlpha 3.0.0 is one day old too).
        var versions = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/shalpha/index.json");
        Assert.DoesNotContain("3.0.0", versions.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Tier3_restores_an_allowlisted_package_with_its_unlisted_dependency_and_refuses_others()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "nuget.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nShApp\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:nuget"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var restored = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShApp", "*"));
        Assert.True(restored.Succeeded, Describe(restored, appliance));
        Assert.Equal("1.0.0", restored.Restored["ShApp"]);
        // The lowest version in range, as NuGet picks (0.9.0 is out of range, 1.1.0 in quarantine).
        Assert.Equal("1.0.0", restored.Restored["ShLib"]);
        Assert.Equal(2, restored.Restored.Count);

        // A project pinning the older ShApp gets its own dependencies: the closure follows every visible version.
        var pinned = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShApp", "[0.9.0]"));
        Assert.True(pinned.Succeeded, Describe(pinned, appliance));
        Assert.Equal("0.9.0", pinned.Restored["ShApp"]);
        Assert.Equal("1.0.0", pinned.Restored["ShLegacy"]);

        var refused = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShOther", "1.0.0"));
        Assert.False(refused.Succeeded);
        Assert.Contains("NU1101", refused.Process.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(refused.PackagesFolder, "shother")));

        using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shother/index.json"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("not-allowlisted", page.Headers.GetValues("X-SafeHaven-Policy").Single());

        // The closure follows every dependency group (ShWin only for net48), and search lists exactly it.
        // (The closure report under /api/ needs a management token; the job's log and search show the same.)
        Assert.Matches(@"nuget allowlist closure: 1 approved[^,]*, 4 visible, 0 unsatisfied", appliance.Log);
        var win = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/shwin/index.json");
        Assert.Equal(["1.0.0"], win.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());
        var search = await GetJsonAsync(appliance, "nuget/v3/query?q=&take=10");
        Assert.Equal(["ShApp", "ShLegacy", "ShLib", "ShWin"], search.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("id").GetString()!).ToArray());
    }

    [Fact]
    public async Task Tier3_reports_an_allowlisted_package_whose_dependencies_cannot_be_satisfied()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "nuget.txt");
        await File.WriteAllTextAsync(allowlist, "ShBroken\nShApp\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:nuget"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        // The closure report under /api/ needs a management token; the closure job's log and /healthz say the same.
        Assert.Contains("nuget allowlist entry shbroken cannot be satisfied: shbroken -> shmissing needs shmissing [1.0.0, ): upstream has no package 'shmissing'",
            appliance.Log, StringComparison.Ordinal);
        Assert.Matches(@"nuget allowlist closure: 2 approved[^,]*, 5 visible, 1 unsatisfied", appliance.Log);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("nuget: 1 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));

        // The broken package itself is still approved and visible; its missing dependency makes restore fail with NuGet's own error.
        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShBroken", "1.0.0"));
        Assert.False(result.Succeeded);
        Assert.Contains("NU1101", result.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tampered_upstream_package_is_never_restored_stored_or_served()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShTampered", "1.0.0"));
        Assert.False(result.Succeeded, Describe(result, appliance));
        Assert.False(Directory.Exists(Path.Combine(result.PackagesFolder, "shtampered", "1.0.0")) &&
            Directory.EnumerateFiles(Path.Combine(result.PackagesFolder, "shtampered", "1.0.0"), "*.nupkg").Any());

        // Refused once (502 to the client that asked), then no longer listed: a direct request is a 404 with the reason.
        Assert.Contains("shtampered 1.0.0 refused: its SHA-512 is", appliance.Log, StringComparison.Ordinal);
        var url = new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shtampered/1.0.0/shtampered.1.0.0.nupkg");
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("unverifiable", response.Headers.GetValues("X-SafeHaven-Policy").Single());
            Assert.Contains("upstream's index gives", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var versions = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/shtampered/index.json");
        Assert.Empty(versions.GetProperty("versions").EnumerateArray());
        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("mirrors").GetProperty("nuget").GetProperty("artifactIntegrityFailures").GetInt64() >= 1);
        var tamperedHash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(upstream.Root, "v3", "flatcontainer", "shtampered", "1.0.0", "shtampered.1.0.0.nupkg"))));
        Assert.Empty(Directory.EnumerateFiles(appliance.DataDirectory, tamperedHash, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_different_file_later_served_for_a_verified_version_is_refused_by_the_pin()
    {
        // A private upstream this test can change: a compromised upstream can replace a file and its hash together.
        await using var @private = await PrivateUpstream.StartAsync(upstream, "repinned");
        var (root, nginx, appliance) = (@private.Root, @private.Nginx, @private.Appliance);

        var first = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShLib", "[0.9.0]"));
        Assert.True(first.Succeeded, Describe(first, appliance));
        var original = Path.Combine(root, "v3", "flatcontainer", "shlib", "0.9.0", "shlib.0.9.0.nupkg");
        var storedHex = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(original)));

        // Upstream now serves another ShLib 0.9.0 and publishes its hash; the appliance's stored copy is gone
        // (a lost disk, a pruned store), so it has to fetch again.
        var originalSha512 = Convert.ToBase64String(SHA512.HashData(await File.ReadAllBytesAsync(original)));
        await new NuGetUpstreamBuilder(root, nginx.BaseUrl)
            .Add(new TinyNuGetPackage("ShLib", "0.9.0", NuGetUpstreamFixture.Now.AddDays(-90), [new TinyNuGetGroup("netstandard2.0", [("ShOther", "[1.0.0, )")])]))
            .WriteAsync();
        var replacementSha512 = Convert.ToBase64String(SHA512.HashData(await File.ReadAllBytesAsync(original)));
        Assert.NotEqual(originalSha512, replacementSha512);

        // While the pinned copy is stored, it is what is served and what the registration states (the one pin,
        // shared with every mirror, carries its SHA-512); the replacement is reported on /healthz and in the audit log.
        var leaf = (await GetJsonAsync(appliance, "nuget/v3/registration/shlib/index.json"))
            .GetProperty("items").EnumerateArray().SelectMany(p => p.GetProperty("items").EnumerateArray())
            .Select(l => l.GetProperty("catalogEntry")).Single(e => e.GetProperty("version").GetString() == "0.9.0");
        Assert.Equal(originalSha512, leaf.GetProperty("packageHash").GetString());
        Assert.Equal("SHA512", leaf.GetProperty("packageHashAlgorithm").GetString());
        using (var served = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shlib/0.9.0/shlib.0.9.0.nupkg")))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal(storedHex, Convert.ToHexStringLower(SHA256.HashData(await served.Content.ReadAsByteArrayAsync())));
        }
        var alarmed = await GetJsonAsync(appliance, "healthz");
        Assert.Contains("upstream replaced the published file shlib.0.9.0.nupkg", alarmed.ToString(), StringComparison.Ordinal);
        using (var management = await appliance.CreateManagementClientAsync())
        {
            var audit = JsonDocument.Parse(await management.GetStringAsync("api/audit?action=mirror.upstream.file-replaced")).RootElement;
            var entry = Assert.Single(audit.EnumerateArray());
            Assert.Equal("nuget/shlib.0.9.0.nupkg", entry.GetProperty("target").GetString());
            Assert.Contains(Convert.ToHexStringLower(Convert.FromBase64String(replacementSha512)), entry.GetProperty("details").GetProperty("offered").GetString(), StringComparison.Ordinal);
        }

        File.Delete(Path.Combine(appliance.DataDirectory, "blobs", "sha256", storedHex[..2], storedHex));

        var url = new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shlib/0.9.0/shlib.0.9.0.nupkg");
        using (var refused = await Http.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            Assert.Contains("upstream now serves a different file", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var hidden = await Http.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            Assert.Equal("unverifiable", hidden.Headers.GetValues("X-SafeHaven-Policy").Single());
        }
        Assert.Contains("shlib 0.9.0 refused: upstream now serves a different file", appliance.Log, StringComparison.Ordinal);
        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Equal(1, health.GetProperty("mirrors").GetProperty("nuget").GetProperty("artifactIntegrityFailures").GetInt64());
    }

    [Fact]
    public async Task Upstream_down_or_answering_garbage_keeps_serving_the_last_good_copy_marked_stale()
    {
        // A private upstream this test can break.
        await using var @private = await PrivateUpstream.StartAsync(upstream, "breakable");
        var (root, nginx, appliance) = (@private.Root, @private.Nginx, @private.Appliance);

        var first = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShAlpha", "*"));
        Assert.True(first.Succeeded, Describe(first, appliance));

        // Garbage from upstream: the previous registration is still served, marked stale.
        await File.WriteAllTextAsync(Path.Combine(root, "v3", "registration", "shalpha", "index.json"), "{\"items\": [ garbage");
        using (var stale = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shalpha/index.json")))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Contains("not valid JSON", stale.Headers.GetValues("X-SafeHaven-Stale").Single(), StringComparison.Ordinal);
            Assert.Contains("3.0.0", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Upstream gone: restore still works from what is cached and stored.
        await nginx.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(6)); // past the failure back-off, so the appliance really tries upstream again
        var second = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("ShAlpha", "*"));
        Assert.True(second.Succeeded, Describe(second, appliance));
        Assert.Equal("3.0.0", second.Restored["ShAlpha"]);
        Assert.Contains("nuget upstream refresh of registration:shalpha failed", appliance.Log, StringComparison.Ordinal);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("mirrors").GetProperty("nuget").GetProperty("staleResponses").GetInt64() >= 1);

        // A package never cached cannot be served: a clear 502, not an empty list.
        using var missing = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/shother/index.json"));
        Assert.Equal(HttpStatusCode.BadGateway, missing.StatusCode);
    }

    /// <summary>
    /// An upstream of this test's own (the fixture's packages in a folder of its own, behind its own nginx), with an
    /// appliance at Tier 0 that re-reads every index, for tests that change or break upstream.
    /// </summary>
    private sealed class PrivateUpstream : IAsyncDisposable
    {
        private PrivateUpstream(string root, NginxServer nginx, ApplianceProcess appliance) => (Root, Nginx, Appliance) = (root, nginx, appliance);

        public string Root { get; }
        public NginxServer Nginx { get; }
        public ApplianceProcess Appliance { get; }

        public static async Task<PrivateUpstream> StartAsync(NuGetUpstreamFixture upstream, string purpose)
        {
            var root = Directory.CreateTempSubdirectory($"safehaven-nuget-{purpose}-").FullName;
            var nginx = await NginxServer.StartAsync(root);
            try
            {
                var settings = upstream.Settings(0);
                settings["Mirrors:nuget:Upstream"] = await NuGetUpstreamFixture.BuildAsync(root, nginx.BaseUrl);
                settings["Mirrors:nuget:IndexTtlSeconds"] = "0";
                return new PrivateUpstream(root, nginx, await ApplianceProcess.StartAsync(settings));
            }
            catch
            {
                await nginx.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Appliance.DisposeAsync();
            await Nginx.DisposeAsync();
            Directory.Delete(Root, recursive: true);
        }
    }

    private static async Task<JsonElement> GetJsonAsync(ApplianceProcess appliance, string path)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}\n{appliance.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
