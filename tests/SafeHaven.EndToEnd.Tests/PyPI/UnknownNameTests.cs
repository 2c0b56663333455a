using System.Net;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>Upstream's "not found" is remembered for a short while: a flood of requests for an unknown name is not a flood upstream.</summary>
public sealed class UnknownNameTests
{
    [Fact]
    public async Task Two_thousand_requests_for_one_unknown_name_make_a_few_upstream_requests()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-unknown-").FullName;
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            await builder.AddBuiltProjectsAsync([new TinyProject("shknown", "1.0", DateTimeOffset.UtcNow.AddDays(-60))]);
            await builder.WriteIndexesAsync();
            await using var nginx = await NginxServer.StartAsync(root, accessLog: true);
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:NotFoundTtlSeconds"] = "600", // the whole test runs inside one negative-cache period
            });
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 32 })
            {
                Timeout = TimeSpan.FromMinutes(2),
            };
            var url = new Uri(appliance.BaseUrl, "pypi/simple/shnosuchproject/");

            var statuses = new List<HttpStatusCode>();
            for (var batch = 0; batch < 40; batch++)
            {
                statuses.AddRange(await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
                {
                    using var response = await http.GetAsync(url);
                    return response.StatusCode;
                })));
            }

            Assert.Equal(2000, statuses.Count);
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.NotFound, s));
            var upstreamRequests = File.ReadAllLines(nginx.AccessLogPath).Count(l => l.Contains("shnosuchproject", StringComparison.Ordinal));
            Assert.InRange(upstreamRequests, 1, 3);
            // A known name is still found: the negative cache is per name.
            using var known = await http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shknown/"));
            Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
