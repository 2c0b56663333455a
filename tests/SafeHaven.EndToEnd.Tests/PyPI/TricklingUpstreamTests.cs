using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// An nginx upstream (a static PEP 691 mirror) that sends the headers at once and then trickles a file's body: one
/// byte a second for one wheel, 32 bytes a second (fast enough, but never done in time) for another, at full speed
/// for a third. Through the real appliance, the trickled downloads end in 502 with the reason, within the rate window
/// and the whole-body deadline, while a client of the third file is served meanwhile.
/// </summary>
public sealed class TricklingUpstreamTests(ITestOutputHelper output)
{
    private const int RateWindowSeconds = 8;
    private const int BodyDeadlineSeconds = 20;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(3) };

    [Fact]
    public async Task A_trickling_upstream_answers_502_within_the_limits_and_blocks_no_other_client()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-trickle-").FullName;
        try
        {
            var uploaded = DateTimeOffset.UtcNow.AddDays(-60);
            // Built in a scratch upstream, then published here; shlong's wheel gets 8 KiB of stored (incompressible)
            // padding, so that at the trickled rate it cannot arrive within the deadline.
            var scratch = new PyPIUpstreamBuilder(Path.Combine(root, "scratch"));
            await scratch.AddBuiltProjectsAsync([new TinyProject("shslow", "1.0", uploaded), new TinyProject("shlong", "1.0", uploaded), new TinyProject("shfast", "1.0", uploaded)]);
            var builder = new PyPIUpstreamBuilder(root);
            foreach (var wheel in Directory.EnumerateFiles(scratch.FilesDirectory, "*.whl"))
            {
                if (Path.GetFileName(wheel).StartsWith("shlong-", StringComparison.Ordinal))
                {
                    using var archive = ZipFile.Open(wheel, ZipArchiveMode.Update);
                    await using var padding = archive.CreateEntry("shlong/padding.bin", CompressionLevel.NoCompression).Open();
                    await padding.WriteAsync(RandomNumberGenerator.GetBytes(8192));
                }
                builder.AddWheel(Path.GetFileName(wheel).Split('-')[0], wheel, uploaded);
            }
            await builder.WriteIndexesAsync();
            // Headers and the first bytes go at once (limit_rate_after), then the body trickles.
            await using var nginx = await NginxServer.StartAsync(root, """
                location ~ ^/files/shslow- { sendfile off; limit_rate_after 400; limit_rate 1; }
                location ~ ^/files/shlong- { sendfile off; limit_rate_after 400; limit_rate 32; }
                """);
            string Wheel(string name) => Path.GetFileName(Directory.EnumerateFiles(builder.FilesDirectory, name + "-1.0-*.whl").Single());
            var longWheel = Path.Combine(builder.FilesDirectory, Wheel("shlong"));
            // At 32 bytes/s after the first 400, the file cannot arrive within the deadline.
            Assert.True(new FileInfo(longWheel).Length > 400 + 32 * (BodyDeadlineSeconds + 5), $"{longWheel} is too small to outlast the deadline");

            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:UpstreamMinimumBytesPerSecond"] = "16",
                ["Mirrors:pypi:UpstreamRateWindowSeconds"] = RateWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Mirrors:pypi:UpstreamBodyDeadlineSeconds"] = BodyDeadlineSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            foreach (var project in (string[])["shslow", "shlong", "shfast"])
            {
                using var page = await Http.GetAsync(new Uri(appliance.BaseUrl, $"pypi/simple/{project}/"));
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            async Task<(HttpStatusCode Status, string Body, TimeSpan Took)> GetAsync(string project)
            {
                var clock = Stopwatch.StartNew();
                using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, $"pypi/packages/{project}/{Wheel(project)}"));
                var body = response.StatusCode == HttpStatusCode.OK
                    ? Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()))
                    : await response.Content.ReadAsStringAsync();
                return (response.StatusCode, body, clock.Elapsed);
            }

            var slow = GetAsync("shslow");
            var slowLong = GetAsync("shlong");
            await Task.Delay(500);
            // Meanwhile another client is served at once: the trickles hold up no one else.
            var fast = await GetAsync("shfast");
            Assert.Equal(HttpStatusCode.OK, fast.Status);
            Assert.Equal(PyPIUpstreamBuilder.Sha256(Path.Combine(builder.FilesDirectory, Wheel("shfast"))), fast.Body);
            Assert.False(slow.IsCompleted, "the one-byte-a-second download ended before the other client was served");
            Assert.False(slowLong.IsCompleted, "the 32-bytes-a-second download ended before the other client was served");

            var tooSlow = await slow;
            Assert.Equal(HttpStatusCode.BadGateway, tooSlow.Status);
            Assert.Contains("slower than the minimum of 16 bytes/s", Detail(tooSlow.Body), StringComparison.Ordinal);
            // Abandoned when the first rate window ends without enough bytes (generous margin for a loaded machine).
            Assert.InRange(tooSlow.Took, TimeSpan.FromSeconds(RateWindowSeconds - 1), TimeSpan.FromSeconds(RateWindowSeconds * 3));

            var tooLong = await slowLong;
            Assert.Equal(HttpStatusCode.BadGateway, tooLong.Status);
            Assert.Contains($"did not finish sending", Detail(tooLong.Body), StringComparison.Ordinal);
            Assert.InRange(tooLong.Took, TimeSpan.FromSeconds(BodyDeadlineSeconds - 1), TimeSpan.FromSeconds(BodyDeadlineSeconds + 15));
            output.WriteLine($"other client served in {fast.Took.TotalSeconds:0.0} s; 1 B/s upstream: 502 after {tooSlow.Took.TotalSeconds:0.0} s (window {RateWindowSeconds} s); " +
                $"32 B/s upstream: 502 after {tooLong.Took.TotalSeconds:0.0} s (deadline {BodyDeadlineSeconds} s)");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Detail(string problem) => JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString()!;
}
