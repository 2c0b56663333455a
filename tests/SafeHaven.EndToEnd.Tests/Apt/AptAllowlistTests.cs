using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>Real <c>apt-get</c> against a Tier 3 appliance: the allowlist closed over <c>Depends</c> and <c>Pre-Depends</c>.</summary>
public sealed class AptAllowlistTests(AptAllowlistFixture fixture) : IClassFixture<AptAllowlistFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private string Describe(ProcessResult result) => $"apt said:\n{result.Output}\nappliance log:\n{fixture.Appliance.Log}";

    [Fact]
    public async Task Tier3_installs_an_allowlisted_package_with_its_dependency_closure()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl, "stable", fixture.ApplianceKeyPath);
        var update = await apt.UpdateAsync();
        Assert.True(update.ExitCode == 0 && !update.Output.Contains("E:", StringComparison.Ordinal), Describe(update));

        var install = await apt.InstallDownloadOnlyAsync("app");

        // The alternative apt takes (altlib), the provider of the virtual package (postman), the Pre-Depends and the
        // versioned dependency: everything apt needs, and nothing else.
        Assert.True(install.ExitCode == 0, Describe(install));
        Assert.Equal(["altlib_1.0_all.deb", "app_1.0_all.deb", "libgreet_1.0_all.deb", "postman_1.0_all.deb", "prelib_1.0_all.deb"], apt.Fetched());
    }

    [Fact]
    public async Task Tier3_refuses_an_unlisted_package_with_apts_own_error()
    {
        using var apt = await AptClient.CreateAsync(fixture.RepositoryUrl, "stable", fixture.ApplianceKeyPath);
        Assert.Equal(0, (await apt.UpdateAsync()).ExitCode);

        var install = await apt.InstallDownloadOnlyAsync("unlisted");

        Assert.Equal(100, install.ExitCode);
        Assert.Contains("E: Unable to locate package unlisted", install.Output, StringComparison.Ordinal);
        Assert.Empty(apt.Fetched());
        using var pool = await Http.GetAsync(new Uri(fixture.RepositoryUrl, "pool/main/unlisted_1.0_all.deb"));
        Assert.Equal(HttpStatusCode.NotFound, pool.StatusCode);
        Assert.Equal("not-allowlisted", pool.Headers.GetValues("X-SafeHaven-Policy").Single());
    }

    [Fact]
    public async Task An_approved_package_with_unsatisfiable_dependencies_is_not_listed_and_reported()
    {
        var packages = await Http.GetStringAsync(new Uri(fixture.RepositoryUrl, "dists/stable/main/binary-amd64/Packages"));
        Assert.DoesNotContain("Package: broken\n", packages, StringComparison.Ordinal);
        Assert.DoesNotContain("Package: unlisted\n", packages, StringComparison.Ordinal);
        Assert.Contains("Package: app\n", packages, StringComparison.Ordinal);

        using var api = await fixture.Appliance.CreateManagementClientAsync();
        var closure = JsonDocument.Parse(await api.GetStringAsync("api/mirrors/apt/closure")).RootElement;
        var unsatisfied = closure.GetProperty("unsatisfied").EnumerateArray().ToList();
        Assert.Contains(unsatisfied, u => u.GetProperty("root").GetString() == "broken" && u.GetProperty("requirement").GetString()!.Contains("nonexistent", StringComparison.Ordinal));
        Assert.Contains("altlib", closure.GetProperty("visible").EnumerateArray().Select(v => v.GetString()));
        Assert.DoesNotContain("missingalt", closure.GetProperty("visible").EnumerateArray().Select(v => v.GetString()));

        var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(fixture.Appliance.BaseUrl, "healthz"))).RootElement;
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("apt: 1 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));
    }
}
