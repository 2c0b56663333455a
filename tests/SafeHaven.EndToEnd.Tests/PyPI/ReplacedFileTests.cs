using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// A hostile upstream replaces a published file: same name, same (old) upload time, new bytes and a new SHA-256 in
/// its index. The appliance pinned the first verified copy; it keeps serving that, refuses the new content and
/// raises the alarm on <c>/healthz</c>, in its log and in the audit log. Its project page (JSON and HTML) keeps showing
/// the pinned hash, the copy it serves, so pip still installs that copy instead of failing on a hash mismatch.
/// </summary>
public sealed class ReplacedFileTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task A_file_replaced_upstream_under_the_same_name_is_refused_and_the_pinned_copy_served()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-replaced-").FullName;
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            await builder.AddBuiltProjectsAsync([new TinyProject("shreplaced", "1.0", DateTimeOffset.UtcNow.AddDays(-60))]);
            await builder.WriteIndexesAsync();
            await using var nginx = await NginxServer.StartAsync(root);
            var wheel = Directory.EnumerateFiles(builder.FilesDirectory, "shreplaced-1.0-*.whl").Single();
            var filename = Path.GetFileName(wheel);
            var original = await File.ReadAllBytesAsync(wheel);
            var originalHex = Convert.ToHexStringLower(SHA256.HashData(original));

            var settings = new Dictionary<string, string>
            {
                ["Tier"] = "2",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:IndexTtlSeconds"] = "1",
                ["Policy:MinimumAgeDays"] = "7",
                ["Policy:MaximumLagDays"] = "42",
            };
            await using var appliance = await ApplianceProcess.StartAsync(settings);

            var first = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shreplaced");
            Assert.True(first.Succeeded, $"{first.Process.Output}\n{appliance.Log}");
            Assert.Equal("1.0", first.Installed["shreplaced"]);

            // The upstream swaps the file: new bytes, the new hash in its index, the same name and upload time.
            var replacement = original.Concat("# replaced by a hostile upstream\n"u8.ToArray()).ToArray();
            var replacementHex = Convert.ToHexStringLower(SHA256.HashData(replacement));
            await File.WriteAllBytesAsync(wheel, replacement);
            var index = Path.Combine(root, "simple", "shreplaced", "index.json");
            var page = await File.ReadAllTextAsync(index);
            Assert.Contains(originalHex, page, StringComparison.Ordinal);
            await File.WriteAllTextAsync(index, page.Replace(originalHex, replacementHex, StringComparison.Ordinal));

            // Once the appliance has re-read the index (1 s TTL), it offers the new hash; the file served is still the pinned one.
            var url = new Uri(appliance.BaseUrl, $"pypi/packages/shreplaced/{filename}");
            var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
            JsonElement health;
            do
            {
                await Task.Delay(1100);
                using var response = await Http.GetAsync(url);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var served = await response.Content.ReadAsByteArrayAsync();
                Assert.Equal(originalHex, Convert.ToHexStringLower(SHA256.HashData(served)));
                using var healthResponse = await Http.GetAsync(new Uri(appliance.BaseUrl, "healthz"));
                health = JsonDocument.Parse(await healthResponse.Content.ReadAsStringAsync()).RootElement.Clone();
            }
            while (health.GetProperty("status").GetString() != "degraded" && DateTimeOffset.UtcNow < deadline);

            Assert.Equal("degraded", health.GetProperty("status").GetString());
            var problems = health.ToString();
            Assert.Contains($"upstream replaced the published file {filename}", problems, StringComparison.Ordinal);
            Assert.Contains(replacementHex, problems, StringComparison.Ordinal);
            Assert.Contains(originalHex, problems, StringComparison.Ordinal);
            Assert.Contains($"upstream replaced the published file {filename}", appliance.Log, StringComparison.Ordinal);

            // The project page never advertises upstream's new hash: it shows the pinned one, in both representations.
            foreach (var accept in (string[])["application/vnd.pypi.simple.v1+json", "text/html"])
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, "pypi/simple/shreplaced/"));
                request.Headers.TryAddWithoutValidation("Accept", accept);
                using var pageResponse = await Http.SendAsync(request);
                var shown = await pageResponse.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
                Assert.Contains(originalHex, shown, StringComparison.Ordinal);
                Assert.DoesNotContain(replacementHex, shown, StringComparison.Ordinal);
            }

            // pip installs the pinned copy (no hash mismatch) and never the new bytes.
            var second = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shreplaced");
            Assert.True(second.Succeeded, $"{second.Process.Output}\n{appliance.Log}");
            Assert.Equal("1.0", second.Installed["shreplaced"]);
            Assert.DoesNotContain("replaced by a hostile upstream", second.Process.Output, StringComparison.Ordinal);

            // One audit entry, written by the appliance itself, naming the file and both hashes.
            using var management = await appliance.CreateManagementClientAsync();
            using var auditResponse = await management.GetAsync("api/audit?action=mirror.upstream.file-replaced");
            var auditText = await auditResponse.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, auditResponse.StatusCode);
            var entry = Assert.Single(JsonDocument.Parse(auditText).RootElement.EnumerateArray());
            Assert.Equal("appliance:pypi", entry.GetProperty("actor").GetString());
            Assert.Equal($"pypi/{filename}", entry.GetProperty("target").GetString());
            Assert.Contains(replacementHex, entry.GetProperty("details").GetProperty("offered").GetString(), StringComparison.Ordinal);
            Assert.Contains(originalHex, entry.GetProperty("details").GetProperty("pinned").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
