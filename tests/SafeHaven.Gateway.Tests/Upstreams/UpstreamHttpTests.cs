using System.Net;
using System.Net.Sockets;
using System.Text;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Upstreams;

/// <summary>Index documents read from a real socket peer on loopback that answers one request with fixed bytes.</summary>
public sealed class UpstreamHttpTests
{
    private static async Task<(Uri Url, Task Served)> ServeOnceAsync(byte[] head, byte[] body)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/simple/");
        var served = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync();
                using var stream = client.GetStream();
                var buffer = new byte[4096];
                var request = new StringBuilder();
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                await stream.WriteAsync(head);
                await stream.WriteAsync(body);
            }
            finally
            {
                listener.Stop();
            }
        });
        await Task.Yield();
        return (url, served);
    }

    private static UpstreamHttp Upstream(Uri url)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        return new UpstreamHttp(new Uri(url, "/"), [], TimeSpan.FromSeconds(10), client, client);
    }

    private static byte[] Head(int contentLength) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: {contentLength}\r\nConnection: close\r\n\r\n");

    [Fact]
    public async Task ADocumentWithContentLengthIsReadWhole()
    {
        var body = Encoding.UTF8.GetBytes(new string('x', 300_000));
        var (url, served) = await ServeOnceAsync(Head(body.Length), body);

        var document = await Upstream(url).GetDocumentAsync(url, "*/*", null, CancellationToken.None);
        await served;

        Assert.Equal(HttpStatusCode.OK, document.Status);
        Assert.Equal(body, document.Content);
        Assert.Equal("application/vnd.pypi.simple.v1+json", document.ContentType);
    }

    [Fact]
    public async Task ADocumentShorterThanItsContentLengthIsAnUpstreamFailure()
    {
        var (url, served) = await ServeOnceAsync(Head(100_000), Encoding.ASCII.GetBytes("{\"meta\":"));

        var failure = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => Upstream(url).GetDocumentAsync(url, "*/*", null, CancellationToken.None));
        await served;

        Assert.Contains("Content-Length", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADocumentWithoutContentLengthIsReadToTheEnd()
    {
        var body = Encoding.UTF8.GetBytes(new string('y', 200_000));
        var head = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n");
        var (url, served) = await ServeOnceAsync(head, body);

        var document = await Upstream(url).GetDocumentAsync(url, "*/*", null, CancellationToken.None);
        await served;

        Assert.Equal(body, document.Content);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADocumentOverTheConfiguredCapIsRefusedWithTheReason(bool declaredLength)
    {
        var body = Encoding.UTF8.GetBytes(new string('x', 5000));
        var head = declaredLength
            ? Head(body.Length)
            : Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nConnection: close\r\n\r\n");
        var (url, served) = await ServeOnceAsync(head, body);
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        var upstream = new UpstreamHttp(new Uri(url, "/"), [], TimeSpan.FromSeconds(10), client, client, maximumIndexBytes: 1024);

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => upstream.GetDocumentAsync(url, "*/*", null, CancellationToken.None));

        Assert.Contains("limit of 1024 bytes (MaximumIndexBytes); refused", error.Message, StringComparison.Ordinal);
        await served;
    }
}
