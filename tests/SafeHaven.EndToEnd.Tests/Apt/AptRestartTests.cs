using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// Restart persistence: what the appliance published and signed survives a restart with the upstream gone. The
/// upstream imitates a small Debian archive signed with <c>InRelease</c> only (one suite, <c>main</c>, <c>amd64</c> and
/// <c>all</c>); it leaves out everything the appliance does not read. The appliance is killed (no orderly shutdown),
/// nginx is stopped, and the appliance is started again on the same data directory and port.
/// </summary>
public sealed class AptRestartTests
{
    private const string Suite = "stable";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task After_a_restart_without_upstream_apt_still_updates_from_the_last_signed_tree_and_healthz_shows_its_age()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-apt-restart-").FullName;
        using var upstreamKey = await AptSigningKey.CreateAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        ApplianceProcess? appliance = null;
        NginxServer? nginx = null;
        try
        {
            await new AptUpstreamBuilder(Path.Combine(root, "main"), upstreamKey).BuildAsync(Suite, [
                new("hello", "1.0", Depends: "libgreet"),
                new("libgreet", "1.2"),
            ], DateTimeOffset.UtcNow.AddDays(-30), AptSigning.InReleaseOnly);
            nginx = await NginxServer.StartAsync(root);
            appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Enabled"] = "false",
                ["Mirrors:apt:IndexTtlSeconds"] = "3600",
                ["Mirrors:apt:Repositories:main:Upstream"] = new Uri(nginx.BaseUrl, "main/").ToString(),
                ["Mirrors:apt:Repositories:main:Suites:0"] = Suite,
                ["Mirrors:apt:Repositories:main:UpstreamKeyring"] = upstreamKey.KeyringPath,
            });
            var repository = new Uri(appliance.BaseUrl, "apt/main/");
            var keyPath = Path.Combine(root, "safehaven-archive-key.asc");
            await File.WriteAllTextAsync(keyPath, await Http.GetStringAsync(new Uri(appliance.BaseUrl, "apt/safehaven-archive-key.asc")));

            using (var before = await AptClient.CreateAsync(repository, Suite, keyPath))
            {
                var first = await before.UpdateAsync();
                Assert.True(first.ExitCode == 0, first.Output + appliance.Log);
            }
            var inRelease = await Http.GetByteArrayAsync(new Uri(repository, $"dists/{Suite}/InRelease"));
            var publishedAt = SuiteHealth(await HealthAsync(appliance)).GetProperty("publishedAt").GetString();
            Assert.NotNull(publishedAt);

            await nginx.StopAsync();
            appliance = await appliance.RestartAsync(TimeSpan.FromSeconds(120));

            // The same signed bytes, and the real apt-get (a fresh client, so it fetches and verifies everything) accepts them.
            Assert.Equal(inRelease, await Http.GetByteArrayAsync(new Uri(repository, $"dists/{Suite}/InRelease")));
            using (var after = await AptClient.CreateAsync(repository, Suite, keyPath))
            {
                var update = await after.UpdateAsync();
                Assert.True(update.ExitCode == 0, update.Output + appliance.Log);
                Assert.DoesNotContain("E:", update.Output, StringComparison.Ordinal);
                Assert.DoesNotContain("W:", update.Output, StringComparison.Ordinal);
            }

            var health = await HealthAsync(appliance);
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            Assert.Contains(health.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("apt main/dists/stable: the last refresh failed", StringComparison.Ordinal));
            var suite = SuiteHealth(health);
            Assert.Equal(JsonValueKind.String, suite.GetProperty("lastFailure").ValueKind);
            Assert.False(string.IsNullOrEmpty(suite.GetProperty("lastError").GetString()));
            Assert.Equal(JsonValueKind.Null, suite.GetProperty("lastSuccess").ValueKind);
            Assert.Equal(publishedAt, suite.GetProperty("publishedAt").GetString());
            Assert.True(suite.GetProperty("publishedAgeSeconds").GetDouble() > 0);
        }
        finally
        {
            if (appliance is not null)
            {
                await appliance.DisposeAsync();
                TryDelete(appliance.DataDirectory);
            }
            if (nginx is not null)
            {
                await nginx.DisposeAsync();
            }
            TryDelete(root);
        }
    }

    private static async Task<JsonElement> HealthAsync(ApplianceProcess appliance)
    {
        // /healthz answers 503 when degraded, with the same body.
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "healthz"));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static JsonElement SuiteHealth(JsonElement health) => health.GetProperty("apt").GetProperty("suites").GetProperty($"main/dists/{Suite}");

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
