using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Cran;

/// <summary>
/// A hostile CRAN-like upstream (a copy of the shared fixture, served by its own nginx) replaces a published tarball
/// and rewrites its <c>MD5sum</c> in <c>PACKAGES</c> and <c>PACKAGES.gz</c>. The appliance keeps serving the pinned
/// first copy, and its <c>PACKAGES</c> states that copy's MD5, never upstream's new one; the replacement is on
/// <c>/healthz</c> and in the audit log.
/// </summary>
[Collection(CranCollection.Name)]
public sealed class ReplacedTarballTests(CranUpstreamFixture upstream)
{
    private const string Tarball = "shother_1.0.tar.gz";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task A_replaced_tarball_is_refused_the_pinned_copy_served_and_PACKAGES_states_its_MD5()
    {
        var copy = upstream.Copy();
        try
        {
            await using var nginx = await NginxServer.StartAsync(copy);
            var settings = upstream.Settings(0);
            settings["Mirrors:cran:Upstream"] = nginx.BaseUrl.ToString();
            settings["Mirrors:cran:IndexTtlSeconds"] = "0";
            await using var appliance = await ApplianceProcess.StartAsync(settings);

            var contrib = Path.Combine(copy, "src", "contrib");
            var original = await File.ReadAllBytesAsync(Path.Combine(contrib, Tarball));
            var originalMd5 = Convert.ToHexStringLower(MD5.HashData(original));
            Assert.Contains(originalMd5, await GetTextAsync(appliance, "cran/src/contrib/PACKAGES"), StringComparison.Ordinal);
            Assert.Equal(original, await GetBytesAsync(appliance, $"cran/src/contrib/{Tarball}"));

            // Upstream swaps the tarball and its MD5sum in both indexes.
            var replacement = original.Concat("replaced by a hostile upstream"u8.ToArray()).ToArray();
            var replacementMd5 = Convert.ToHexStringLower(MD5.HashData(replacement));
            await File.WriteAllBytesAsync(Path.Combine(contrib, Tarball), replacement);
            var packages = (await File.ReadAllTextAsync(Path.Combine(contrib, "PACKAGES"))).Replace(originalMd5, replacementMd5, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(contrib, "PACKAGES"), packages);
            await using (var gz = new GZipStream(File.Create(Path.Combine(contrib, "PACKAGES.gz")), CompressionLevel.Optimal))
            {
                await gz.WriteAsync(Encoding.UTF8.GetBytes(packages));
            }

            var served = await GetTextAsync(appliance, "cran/src/contrib/PACKAGES");
            Assert.Contains(originalMd5, served, StringComparison.Ordinal);
            Assert.DoesNotContain(replacementMd5, served, StringComparison.Ordinal);
            Assert.Equal(original, await GetBytesAsync(appliance, $"cran/src/contrib/{Tarball}"));

            var health = await GetTextAsync(appliance, "healthz");
            Assert.Contains($"upstream replaced the published file {Tarball}", health, StringComparison.Ordinal);
            using var management = await appliance.CreateManagementClientAsync();
            var audit = JsonDocument.Parse(await management.GetStringAsync("api/audit?action=mirror.upstream.file-replaced")).RootElement;
            var entry = Assert.Single(audit.EnumerateArray());
            Assert.Equal($"cran/{Tarball}", entry.GetProperty("target").GetString());
            Assert.Contains(replacementMd5, entry.GetProperty("details").GetProperty("offered").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static async Task<string> GetTextAsync(ApplianceProcess appliance, string path)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, path));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}\n{appliance.Log}");
        return text;
    }

    private static async Task<byte[]> GetBytesAsync(ApplianceProcess appliance, string path)
    {
        using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
