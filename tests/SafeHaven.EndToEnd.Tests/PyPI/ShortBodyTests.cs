using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// An upstream whose file host cuts bodies short: the index is a static PEP 691 mirror on nginx whose file URLs point
/// to a separate file host (a configured file origin, as a CDN is), here a raw socket server in the test that promises
/// a Content-Length and closes early, or sends a chunked body without its last chunk. Through the real appliance,
/// both answer 502 with the reason, and nothing is stored.
/// </summary>
public sealed class ShortBodyTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task A_body_shorter_than_its_Content_Length_or_a_truncated_chunked_body_answers_502_with_the_reason()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-shortbody-").FullName;
        using var fileHost = new TcpListener(IPAddress.Loopback, 0);
        fileHost.Start();
        var fileOrigin = $"http://127.0.0.1:{((IPEndPoint)fileHost.LocalEndpoint).Port}";
        using var stop = new CancellationTokenSource();
        var serving = ServeShortAsync(fileHost, stop.Token);
        try
        {
            var builder = new PyPIUpstreamBuilder(root);
            var uploaded = DateTimeOffset.UtcNow.AddDays(-60);
            await builder.AddBuiltProjectsAsync([new TinyProject("shshortlen", "1.0", uploaded), new TinyProject("shshortchunk", "1.0", uploaded)]);
            await builder.WriteIndexesAsync();
            foreach (var project in (string[])["shshortlen", "shshortchunk"])
            {
                var page = Path.Combine(root, "simple", project, "index.json");
                await File.WriteAllTextAsync(page, (await File.ReadAllTextAsync(page)).Replace("../../files/", fileOrigin + "/files/", StringComparison.Ordinal));
            }
            await using var nginx = await NginxServer.StartAsync(root);
            await using var appliance = await ApplianceProcess.StartAsync(new Dictionary<string, string>
            {
                ["Tier"] = "0",
                ["Mirrors:pypi:Upstream"] = new Uri(nginx.BaseUrl, "simple/").ToString(),
                ["Mirrors:pypi:FileOrigins:0"] = fileOrigin,
            });

            foreach (var project in (string[])["shshortlen", "shshortchunk"])
            {
                var wheel = Path.GetFileName(Directory.EnumerateFiles(builder.FilesDirectory, project + "-1.0-*.whl").Single());
                using (var page = await Http.GetAsync(new Uri(appliance.BaseUrl, $"pypi/simple/{project}/")))
                {
                    Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                }
                using var response = await Http.GetAsync(new Uri(appliance.BaseUrl, $"pypi/packages/{project}/{wheel}"));
                var body = await response.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
                Assert.Contains("ended early or broke after 100 bytes", detail, StringComparison.Ordinal);
                Assert.Contains(wheel, detail, StringComparison.Ordinal);
            }
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(appliance.DataDirectory, "blobs", "sha256"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            await stop.CancelAsync();
            fileHost.Stop();
            await serving;
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Answers every request with 100 bytes, then closes: after promising 5,000 (Content-Length) for a path of
    /// shshortlen, after a 100-byte chunk with no last chunk for any other path.
    /// </summary>
    private static async Task ServeShortAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var request = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer, cancellationToken);
                        if (read == 0)
                        {
                            break;
                        }
                        request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    var body = new string('x', 100);
                    var answer = request.ToString().Contains("/files/shshortlen-", StringComparison.Ordinal)
                        ? $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{body}"
                        : $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n64\r\n{body}\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), cancellationToken);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    // the appliance hung up
                }
            }
        }
    }
}
