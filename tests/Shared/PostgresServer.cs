using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SafeHaven.Tests.Support;

/// <summary>
/// A real PostgreSQL (Debian's <c>postgresql</c> package) for the tests of this process: started once on first use, on
/// 127.0.0.1 at a free port, its data in a temporary folder (fsync off: a crash loses a test run, nothing else), stopped
/// when the process exits (and by a watchdog if the process dies without exiting cleanly). As root (here and in CI)
/// initdb and postgres run as the <c>postgres</c> OS user, since PostgreSQL refuses to run as root.
/// When PostgreSQL is not installed, every test that asks for it fails, saying so. One file, compiled into each test project
/// that needs it.
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<Task<Instance>> Server = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to a new, empty database of its own on the shared server.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var server = await Server.Value.ConfigureAwait(false);
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(server.ConnectionString("postgres")))
        {
            await admin.OpenAsync().ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        return server.ConnectionString(name);
    }

    private sealed record Instance(int Port)
    {
        public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            // Many small pools across tests: keep each small and let idle connections go quickly.
            MaxPoolSize = 20,
            ConnectionIdleLifetime = 10,
        }.ToString();
    }

    private static async Task<Instance> StartAsync()
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "These tests need a real PostgreSQL server and none is installed: install Debian's `postgresql` package " +
            "(apt-get install postgresql; tests/run.sh does), which provides /usr/lib/postgresql/<version>/bin/initdb and postgres.");
        var asRoot = IsRoot();
        var root = Path.Combine(Path.GetTempPath(), "safehaven-postgres-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var data = Path.Combine(root, "data");
        var log = Path.Combine(root, "postgres.log");
        if (asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", root]).ConfigureAwait(false);
        }

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], asRoot).ConfigureAwait(false);
        var port = FreePort();
        string[] options =
        [
            $"-p {port}", "-c listen_addresses=127.0.0.1", $"-c unix_socket_directories={root}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=300",
            "-c shared_buffers=32MB",
        ];
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", log, "-w", "-t", "60", "-o", string.Join(' ', options), "start"], asRoot).ConfigureAwait(false);

        var stop = new[] { Path.Combine(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop" };
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                RunAsync(stop[0], stop[1..], asRoot).GetAwaiter().GetResult();
                Directory.Delete(root, recursive: true);
            }
            catch (Exception)
            {
                // The watchdog below stops it anyway.
            }
        };
        StartWatchdog(stop, root, asRoot);
        return new Instance(port);
    }

    /// <summary>Stops the server and removes its folder once this process is gone, however it ended.</summary>
    private static void StartWatchdog(string[] stop, string root, bool asRoot)
    {
        var stopCommand = string.Join(' ', (asRoot ? ["runuser", "-u", "postgres", "--", .. stop] : stop).Select(Quote));
        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 2; done; {stopCommand}; rm -rf {Quote(root)}";
        var start = new ProcessStartInfo("setsid", ["sh", "-c", script]) { UseShellExecute = false };
        using var _ = Process.Start(start);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string? FindBinDirectory()
    {
        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var newest = Directory.GetDirectories(debian)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")) && File.Exists(Path.Combine(d.Dir, "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunAsync(string file, string[] arguments) => RunAsync(file, arguments, asPostgres: false);

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres)
    {
        var start = asPostgres
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", file, .. arguments])
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        // Run from a folder the postgres user can enter.
        start.WorkingDirectory = "/";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }
}
