using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>Real <c>apt-get</c> against a Tier 2 appliance: a too-new version held back, an undelayed security fix served.</summary>
public sealed class AptQuarantineTests(AptQuarantineFixture fixture) : IClassFixture<AptQuarantineFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private string Describe(ProcessResult result) => $"apt said:\n{result.Output}\nappliance log:\n{fixture.Appliance.Log}";

    [Fact]
    public async Task Tier2_holds_back_a_too_new_version_and_serves_the_undelayed_security_fix()
    {
        using var apt = await AptClient.CreateAsync(
            [(fixture.RepositoryUrl("debian"), "stable"), (fixture.RepositoryUrl("security"), "stable-security")], fixture.ApplianceKeyPath);
        var update = await apt.UpdateAsync();
        Assert.True(update.ExitCode == 0 && !update.Output.Contains("E:", StringComparison.Ordinal), Describe(update));

        var install = await apt.InstallDownloadOnlyAsync("hello");

        // Upstream's newest, hello 2.0 (today), is quarantined; the security repository's fix (also today) is not,
        // and the libgreet it needs is the one out of quarantine.
        Assert.True(install.ExitCode == 0, Describe(install));
        Assert.Equal(["hello_1.0+deb1_all.deb", "libgreet_1.0_all.deb"], apt.Fetched());

        var packages = await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("debian"), "dists/stable/main/binary-amd64/Packages"));
        Assert.Contains("Package: hello\nArchitecture: all\nVersion: 1.0\n", packages, StringComparison.Ordinal);
        Assert.DoesNotContain("Version: 2.0", packages, StringComparison.Ordinal);

        using var held = await Http.GetAsync(new Uri(fixture.RepositoryUrl("debian"), "pool/main/hello_2.0_all.deb"));
        Assert.Equal(HttpStatusCode.NotFound, held.StatusCode);
        Assert.Equal("quarantined", held.Headers.GetValues("X-SafeHaven-Policy").Single());
    }

    [Fact]
    public async Task A_fix_the_debian_security_tracker_names_for_the_codename_is_fast_tracked()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("debian"), "stable", fixture.ApplianceKeyPath);
        var update = await apt.UpdateAsync();
        Assert.True(update.ExitCode == 0 && !update.Output.Contains("E:", StringComparison.Ordinal), Describe(update));

        var install = await apt.InstallDownloadOnlyAsync("libtracked1");

        // libtracked1 1.1-1+b1 was first listed today, like hello 2.0 (held back), but its source, tracked 1.1-1,
        // is the bookworm fix the tracker export in the advisories folder names.
        Assert.True(install.ExitCode == 0, Describe(install));
        Assert.Equal(["libtracked1_1.1-1+b1_all.deb"], apt.Fetched());
        var packages = await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("debian"), "dists/stable/main/binary-amd64/Packages"));
        Assert.Contains("\nSource: tracked (1.1-1)\n", packages, StringComparison.Ordinal);
        Assert.Contains("\nCodename: bookworm\n", await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("debian"), "dists/stable/Release")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_whose_dependency_is_quarantined_is_not_listed()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl("debian"), "stable", fixture.ApplianceKeyPath);
        Assert.Equal(0, (await apt.UpdateAsync()).ExitCode);

        var install = await apt.InstallDownloadOnlyAsync("needsnew");

        Assert.NotEqual(0, install.ExitCode);
        Assert.Contains("Unable to locate package needsnew", install.Output, StringComparison.Ordinal);
        using var pool = await Http.GetAsync(new Uri(fixture.RepositoryUrl("debian"), "pool/main/needsnew_1.0_all.deb"));
        Assert.Equal(HttpStatusCode.NotFound, pool.StatusCode);
        Assert.Equal("dependencies-unavailable", pool.Headers.GetValues("X-SafeHaven-Policy").Single());
        Assert.Contains("libgreet (>= 2.0)", await pool.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_refresh_keeps_serving_the_last_good_tree_and_shows_its_age()
    {
        using var before = await AptClient.CreateAsync(fixture.RepositoryUrl("flaky"), "stable", fixture.ApplianceKeyPath);
        Assert.Equal(0, (await before.UpdateAsync()).ExitCode);
        var inRelease = await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("flaky"), "dists/stable/InRelease"));

        // Upstream now publishes an InRelease nobody signed.
        await File.WriteAllTextAsync(Path.Combine(fixture.Root, "flaky", "dists", "stable", "InRelease"), "Suite: stable\nCodename: stable\n");
        JsonElement suite = default;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(fixture.Appliance.BaseUrl, "healthz"))).RootElement;
            suite = health.GetProperty("apt").GetProperty("suites").GetProperty("flaky/dists/stable").Clone();
            if (suite.GetProperty("lastFailure").ValueKind == JsonValueKind.String
                && suite.GetProperty("lastFailure").GetDateTimeOffset() > suite.GetProperty("lastSuccess").GetDateTimeOffset())
            {
                Assert.Contains(health.GetProperty("problems").EnumerateArray(),
                    p => p.GetString()!.StartsWith("apt flaky/dists/stable: the last refresh failed", StringComparison.Ordinal)
                        && p.GetString()!.Contains("serving the tree published", StringComparison.Ordinal));
                break;
            }
            await Task.Delay(250);
        }
        Assert.Contains("not valid with the configured UpstreamKeyring", suite.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // Clients keep getting the last good, signed tree.
        Assert.Equal(inRelease, await Http.GetStringAsync(new Uri(fixture.RepositoryUrl("flaky"), "dists/stable/InRelease")));
        using var after = await AptClient.CreateAsync(fixture.RepositoryUrl("flaky"), "stable", fixture.ApplianceKeyPath);
        var update = await after.UpdateAsync();
        Assert.True(update.ExitCode == 0 && !update.Output.Contains("E:", StringComparison.Ordinal), Describe(update));
        var install = await after.InstallDownloadOnlyAsync("steady");
        Assert.True(install.ExitCode == 0, Describe(install));
        Assert.Equal(["steady_1.0_all.deb"], after.Fetched());
    }
}
