using System.Net;
using System.Security.Cryptography;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// Many clients at once asking for one file that is not stored yet and is above <c>VerifyBeforeServingBytes</c>
/// (so it is streamed while stored): upstream is asked for it once.
/// </summary>
public sealed class ConcurrentDownloadTests
{
    [Fact]
    public async Task A_hundred_concurrent_requests_for_one_large_uncached_file_make_one_upstream_GET()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-concurrent-").FullName;
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            await builder.AddBuiltProjectsAsync([new TinyProject("shbig", "1.0", DateTimeOffset.UtcNow.AddDays(-60))]);
            await builder.WriteIndexesAsync();
            // A slow upstream (512 bytes/s) keeps the first download going while every request arrives.
            await using var nginx = await NginxServer.StartAsync(root, "limit_rate 512;", accessLog: true);
            var wheel = Directory.EnumerateFiles(builder.FilesDirectory, "shbig-1.0-*.whl").Single();
            var filename = Path.GetFileName(wheel);
            var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(wheel)));
            Assert.True(new FileInfo(wheel).Length > 1024);

            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:VerifyBeforeServingBytes"] = "1", // every file is "large": streamed while stored
            });
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 200 }) { Timeout = TimeSpan.FromMinutes(3) };
            // The project page first, so the only file request upstream sees is for the wheel.
            using (var page = await http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shbig/")))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            var url = new Uri(appliance.BaseUrl, $"pypi/packages/shbig/{filename}");
            var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                using var response = await http.GetAsync(url);
                var body = await response.Content.ReadAsByteArrayAsync();
                return (response.StatusCode, Hash: Convert.ToHexStringLower(SHA256.HashData(body)));
            }));

            Assert.All(results, r => Assert.Equal((HttpStatusCode.OK, expected), r));
            var gets = File.ReadAllLines(nginx.AccessLogPath).Count(l => l.Contains("GET ", StringComparison.Ordinal) && l.Contains("/files/" + filename + " ", StringComparison.Ordinal));
            Assert.Equal(1, gets);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
