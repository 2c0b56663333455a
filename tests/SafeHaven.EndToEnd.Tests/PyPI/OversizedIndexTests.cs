using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// An nginx upstream (a static PEP 691 mirror) whose project pages grow past the appliance's
/// <c>MaximumIndexBytes</c>: a page cached before answers from the last good copy, marked stale with the reason; a
/// page never cached answers 502 with the reason. (The padding is an unknown member, as a hostile or broken upstream
/// could add; pages this size are otherwise real, e.g. a project with thousands of files.)
/// </summary>
public sealed class OversizedIndexTests
{
    private const int Cap = 64 * 1024;

    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task A_page_over_the_cap_answers_502_with_the_reason_and_the_last_good_copy_keeps_being_served()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-oversized-").FullName;
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            var uploaded = DateTimeOffset.UtcNow.AddDays(-60);
            await builder.AddBuiltProjectsAsync([new TinyProject("shgrows", "1.0", uploaded), new TinyProject("shhuge", "1.0", uploaded)]);
            await builder.WriteIndexesAsync();
            await using var nginx = await NginxServer.StartAsync(root);
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:IndexTtlSeconds"] = "0",
                ["Mirrors:pypi:MaximumIndexBytes"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });

            using (var first = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shgrows/")))
            {
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            }

            Pad(Path.Combine(root, "simple", "shgrows", "index.json"));
            Pad(Path.Combine(root, "simple", "shhuge", "index.json"));

            using (var stale = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shgrows/")))
            {
                Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
                Assert.Contains($"over the limit of {Cap} bytes (MaximumIndexBytes)", stale.Headers.GetValues("X-SafeHaven-Stale").Single(), StringComparison.Ordinal);
                Assert.Contains("shgrows-1.0-", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            using (var refused = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shhuge/")))
            {
                var body = await refused.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
                Assert.Contains($"over the limit of {Cap} bytes (MaximumIndexBytes)", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Grows a page past the cap with a member the appliance ignores.</summary>
    private static void Pad(string page)
    {
        var text = File.ReadAllText(page);
        File.WriteAllText(page, "{\"padding\":\"" + new string('x', 2 * Cap) + "\"," + text[1..]);
    }
}
