using System.Globalization;
using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Cran;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Snapshots;

/// <summary>
/// A Tier 3 CRAN mirror synced by its cron schedule from a static upstream shaped like real CRAN (packages built with
/// <c>R CMD build</c>, <c>PACKAGES</c> by <c>tools::write_PACKAGES</c> with default fields, so no <c>Date/Publication</c>;
/// the dates in R's <c>packages.rds</c> and <c>archive.rds</c>; served by nginx). Left out on purpose: binary packages,
/// <c>current.rds</c> and the web pages (see <see cref="CranUpstreamBuilder"/>). The upstream is stopped and real R
/// installs from the prefetched snapshot; then the upstream comes back with a new version, and the snapshot's id URL
/// keeps serving the old one while the live URL serves the new one.
/// </summary>
public sealed class CranScheduledSyncTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private readonly string _before = Directory.CreateTempSubdirectory("safehaven-cran-sync-a-").FullName;
    private readonly string _after = Directory.CreateTempSubdirectory("safehaven-cran-sync-b-").FullName;
    private readonly string _allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-cran-sync-allow-").FullName, "cran.txt");

    public async Task InitializeAsync()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-60);
        var newer = DateTimeOffset.UtcNow.AddDays(-30);
        await new CranUpstreamBuilder(_before).BuildAsync([
            new("shsync", "1.0", old, Imports: "shsyncdep"),
            new("shsyncdep", "1.0", old),
            new("shsyncother", "1.0", old),
        ]);
        // The same upstream a month on: shsync 1.1 published (old enough for the quarantine), 1.0 archived.
        await new CranUpstreamBuilder(_after).BuildAsync([
            new("shsync", "1.0", old, Archived: true, Imports: "shsyncdep"),
            new("shsync", "1.1", newer, Imports: "shsyncdep"),
            new("shsyncdep", "1.0", old),
            new("shsyncother", "1.0", old),
        ]);
        await File.WriteAllTextAsync(_allowlist, "# approved by the Referee\nshsync\n");
    }

    public Task DisposeAsync()
    {
        foreach (var directory in new[] { _before, _after, Path.GetDirectoryName(_allowlist)! })
        {
            Directory.Delete(directory, recursive: true);
        }
        return Task.CompletedTask;
    }

    private static async Task<JsonElement> SnapshotHealthAsync(ApplianceProcess appliance)
    {
        var health = JsonDocument.Parse(await Http.GetStringAsync(new Uri(appliance.BaseUrl, "healthz"))).RootElement;
        return health.GetProperty("snapshots").GetProperty("cran");
    }

    private static string? CurrentId(JsonElement cran) =>
        cran.TryGetProperty("current", out var current) && current.ValueKind == JsonValueKind.Object ? current.GetProperty("id").GetString() : null;

    private static async Task<T> WaitForAsync<T>(ApplianceProcess appliance, Func<Task<T?>> probe, string what, TimeSpan timeout) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; appliance log:\n{appliance.Log}");
            }
            await Task.Delay(500);
        }
    }

    private static async Task<string> PackagesAsync(ApplianceProcess appliance, string prefix)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, prefix + "src/contrib/PACKAGES"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Tier3_scheduled_sync_serves_R_with_upstream_down_and_keeps_the_old_snapshot_by_id()
    {
        var upstream = await NginxServer.StartAsync(_before);
        var port = upstream.Port;
        try
        {
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "3",
                ["Mirrors:pypi:Enabled"] = "false",
                ["Mirrors:cran:Upstream"] = upstream.BaseUrl.ToString(),
                ["Mirrors:cran:Sync:Schedule"] = "0/5 * * * * ?",
                ["Policy:AllowlistFiles:cran"] = _allowlist,
                ["Policy:MinimumAgeDays"] = "7",
                ["Policy:MaximumLagDays"] = "42",
            });

            // The cron schedule (every 5 s) takes the first snapshot: PACKAGES, PACKAGES.gz and the closure's two tarballs.
            await WaitForAsync(appliance, async () => CurrentId(await SnapshotHealthAsync(appliance)), "the first scheduled snapshot", TimeSpan.FromSeconds(120));
            var cran = await SnapshotHealthAsync(appliance);
            Assert.Equal("0/5 * * * * ?", cran.GetProperty("schedule").GetString());
            Assert.Equal(2, cran.GetProperty("current").GetProperty("artifacts").GetInt32());
            Assert.Equal(2, cran.GetProperty("current").GetProperty("documents").GetInt32());

            // The management API: the sync state for oversight roles; a sync on demand for the System Manager only.
            using (var manager = await appliance.CreateManagementClientAsync())
            using (var programme = await appliance.CreateManagementClientAsync("programme", "ProgrammeManager"))
            {
                var listed = JsonDocument.Parse(await programme.GetStringAsync("api/sync")).RootElement.GetProperty("snapshots");
                Assert.Equal("cran", Assert.Single(listed.EnumerateArray()).GetProperty("ecosystem").GetString());
                using (var refused = await programme.PostAsync("api/sync/cran", null))
                {
                    Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                }
                using (var unknown = await manager.PostAsync("api/sync/pypi", null))
                {
                    Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
                    Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
                    Assert.Contains("'pypi' is not a synced mirror of this appliance (synced: cran)", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
                using var started = await manager.PostAsync("api/sync/cran", null);
                // The 5-second schedule may be mid-run: then the request is refused as a conflict, never queued.
                if (started.StatusCode == HttpStatusCode.Conflict)
                {
                    Assert.Contains("a sync of cran is already running", await started.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
                    Assert.Equal("/api/sync/cran", started.Headers.Location?.OriginalString);
                }
                var one = JsonDocument.Parse(await manager.GetStringAsync("api/sync/cran")).RootElement;
                Assert.NotNull(CurrentId(one));
            }

            // Upstream goes away. The next scheduled runs fail; the last good snapshot stays current.
            await upstream.StopAsync();
            var stoppedAt = DateTimeOffset.UtcNow;
            var error = await WaitForAsync(appliance, async () =>
            {
                var state = await SnapshotHealthAsync(appliance);
                return state.TryGetProperty("lastFailure", out var at) && at.ValueKind == JsonValueKind.String
                    && DateTimeOffset.Parse(at.GetString()!, CultureInfo.InvariantCulture) > stoppedAt ? state.GetProperty("lastError").GetString() : null;
            }, "a sync to fail with upstream stopped", TimeSpan.FromSeconds(60));
            Assert.False(string.IsNullOrWhiteSpace(error));
            // The snapshot current now (the first one, or a later scheduled one taken before the stop) stays current
            // through every failing run: checked again after R's install below.
            var kept = CurrentId(await SnapshotHealthAsync(appliance))!;

            // Real R installs the allowlisted package and its dependency from the snapshot, with no upstream at all.
            var repository = $"http://127.0.0.1:{appliance.Port}/cran";
            var installed = await RClient.InstallAsync(repository, "shsync");
            Assert.True(installed.Succeeded, $"R said:\n{installed.Process.Output}\nappliance log:\n{appliance.Log}");
            Assert.Equal(new Dictionary<string, string> { ["shsync"] = "1.0", ["shsyncdep"] = "1.0" }, installed.Installed);
            Assert.Equal(kept, CurrentId(await SnapshotHealthAsync(appliance)));

            // Upstream comes back, a month on, with shsync 1.1; the schedule syncs it.
            upstream = await NginxServer.StartAsync(_after, port: port);
            await WaitForAsync(appliance, async () =>
            {
                using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, "cran/src/contrib/PACKAGES"));
                var text = await response.Content.ReadAsStringAsync();
                return response.StatusCode == HttpStatusCode.OK && text.Contains("Version: 1.1", StringComparison.Ordinal) ? text : null;
            }, "the live URL to serve shsync 1.1", TimeSpan.FromSeconds(90));
            Assert.NotEqual(kept, CurrentId(await SnapshotHealthAsync(appliance)));

            // The old snapshot's id URL still serves what it served; the live URL and today's dated URL the new version.
            var pinned = $"cran/@{kept[..12]}/";
            Assert.Contains("Package: shsync\nVersion: 1.0\n", await PackagesAsync(appliance, pinned), StringComparison.Ordinal);
            var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Assert.Contains("Version: 1.1", await PackagesAsync(appliance, $"cran/@{today}/"), StringComparison.Ordinal);

            var old = await RClient.InstallAsync($"http://127.0.0.1:{appliance.Port}/{pinned.TrimEnd('/')}", "shsync");
            Assert.True(old.Succeeded, $"R said:\n{old.Process.Output}\nappliance log:\n{appliance.Log}");
            Assert.Equal("1.0", old.Installed["shsync"]);
            var live = await RClient.InstallAsync(repository, "shsync");
            Assert.True(live.Succeeded, $"R said:\n{live.Process.Output}\nappliance log:\n{appliance.Log}");
            Assert.Equal("1.1", live.Installed["shsync"]);

            // Nothing is forgotten yet (30-day retention), so the collector has nothing to free; it reads the same data.
            var gc = await appliance.RunCliAsync("sync", "gc", "--dry-run");
            Assert.True(gc.ExitCode == 0, gc.Output);
            Assert.Contains("0 forgotten snapshot(s), 0 candidate blob(s)", gc.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("dry run: would delete 0 blob(s), freeing 0 bytes", gc.StandardOutput, StringComparison.Ordinal);

            // Outside the closure: not in any snapshot, and not served.
            using var other = await Http.GetAsync(new Uri(appliance.BaseUrl, pinned + "src/contrib/shsyncother_1.0.tar.gz"));
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }
}
