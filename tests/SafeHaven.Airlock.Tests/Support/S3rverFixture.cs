using System.Diagnostics;
using System.Text.RegularExpressions;
using SafeHaven.Core.Configuration;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Support;

/// <summary>
/// A real s3rver (the npm S3 server, installed by <c>tests/run.sh</c> into <c>tests/tools/s3rver</c>) on a free
/// loopback port with a temporary directory and one bucket. Stopped, and its directory deleted, on dispose.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    public const string BucketName = "safehaven-test";

    private readonly TempDirectory _data = new();
    private Process? _process;

    public S3Options Options { get; private set; } = new();

    public async Task InitializeAsync()
    {
        var tool = System.IO.Path.Combine(RepositoryRoot.Path, "tests", "tools", "s3rver");
        var script = System.IO.Path.Combine(tool, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"s3rver is not installed: run `npm ci --prefix {tool}` (tests/run.sh does).");
        }
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, "-d", _data.Path, "-a", "127.0.0.1", "-p", "0", "--silent", "--no-vhost-buckets", "--configure-bucket", BucketName })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var stderr = _process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                throw new InvalidOperationException($"s3rver exited before listening: {await stderr}");
            }
            var match = ListeningLine().Match(line);
            if (match.Success)
            {
                Options = new S3Options
                {
                    ServiceUrl = $"http://127.0.0.1:{match.Groups[1].Value}",
                    Bucket = BucketName,
                    AccessKey = "S3RVER",
                    SecretKey = "S3RVER",
                };
                break;
            }
        }
        // Keep draining its output so it never blocks on a full pipe.
        _ = _process.StandardOutput.ReadToEndAsync();
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _data.Dispose();
    }

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex ListeningLine();
}
