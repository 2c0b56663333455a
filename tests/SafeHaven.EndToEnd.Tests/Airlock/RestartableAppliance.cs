using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Airlock;

/// <summary>
/// The real <c>safehaven serve</c> on a fixed loopback port and data directory that outlive the process, so a test can
/// kill it (SIGKILL, no shutdown) and start it again on the same data.
/// </summary>
internal sealed class RestartableAppliance : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public RestartableAppliance()
    {
        Port = Ports.GetFree();
        DataDirectory = Directory.CreateTempSubdirectory("safehaven-airlock-e2e-").FullName;
        Environment = new Dictionary<string, string?>
        {
            ["SafeHaven__Urls"] = $"http://127.0.0.1:{Port}",
            ["SafeHaven__DataDirectory"] = DataDirectory,
            ["SafeHaven__Tier"] = "2",
            ["SafeHaven__Mirrors__pypi__Enabled"] = "false",
            ["DOTNET_NOLOGO"] = "1",
        };
    }

    public int Port { get; }
    public string DataDirectory { get; }
    public Dictionary<string, string?> Environment { get; }
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

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

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = DataDirectory };
        info.ArgumentList.Add(ApplianceProcess.ExecutablePath);
        info.ArgumentList.Add("serve");
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await Ports.WaitForHttpAsync(new Uri(BaseUrl, "readyz"), TimeSpan.FromSeconds(90), diagnostics: () => Log);
    }

    /// <summary>Kills the process outright: no graceful shutdown, as a power cut or OOM kill would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public Task<ProcessResult> CliAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [ApplianceProcess.ExecutablePath, .. arguments], DataDirectory, Environment, TimeSpan.FromMinutes(3));

    /// <summary><c>safehaven users add</c>; returns the API key it prints once.</summary>
    public async Task<string> AddUserAsync(string user, string role, string? project = null)
    {
        var result = await CliAsync(["users", "add", user, "--role", role, .. project is null ? Array.Empty<string>() : ["--project", project]]);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
    }

    /// <summary>
    /// A Programme Manager creates project <c>proj</c> with work package <c>wp</c>; <c>pm</c>, <c>inv</c>, <c>ref</c>,
    /// <c>dpr</c> and <c>res</c> get their project roles through the CLI, and the three classifiers classify
    /// <c>wp</c> at Tier 2. Returns each person's API key by user name.
    /// </summary>
    public async Task<Dictionary<string, string>> AddTier2ProjectAsync(string title)
    {
        var programme = Client(await AddUserAsync("progman", "ProgrammeManager"));
        await OkAsync(await programme.PostAsJsonAsync("api/projects", new { name = "proj", title }));
        var keys = new Dictionary<string, string>();
        foreach (var (user, role) in new[] { ("pm", "ProjectManager"), ("inv", "Investigator"), ("ref", "Referee"), ("dpr", "DatasetProviderRepresentative"), ("res", "Researcher") })
        {
            keys[user] = await AddUserAsync(user, role, "proj");
        }
        await OkAsync(await Client(keys["pm"]).PostAsJsonAsync("api/projects/proj/workpackages", new { name = "wp", title = "Work package" }));
        foreach (var user in new[] { "inv", "dpr", "ref" })
        {
            await OkAsync(await Client(keys[user]).PutAsJsonAsync("api/projects/proj/workpackages/wp/classifications", new { tier = 2, reason = "pseudonymised" }));
        }
        return keys;
    }

    /// <summary>Asserts a success status (with the body in the message) and returns the JSON body.</summary>
    public static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(string.IsNullOrEmpty(text) ? "{}" : text)!;
    }

    public HttpClient Client(string? key)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
