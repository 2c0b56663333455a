using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Apt;

/// <summary>
/// The upstream by-hash fetch path: the upstream imitates Debian's archive, whose signed <c>Release</c> says
/// <c>Acquire-By-Hash: yes</c> and whose indexes are under <c>by-hash/SHA256/&lt;hash&gt;</c>. Unlike a real archive it
/// publishes the index only there (no plain <c>Packages.xz</c> beside it), so nothing but the by-hash read can succeed.
/// </summary>
public sealed class AptByHashTests
{
    private const string Suite = "stable";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task An_upstream_whose_indexes_exist_only_by_hash_is_verified_and_served()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-apt-byhash-").FullName;
        using var upstreamKey = await AptSigningKey.CreateAsync("SafeHaven Test Upstream <upstream@example.invalid>");
        ApplianceProcess? appliance = null;
        NginxServer? nginx = null;
        try
        {
            var builder = new AptUpstreamBuilder(Path.Combine(root, "debian"), upstreamKey);
            await builder.BuildAsync(Suite, [
                new("hello", "2.0", Depends: "libgreet (>= 1.2)"),
                new("libgreet", "1.2"),
            ], DateTimeOffset.UtcNow.AddDays(-30), AptSigning.InReleaseOnly, xz: true, byHashOnly: true);
            var binary = Path.Combine(builder.Root, "dists", Suite, "main", "binary-amd64");
            Assert.Empty(Directory.GetFiles(binary, "Packages*"));
            var hashName = Path.GetFileName(Assert.Single(Directory.GetFiles(Path.Combine(binary, "by-hash", "SHA256"))));
            Assert.Contains("Acquire-By-Hash: yes\n", await File.ReadAllTextAsync(Path.Combine(builder.Root, "dists", Suite, "InRelease")), StringComparison.Ordinal);

            nginx = await NginxServer.StartAsync(root, accessLog: true);
            appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Enabled"] = "false",
                ["Mirrors:apt:IndexTtlSeconds"] = "3600",
                ["Mirrors:apt:Repositories:debian:Upstream"] = new Uri(nginx.BaseUrl, "debian/").ToString(),
                ["Mirrors:apt:Repositories:debian:Suites:0"] = Suite,
                ["Mirrors:apt:Repositories:debian:UpstreamKeyring"] = upstreamKey.KeyringPath,
            });
            var keyPath = Path.Combine(root, "safehaven-archive-key.asc");
            await File.WriteAllTextAsync(keyPath, await Http.GetStringAsync(new Uri(appliance.BaseUrl, "apt/safehaven-archive-key.asc")));

            using var apt = await AptClient.CreateAsync(new Uri(appliance.BaseUrl, "apt/debian/"), Suite, keyPath);
            var update = await apt.UpdateAsync();
            Assert.True(update.ExitCode == 0, update.Output + appliance.Log);
            Assert.DoesNotContain("E:", update.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("W:", update.Output, StringComparison.Ordinal);
            var install = await apt.InstallDownloadOnlyAsync("hello");
            Assert.True(install.ExitCode == 0, install.Output + appliance.Log);
            Assert.Equal(["hello_2.0_all.deb", "libgreet_1.2_all.deb"], apt.Fetched());

            var log = await File.ReadAllTextAsync(nginx.AccessLogPath);
            Assert.Contains($"GET /debian/dists/stable/main/binary-amd64/by-hash/SHA256/{hashName} 200", log, StringComparison.Ordinal);
        }
        finally
        {
            if (appliance is not null)
            {
                await appliance.DisposeAsync();
            }
            if (nginx is not null)
            {
                await nginx.DisposeAsync();
            }
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
