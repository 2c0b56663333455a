using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary>
/// Real <c>dotnet restore</c> through the appliance from a bare upstream feed (<see cref="BareNuGetUpstreamFixture"/>):
/// packages are verified by their repository signature against the configured gallery fingerprints, dated by the
/// signature's RFC 3161 timestamp and closed over the dependencies in their <c>.nuspec</c>.
/// </summary>
[Collection(BareNuGetCollection.Name)]
public sealed class BareFeedRestoreTests(BareNuGetUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(120) };

    private static string ServiceIndex(ApplianceProcess appliance) => new Uri(appliance.BaseUrl, "nuget/v3/index.json").ToString();

    private static string Describe(DotnetRestore.Result result, ApplianceProcess appliance) =>
        $"dotnet restore said:\n{result.Process.Output}\nappliance log:\n{appliance.Log}";

    [Fact]
    public async Task Tier0_restores_signed_packages_byte_for_byte_and_refuses_a_tampered_one()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(0));

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("NuGet.Packaging", "8.0.0"), ("Microsoft.OpenApi", "2.13.0"));

        Assert.True(result.Succeeded, Describe(result, appliance));
        AssertRestoredClosure(result, "2.13.0");
        AssertSameFilesAsUpstream(result);

        // The appliance's registration now carries what it learnt from the verified packages: the signature's
        // timestamp as published, and the .nuspec's dependency groups.
        var leaf = await RegistrationLeafAsync(appliance, "nuget.packaging", "8.0.0");
        Assert.StartsWith("2026-11-10T22:45:56", leaf.GetProperty("published").GetString(), StringComparison.Ordinal);
        var dependencies = leaf.GetProperty("dependencyGroups").EnumerateArray()
            .Single(g => g.GetProperty("targetFramework").GetString() == "net10.0")
            .GetProperty("dependencies").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList();
        Assert.Contains("NuGet.Configuration", dependencies);
        Assert.Equal("SHA512", leaf.GetProperty("packageHashAlgorithm").GetString());

        var healthy = await GetJsonAsync(appliance, "healthz");
        Assert.True(healthy.GetProperty("status").GetString() == "healthy", healthy.ToString());
        Assert.Equal(0, healthy.GetProperty("mirrors").GetProperty("nuget").GetProperty("artifactIntegrityFailures").GetInt64());

        // Dapper 2.1.86 was re-zipped after signing: never restored, never stored, then no longer listed.
        var tampered = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("Dapper", "2.1.86"));
        Assert.False(tampered.Succeeded, Describe(tampered, appliance));
        Assert.False(Directory.Exists(Path.Combine(tampered.PackagesFolder, "dapper")));
        var tamperedFile = Path.Combine(upstream.Root, "v3", "flatcontainer", "dapper", "2.1.86", "dapper.2.1.86.nupkg");
        var tamperedHex = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(tamperedFile)));
        Assert.False(File.Exists(Path.Combine(appliance.DataDirectory, "blobs", "sha256", tamperedHex[..2], tamperedHex)));
        Assert.Contains("dapper 2.1.86 refused: the package content does not match its signature", appliance.Log, StringComparison.Ordinal);

        var versions = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/dapper/index.json");
        Assert.Empty(versions.GetProperty("versions").EnumerateArray());
        var again = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("Dapper", "2.1.86"));
        Assert.False(again.Succeeded);
        Assert.Matches("NU110[12]", again.Process.Output);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var nuget = health.GetProperty("mirrors").GetProperty("nuget");
        Assert.True(nuget.GetProperty("artifactIntegrityFailures").GetInt64() >= 1, health.ToString());
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("dapper.2.1.86.nupkg was refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tier2_dates_each_version_by_its_repository_signature_and_restores_on_the_first_try()
    {
        await using var appliance = await ApplianceProcess.StartAsync(upstream.Settings(2));

        // Nothing upstream says when these were published; the first restore must still succeed (the appliance
        // verifies the packages to learn their signed dates, rather than counting the quarantine from today).
        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("NuGet.Packaging", "8.0.0"), ("Microsoft.OpenApi", "*"));

        Assert.True(result.Succeeded, Describe(result, appliance));
        AssertRestoredClosure(result, "2.13.0");
        AssertSameFilesAsUpstream(result);

        var older = await RegistrationLeafAsync(appliance, "microsoft.openapi", "2.12.2");
        Assert.StartsWith("2026-08-20T20:47:26", older.GetProperty("published").GetString(), StringComparison.Ordinal);
        var versions = await GetJsonAsync(appliance, "nuget/v3/flatcontainer/microsoft.openapi/index.json");
        Assert.Equal(["2.12.2", "2.13.0"], versions.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToArray());

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.True(health.GetProperty("status").GetString() == "healthy", health.ToString());
        var coverage = health.GetProperty("mirrors").GetProperty("nuget").GetProperty("coverage");
        Assert.True(coverage.GetProperty("upstreamVersions").GetInt64() >= 10, coverage.ToString());
        Assert.Empty(coverage.GetProperty("hidden").EnumerateObject());
    }

    [Fact]
    public async Task Tier3_closes_over_nuspec_dependencies_restores_a_pinned_older_version_and_refuses_others()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "nuget.txt");
        await File.WriteAllTextAsync(allowlist, "# approved by the Referee\nNuGet.Packaging\nMicrosoft.OpenApi@[2.0.0, 3.0.0)\n");
        var settings = upstream.Settings(3);
        settings["Policy:AllowlistFiles:nuget"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings, TimeSpan.FromMinutes(3));

        // The older Microsoft.OpenApi is pinned; NuGet.Packaging's dependencies come from its .nuspec.
        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("NuGet.Packaging", "8.0.0"), ("Microsoft.OpenApi", "2.12.2"));
        Assert.True(result.Succeeded, Describe(result, appliance));
        AssertRestoredClosure(result, "2.12.2");
        Assert.Matches(@"nuget allowlist closure: 2 approved[^,]*, 9 visible, 0 unsatisfied", appliance.Log);

        var refused = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("System.CommandLine", "2.0.0"));
        Assert.False(refused.Succeeded);
        Assert.Contains("NU1101", refused.Process.Output, StringComparison.Ordinal);
        using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/system.commandline/index.json"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("not-allowlisted", page.Headers.GetValues("X-SafeHaven-Policy").Single());

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.True(health.GetProperty("status").GetString() == "healthy", health.ToString());
        Assert.Equal(0, health.GetProperty("mirrors").GetProperty("nuget").GetProperty("closure").GetProperty("unsatisfied").GetInt32());
    }

    [Fact]
    public async Task Without_trusted_signers_a_bare_feed_lists_nothing_and_says_why()
    {
        var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "nuget.txt");
        await File.WriteAllTextAsync(allowlist, "NuGet.Packaging\n");
        var settings = upstream.Settings(3, trustGallery: false);
        settings["Policy:AllowlistFiles:nuget"] = allowlist;
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var result = await DotnetRestore.RunAsync(ServiceIndex(appliance), ("NuGet.Packaging", "8.0.0"));
        Assert.False(result.Succeeded);
        Assert.Matches("NU110[12]", result.Process.Output);
        Assert.False(Directory.Exists(Path.Combine(result.PackagesFolder, "nuget.packaging")));

        // The refusal names its real cause: approved, but nothing of it can be verified.
        using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "nuget/v3/flatcontainer/nuget.packaging/index.json"));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        var body = await page.Content.ReadAsStringAsync();
        Assert.Contains("is on the approved list, but no version of it is visible", body, StringComparison.Ordinal);
        Assert.Contains("no trusted signers are configured", body, StringComparison.Ordinal);

        var health = await GetJsonAsync(appliance, "healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var problems = health.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains("hidden as 'unverifiable'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("nuget: 1 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));
        // Logged once for the package, however often it is asked for.
        Assert.Single(appliance.Log.Split('\n'), l => l.Contains("nuget.packaging: 1 of 1 versions hidden as 'unverifiable'", StringComparison.Ordinal));
    }

    /// <summary>NuGet.Packaging's net10.0 closure was restored, with the given Microsoft.OpenApi, and nothing else.</summary>
    private static void AssertRestoredClosure(DotnetRestore.Result result, string openApiVersion)
    {
        foreach (var (id, version) in BareNuGetUpstreamFixture.PackagingClosure)
        {
            Assert.True(result.Restored.TryGetValue(id, out var restored), $"{id} was not restored: {string.Join(", ", result.Restored)}");
            Assert.Equal(version, restored);
        }
        Assert.Equal(openApiVersion, result.Restored["Microsoft.OpenApi"]);
        Assert.Equal(BareNuGetUpstreamFixture.PackagingClosure.Length + 1, result.Restored.Count);
    }

    /// <summary>Every restored package is byte for byte the signed original (the client's own SHA-512 record of it).</summary>
    private void AssertSameFilesAsUpstream(DotnetRestore.Result result)
    {
        foreach (var (id, version) in result.Restored)
        {
            var lower = id.ToLowerInvariant();
            var original = upstream.Originals[(lower, version)];
            var recorded = File.ReadAllText(Path.Combine(result.PackagesFolder, lower, version, $"{lower}.{version}.nupkg.sha512"));
            Assert.Equal(Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(original))), recorded);
        }
    }

    private static async Task<JsonElement> RegistrationLeafAsync(ApplianceProcess appliance, string lowerId, string version)
    {
        var registration = await GetJsonAsync(appliance, $"nuget/v3/registration/{lowerId}/index.json");
        return registration.GetProperty("items").EnumerateArray().SelectMany(p => p.GetProperty("items").EnumerateArray())
            .Select(l => l.GetProperty("catalogEntry"))
            .Single(e => e.GetProperty("version").GetString() == version);
    }

    private static async Task<JsonElement> GetJsonAsync(ApplianceProcess appliance, string path)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}\n{appliance.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
