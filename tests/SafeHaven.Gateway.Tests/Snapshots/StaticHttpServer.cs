using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SafeHaven.Gateway.Tests.Snapshots;

/// <summary>
/// A real static web server on loopback: Python's <c>http.server</c> serving a folder, the way a bucket of files
/// behind a plain web server is published. It sends Last-Modified but no ETag, and an index.html for a folder.
/// </summary>
public sealed partial class StaticHttpServer : IAsyncDisposable
{
    private readonly Process _process;

    private StaticHttpServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    public static async Task<StaticHttpServer> StartAsync(string root)
    {
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", root, "0"])
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("http.server did not start");
        var port = int.Parse(PortPattern().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        _ = process.StandardOutput.ReadToEndAsync();
        return new StaticHttpServer(process, port);
    }

    [GeneratedRegex(@"port (\d+)")]
    private static partial Regex PortPattern();

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
