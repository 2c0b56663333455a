using System.Diagnostics;
using System.Net.Sockets;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>
/// A real forward HTTP proxy (Debian's tinyproxy) on loopback, standing in for a site's egress proxy. It stamps a
/// <c>Via</c> header naming itself on every request it forwards, so an upstream's access log shows what came through it.
/// </summary>
public sealed class TinyproxyServer : IAsyncDisposable
{
    public const string ViaName = "safehaven-test-egress";

    private readonly Process _process;
    private readonly string _prefix;

    private TinyproxyServer(Process process, string prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public string LogPath => Path.Combine(_prefix, "tinyproxy.log");

    public static async Task<TinyproxyServer> StartAsync()
    {
        const string executable = "/usr/bin/tinyproxy";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException("tinyproxy is not installed (apt-get install tinyproxy); tests/run.sh installs it.");
        }
        var prefix = Directory.CreateTempSubdirectory("safehaven-tinyproxy-").FullName;
        var port = Ports.GetFree();
        var config = Path.Combine(prefix, "tinyproxy.conf");
        await File.WriteAllTextAsync(config, $"""
            Port {port}
            Listen 127.0.0.1
            Timeout 60
            LogFile "{prefix}/tinyproxy.log"
            LogLevel Info
            MaxClients 32
            Allow 127.0.0.1
            ViaProxyName "{ViaName}"
            """);
        var info = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-d", "-c", config])
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info)!;
        var server = new TinyproxyServer(process, prefix, port);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (SocketException e)
            {
                var error = process.HasExited ? await process.StandardError.ReadToEndAsync() : "";
                await server.DisposeAsync();
                throw new InvalidOperationException($"tinyproxy did not start on port {port}: {e.Message}\n{error}");
            }
        }
    }

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    public ValueTask DisposeAsync() => ServerProcesses.DisposeAsync(_process, _prefix);
}
