using System.Globalization;
using SafeHaven.EndToEnd.Tests.PyPI;
using SafeHaven.EndToEnd.Tests.Support;
using SafeHaven.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Snapshots;

/// <summary>
/// A Tier 3 PyPI mirror synced twice from a static upstream (nginx serving PEP 691 JSON pages, real wheels built with
/// pip, their PEP 658 metadata; it leaves out ETag-less servers' quirks and the HTML form, which other tests cover),
/// two days apart, with a new shlib released in between. Then the upstream is stopped, and the data directory is
/// served by the real appliance executable started with no upstream at all (an import-only appliance): Debian 12's own
/// pip installs from the current snapshot, and from the dated URL of the first day gets the first day's versions.
/// The syncs run through the gateway composed in process as <c>serve</c> composes it (the test's trigger; the
/// scheduled job and <c>POST /api/sync</c> belong to the sync work).
/// </summary>
public sealed class PyPISnapshotInstallTests
{
    [Fact]
    public async Task Debian_pip_installs_from_the_snapshot_and_a_dated_url_after_the_upstream_stopped()
    {
        var built = Directory.CreateTempSubdirectory("safehaven-snapshot-built-").FullName;
        var root = Directory.CreateTempSubdirectory("safehaven-snapshot-upstream-").FullName;
        var data = Directory.CreateTempSubdirectory("safehaven-snapshot-e2e-").FullName;
        try
        {
            var old = DateTimeOffset.UtcNow.AddDays(-60);
            await new PyPIUpstreamBuilder(built).AddBuiltProjectsAsync([
                new("shapp", "1.0", old, ["shlib>=1.0"]),
                new("shlib", "1.0", old),
                new("shlib", "1.1", old),
            ]);
            string Wheel(string prefix) => Directory.EnumerateFiles(Path.Combine(built, "files"), prefix + "-*.whl").Single();
            var upstream = new PyPIUpstreamBuilder(root);
            upstream.AddWheel("shapp", Wheel("shapp-1.0"), old);
            upstream.AddWheel("shlib", Wheel("shlib-1.0"), old);
            await upstream.WriteIndexesAsync();
            var allowlist = Path.Combine(data, "allowlist-pypi.txt");
            await File.WriteAllTextAsync(allowlist, "shapp\n");
            await using var nginx = await NginxServer.StartAsync(root);

            var settings = new Dictionary<string, string>
            {
                ["Tier"] = "3",
                ["Policy:AllowlistFiles:pypi"] = allowlist,
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:Sync:Schedule"] = "0 0 2 * * ?",
                ["Mirrors:pypi:TargetEnvironment:sys_platform"] = "linux",
            };
            var clock = new MovableClock(TimeSpan.FromDays(-2));
            string firstDay;
            await using (var capturing = await SnapshotHost.StartAsync(data, settings, clock))
            {
                var first = await capturing.SyncAsync("pypi");
                firstDay = first.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                Assert.Equal(4, first.Artifacts); // shapp and shlib 1.0, each with its .metadata

                upstream.AddWheel("shlib", Wheel("shlib-1.1"), old);
                await upstream.WriteIndexesAsync();
                clock.Offset = TimeSpan.Zero;
                var second = await capturing.SyncAsync("pypi");
                Assert.Equal(6, second.Artifacts);
            }
            await nginx.StopAsync();

            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "3",
                ["DataDirectory"] = data,
                ["Mirrors:pypi:Enabled"] = "true",
                // The shipped safehaven.json names an upstream; this appliance has none.
                ["Mirrors:pypi:Upstream"] = "",
            });
            var current = await Pip.InstallAsync(PipClient.Debian, appliance.PyPIIndexUrl, "shapp");
            Assert.True(current.Succeeded, current.Process.Output + appliance.Log);
            Assert.Equal("1.1", current.Installed["shlib"]);
            Assert.Equal("1.0", current.Installed["shapp"]);

            var dated = await Pip.InstallAsync(PipClient.Debian, $"http://127.0.0.1:{appliance.Port}/pypi/@{firstDay}/simple/", "shapp");
            Assert.True(dated.Succeeded, dated.Process.Output + appliance.Log);
            Assert.Equal("1.0", dated.Installed["shlib"]);

            // Nothing beyond the snapshot: the dated snapshot never had shlib 1.1.
            var pinned = await Pip.InstallAsync(PipClient.Debian, $"http://127.0.0.1:{appliance.Port}/pypi/@{firstDay}/simple/", "shlib==1.1");
            Assert.False(pinned.Succeeded);
        }
        finally
        {
            Directory.Delete(built, recursive: true);
            Directory.Delete(root, recursive: true);
            Directory.Delete(data, recursive: true);
        }
    }
}
