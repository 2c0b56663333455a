using System.Diagnostics;
using System.Text;
using SafeHaven.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>The real <c>safehaven serve</c> executable, started on a free loopback port with its own data directory.</summary>
public sealed class ApplianceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private readonly Dictionary<string, string> _environment;
    private bool _ownsDataDirectory = true;

    private ApplianceProcess(Process process, int port, string dataDirectory, Dictionary<string, string> environment)
    {
        _environment = environment;
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");
    public string PyPIIndexUrl => $"http://127.0.0.1:{Port}/pypi/simple/";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static string ExecutablePath
    {
        get
        {
            // tests/SafeHaven.EndToEnd.Tests/bin/<Configuration>/net10.0/ -> appliance/SafeHaven.Appliance/bin/<Configuration>/net10.0/
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = testOutput.Parent!.Name;
            var path = Path.Combine(RepositoryRoot.Path, "appliance", "SafeHaven.Appliance", "bin", configuration, "net10.0", "safehaven.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the appliance first: " + path);
        }
    }

    /// <summary>Starts the appliance with <c>SafeHaven__*</c> settings and waits for <c>/readyz</c>.</summary>
    public static async Task<ApplianceProcess> StartAsync(IReadOnlyDictionary<string, string> settings, TimeSpan? readyTimeout = null)
    {
        var port = Ports.GetFree();
        var dataDirectory = Directory.CreateTempSubdirectory("safehaven-data-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["SafeHaven__Urls"] = $"http://127.0.0.1:{port}",
            ["SafeHaven__DataDirectory"] = dataDirectory,
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            environment["SafeHaven__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        return await StartAsync(port, dataDirectory, environment, readyTimeout);
    }

    /// <summary>
    /// Kills this process (SIGKILL: no orderly shutdown) and starts the appliance again with the same settings, port and
    /// data directory, which now belongs to the new process. Waits for <c>/readyz</c>.
    /// </summary>
    public async Task<ApplianceProcess> RestartAsync(TimeSpan? readyTimeout = null)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _ownsDataDirectory = false;
        return await StartAsync(Port, DataDirectory, _environment, readyTimeout);
    }

    private static async Task<ApplianceProcess> StartAsync(int port, string dataDirectory, Dictionary<string, string> environment, TimeSpan? readyTimeout)
    {
        var appliance = new ApplianceProcess(Process.Start(StartInfo(dataDirectory, environment, "serve"))!, port, dataDirectory, environment);
        try
        {
            await Ports.WaitForHttpAsync(new Uri(appliance.BaseUrl, "readyz"), readyTimeout ?? TimeSpan.FromSeconds(90), diagnostics: () => appliance.Log);
        }
        catch
        {
            await appliance.DisposeAsync();
            throw;
        }
        return appliance;
    }

    /// <summary>Runs the real <c>safehaven</c> CLI with this appliance's configuration (same data directory).</summary>
    public Task<ProcessResult> RunCliAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [ExecutablePath, .. arguments], DataDirectory,
            _environment.ToDictionary(p => p.Key, p => (string?)p.Value), TimeSpan.FromMinutes(2));

    /// <summary>
    /// Starts the real <c>safehaven</c> CLI with this appliance's configuration and returns it running (output
    /// redirected), for tests that interrupt it (<c>kill -9</c> midway).
    /// </summary>
    public Process StartCli(params string[] arguments) => Process.Start(StartInfo(DataDirectory, _environment, arguments))!;

    /// <summary><c>dotnet safehaven.dll ARGUMENTS</c> in the data directory with the appliance's environment, output redirected.</summary>
    private static ProcessStartInfo StartInfo(string dataDirectory, Dictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        info.ArgumentList.Add(ExecutablePath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        return info;
    }

    /// <summary>
    /// Creates a user with an appliance-wide role through <c>safehaven users add</c> and returns an HTTP client
    /// that sends its API key as a Bearer token.
    /// </summary>
    public async Task<HttpClient> CreateManagementClientAsync(string user = "sysadmin", string role = "SystemManager")
    {
        var result = await RunCliAsync("users", "add", user, "--role", role);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"safehaven users add failed ({result.ExitCode}):\n{result.Output}");
        }
        var key = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (!_ownsDataDirectory)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
