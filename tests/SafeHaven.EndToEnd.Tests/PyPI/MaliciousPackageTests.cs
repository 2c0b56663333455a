using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// Known-malicious versions (OSV records with a <c>MAL-</c> id, as the OpenSSF malicious-packages feed publishes them)
/// dropped into the advisories folder of a running appliance: real pip, a version installed and cached first.
/// </summary>
[Collection(PyPICollection.Name)]
public sealed class MaliciousPackageTests(PyPIUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    private const string Record = """
        {
          "schema_version": "1.5.0",
          "id": "MAL-2026-4242",
          "modified": "2026-11-30T00:00:00Z",
          "published": "2026-11-30T00:00:00Z",
          "summary": "Malicious code in shalpha (PyPI)",
          "details": "The package exfiltrates credentials on import.",
          "affected": [
            { "package": { "ecosystem": "PyPI", "name": "SHAlpha" }, "versions": ["2.0"] }
          ]
        }
        """;

    [Theory]
    [InlineData(0)]
    [InlineData(3)] // allowlisted project
    public async Task A_cached_version_named_by_a_MAL_record_is_no_longer_installable(int tier)
    {
        var settings = upstream.Settings(tier);
        var advisories = Directory.CreateTempSubdirectory("safehaven-mal-").FullName;
        settings["Policy:AdvisoriesDirectory"] = advisories;
        if (tier >= 3)
        {
            var allowlist = Path.Combine(Directory.CreateTempSubdirectory("safehaven-allow-").FullName, "pypi.txt");
            await File.WriteAllTextAsync(allowlist, "shalpha\n");
            settings["Policy:AllowlistFiles:pypi"] = allowlist;
        }
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        var first = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha==2.0");
        Assert.True(first.Succeeded, $"{first.Process.Output}\n{appliance.Log}");
        Assert.Equal("2.0", first.Installed["shalpha"]);
        var wheel = Directory.EnumerateFiles(Path.Combine(upstream.Root, "files"), "shalpha-2.0-*.whl").Single();
        var filename = Path.GetFileName(wheel);
        var hex = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(wheel)));
        var stored = Directory.EnumerateFiles(appliance.DataDirectory, hex, SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(stored); // cached by the appliance

        // Written elsewhere and moved in whole, as an operator's sync would.
        var staging = Path.Combine(Path.GetTempPath(), $"MAL-2026-4242-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(staging, Record);
        File.Move(staging, Path.Combine(advisories, "MAL-2026-4242.json"));

        var url = new Uri(appliance.BaseUrl, $"pypi/packages/shalpha/{filename}");
        HttpResponseMessage? refused = null;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (DateTimeOffset.UtcNow < deadline)
        {
            refused?.Dispose();
            refused = await Http.GetAsync(url);
            if (refused.StatusCode != HttpStatusCode.OK)
            {
                break;
            }
            await Task.Delay(200);
        }
        using (refused)
        {
            Assert.Equal(HttpStatusCode.NotFound, refused!.StatusCode);
            Assert.Equal("malicious", refused.Headers.GetValues("X-SafeHaven-Policy").Single());
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Contains("MAL-2026-4242", body, StringComparison.Ordinal);
            Assert.Contains("shalpha 2.0", body, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(stored[0]), "the stored blob stays on disk; it is only never served");

        // Absent from the index page in both forms; the other versions stay.
        var json = await GetJsonAsync(appliance, "pypi/simple/shalpha/");
        var versions = json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToList();
        Assert.DoesNotContain("2.0", versions);
        Assert.Contains("1.0", versions);
        var html = await Http.GetStringAsync(new Uri(appliance.BaseUrl, "pypi/simple/shalpha/"));
        Assert.DoesNotContain("shalpha-2.0", html, StringComparison.Ordinal);

        var second = await Pip.InstallAsync(appliance.PyPIIndexUrl, "shalpha==2.0");
        Assert.False(second.Succeeded, second.Process.Output);
        Assert.False(second.Installed.ContainsKey("shalpha"));
        Assert.Contains("No matching distribution found for shalpha==2.0", second.Process.Output, StringComparison.Ordinal);
        Assert.Contains("MAL-2026-4242", appliance.Log, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> GetJsonAsync(ApplianceProcess appliance, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(appliance.BaseUrl, path));
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}\n{appliance.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
