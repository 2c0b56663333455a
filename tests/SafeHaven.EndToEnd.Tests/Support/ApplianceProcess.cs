using System.Diagnostics;
using System.Text;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>The real <c>safehaven serve</c> executable, started on a free loopback port with its own data directory.</summary>
public sealed class ApplianceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ApplianceProcess(Process process, int port, string dataDirectory)
    {
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
            var repository = testOutput;
            while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "SafeHaven.sln")))
            {
                repository = repository.Parent;
            }
            if (repository is null)
            {
                throw new InvalidOperationException("Cannot find the repository root (SafeHaven.sln) above " + AppContext.BaseDirectory);
            }
            var path = Path.Combine(repository.FullName, "appliance", "SafeHaven.Appliance", "bin", configuration, "net10.0", "safehaven.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the appliance first: " + path);
        }
    }

    /// <summary>Starts the appliance with <c>SafeHaven__*</c> settings and waits for <c>/readyz</c>.</summary>
    public static async Task<ApplianceProcess> StartAsync(IReadOnlyDictionary<string, string> settings, TimeSpan? readyTimeout = null)
    {
        var port = Ports.GetFree();
        var dataDirectory = Directory.CreateTempSubdirectory("safehaven-data-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        info.ArgumentList.Add(ExecutablePath);
        info.ArgumentList.Add("serve");
        info.Environment["SafeHaven__Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["SafeHaven__DataDirectory"] = dataDirectory;
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in settings)
        {
            info.Environment["SafeHaven__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        var appliance = new ApplianceProcess(Process.Start(info)!, port, dataDirectory);
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
