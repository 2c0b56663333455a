using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Upstreams;

/// <summary>Artifact bodies from a real socket peer on loopback that trickles, stalls or cuts its body short.</summary>
public sealed class TransferGuardStreamTests
{
    /// <summary>Answers one request with headers promising <paramref name="length"/> bytes, then sends <paramref name="send"/>.</summary>
    /// <remarks>A negative <paramref name="length"/> announces a chunked body instead.</remarks>
    private static (Uri Url, Task Served, CancellationTokenSource Stop) Serve(int length, Func<NetworkStream, CancellationToken, Task> send)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/files/big.whl");
        var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var served = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                using var stream = client.GetStream();
                var buffer = new byte[4096];
                var request = new StringBuilder();
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, stop.Token);
                    if (read == 0)
                    {
                        return;
                    }
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var framing = length < 0 ? "Transfer-Encoding: chunked" : $"Content-Length: {length}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{framing}\r\nConnection: close\r\n\r\n"), stop.Token);
                await send(stream, stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // the appliance hung up, as it should
            }
            finally
            {
                listener.Stop();
            }
        });
        return (url, served, stop);
    }

    private static UpstreamHttp Upstream(Uri url, UpstreamTransferLimits limits)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        return new UpstreamHttp(new Uri(url, "/"), [], TimeSpan.FromSeconds(10), client, client, limits: limits);
    }

    private static async Task<long> ReadAllAsync(UpstreamHttp upstream, Uri url)
    {
        using var response = await upstream.OpenArtifactAsync(url, CancellationToken.None);
        await using var body = await upstream.OpenArtifactBodyAsync(response, url, CancellationToken.None);
        var buffer = new byte[8192];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        return total;
    }

    [Fact]
    public async Task AnUpstreamTricklingOneByteAtATimeIsAbandonedWithinTheRateWindow()
    {
        var (url, served, stop) = Serve(10_000, async (stream, token) =>
        {
            for (var i = 0; i < 60; i++)
            {
                await stream.WriteAsync("x"u8.ToArray(), token);
                await Task.Delay(1000, token);
            }
        });
        using var _ = stop;
        var upstream = Upstream(url, new UpstreamTransferLimits(100, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => ReadAllAsync(upstream, url));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(20));
        Assert.Contains("slower than the minimum of 100 bytes/s over 2 s", error.Message, StringComparison.Ordinal);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        await stop.CancelAsync();
        await served;
    }

    [Fact]
    public async Task AnUpstreamFastEnoughButEndlessIsStoppedAtTheWholeBodyDeadline()
    {
        var (url, served, stop) = Serve(100_000_000, async (stream, token) =>
        {
            var chunk = new byte[1000];
            while (!token.IsCancellationRequested)
            {
                await stream.WriteAsync(chunk, token);
                await Task.Delay(100, token);
            }
        });
        using var _ = stop;
        var upstream = Upstream(url, new UpstreamTransferLimits(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)));
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => ReadAllAsync(upstream, url));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(20));
        Assert.Contains("did not finish sending", error.Message, StringComparison.Ordinal);
        Assert.Contains("within 3 s", error.Message, StringComparison.Ordinal);
        await stop.CancelAsync();
        await served;
    }

    [Fact]
    public async Task AShortBodyIsAnUpstreamFailureWithTheReason()
    {
        var (url, served, stop) = Serve(1000, async (stream, token) => await stream.WriteAsync(new byte[10], token));
        using var _ = stop;
        var upstream = Upstream(url, UpstreamTransferLimits.Default);

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => ReadAllAsync(upstream, url));

        Assert.Contains("ended early or broke after 10 bytes", error.Message, StringComparison.Ordinal);
        await served;
    }

    [Fact]
    public async Task AChunkedBodyCutBeforeItsLastChunkIsAnUpstreamFailureWithTheReason()
    {
        // One 10-byte chunk, then the connection closes without the terminating zero-length chunk.
        var (url, served, stop) = Serve(-1, async (stream, token) => await stream.WriteAsync("a\r\n0123456789\r\n"u8.ToArray(), token));
        using var _ = stop;
        var upstream = Upstream(url, UpstreamTransferLimits.Default);

        var error = await Assert.ThrowsAsync<UpstreamUnavailableException>(() => ReadAllAsync(upstream, url));

        Assert.Contains("ended early or broke after 10 bytes", error.Message, StringComparison.Ordinal);
        await served;
    }
}
