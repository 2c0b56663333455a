using System.Net;
using System.Text.Json;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>Real rattler against a Tier 3 appliance: the allowlist closed over <c>depends</c>.</summary>
public sealed class CondaAllowlistTests(CondaAllowlistFixture fixture) : IClassFixture<CondaAllowlistFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Tier3_solves_an_allowlisted_package_with_the_dependencies_it_needs()
    {
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "app");

        // libapp and zlib are on no allowlist; app needs them, so they are served.
        CondaAssert.Solved(fixture, solved, "app 1.0", "libapp 1.3", "zlib 1.2.13");
        await CondaAssert.DownloadsIntactAsync(fixture, "conda-forge", solved);
    }

    [Fact]
    public async Task Tier3_refuses_an_unlisted_package_with_rattlers_own_error()
    {
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "unrelated");

        Assert.False(solved.Succeeded, solved.Process.Output);
        Assert.Contains("No candidates were found for unrelated", solved.Process.StandardError, StringComparison.Ordinal);
        var noarch = CondaAssert.Records(await CondaAssert.RepodataAsync(fixture, "conda-forge", "noarch"));
        // (broken, approved but unsatisfiable, is listed: clients fail on its dependency with their own message.)
        Assert.Contains("app-1.0-pyh0_0.conda", noarch.Keys);
        Assert.DoesNotContain(CondaAllowlistFixture.Unrelated.FileName, noarch.Keys);
        using var direct = await Http.GetAsync(fixture.ChannelFileUrl("conda-forge", "noarch/" + CondaAllowlistFixture.Unrelated.FileName));
        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
    }

    [Fact]
    public async Task An_approved_package_with_an_unsatisfiable_dependency_is_reported()
    {
        using var api = await fixture.Appliance.CreateManagementClientAsync();
        var closure = JsonDocument.Parse(await api.GetStringAsync("api/mirrors/conda/closure")).RootElement;

        var unsatisfied = closure.GetProperty("unsatisfied").EnumerateArray().ToList();
        Assert.Contains(unsatisfied, u => u.GetProperty("root").GetString() == "broken" && u.GetProperty("requirement").GetString()!.Contains("nonexistent", StringComparison.Ordinal));
        var visible = closure.GetProperty("visible").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Contains("libapp", visible);
        Assert.Contains("zlib", visible);
        Assert.DoesNotContain("unrelated", visible);

        var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(fixture.Appliance.BaseUrl, "healthz"))).RootElement;
        Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("conda: 1 allowlist dependencies cannot be satisfied", StringComparison.Ordinal));
    }
}
