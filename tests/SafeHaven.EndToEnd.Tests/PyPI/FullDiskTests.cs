using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;
using SafeHaven.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// The real appliance with its data directory (SQLite files and blob store) on a small tmpfs the test mounts, and an
/// nginx upstream laid out like a static PEP 691 mirror. The disk is filled to the last byte after the appliance has
/// started: caching an artifact or an index then answers 507 with the reason, keeps nothing partial, and works again
/// once space is freed.
/// </summary>
public sealed class FullDiskTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [TmpfsFact]
    public async Task A_full_disk_while_caching_an_artifact_or_an_index_answers_507_with_the_reason_and_keeps_nothing_partial()
    {
        using var disk = TmpfsMount.TryCreate("48m", out var why) ?? throw new InvalidOperationException(why);
        var root = Directory.CreateTempSubdirectory("safehaven-fulldisk-").FullName;
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            await builder.AddBuiltProjectsAsync([
                new TinyProject("shfullone", "1.0", DateTimeOffset.UtcNow.AddDays(-60)),
                new TinyProject("shfulltwo", "1.0", DateTimeOffset.UtcNow.AddDays(-60))]);
            await builder.WriteIndexesAsync();
            await using var nginx = await NginxServer.StartAsync(root);
            var wheel = Directory.EnumerateFiles(builder.FilesDirectory, "shfullone-1.0-*.whl").Single();
            var filename = Path.GetFileName(wheel);
            var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(wheel)));

            var data = Path.Combine(disk.Path, "data");
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["DataDirectory"] = data,
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
            });
            using (var page = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shfullone/")))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            var filler = Path.Combine(disk.Path, "filler");
            TmpfsMount.Fill(filler);

            // The artifact: 507, a problem document naming the file and the cause, and no partial copy anywhere.
            var fileUrl = new Uri(appliance.BaseUrl, $"pypi/packages/shfullone/{filename}");
            using (var full = await Http.GetAsync(fileUrl))
            {
                var body = await full.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.InsufficientStorage, full.StatusCode);
                Assert.Equal("application/problem+json", full.Content.Headers.ContentType?.MediaType);
                var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
                Assert.Contains("storage is full", detail, StringComparison.Ordinal);
                Assert.Contains(filename, detail, StringComparison.Ordinal);
            }
            var blobs = Path.Combine(data, "blobs");
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(blobs, "tmp")));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(blobs, "sha256"), "*", SearchOption.AllDirectories));

            // An index not cached yet: 507 too (the SQLite write fails), never a generic 500.
            using (var full = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shfulltwo/")))
            {
                var body = await full.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.InsufficientStorage, full.StatusCode);
                var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
                Assert.Contains("storage is full", detail, StringComparison.Ordinal);
                Assert.Contains("shfulltwo", detail, StringComparison.Ordinal);
            }

            // Space freed: the same requests succeed, with the right bytes.
            File.Delete(filler);
            using (var again = await Http.GetAsync(fileUrl))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
                Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(await again.Content.ReadAsByteArrayAsync())));
            }
            using (var again = await Http.GetAsync(new Uri(appliance.BaseUrl, "pypi/simple/shfulltwo/")))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            }
            Assert.DoesNotContain("status: 500", appliance.Log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
