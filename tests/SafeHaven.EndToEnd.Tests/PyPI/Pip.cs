using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// A real pip: <see cref="Newer"/> is the <c>python3</c> on PATH (pyenv's, pip 23.2.1 here, which reads PEP 714
/// <c>core-metadata</c>); <see cref="Debian"/> is Debian 12's own <c>/usr/bin/python3 -m pip</c> (python3-pip,
/// 23.0.1), which reads the old <c>dist-info-metadata</c> key from JSON and is what a fresh Debian machine has.
/// </summary>
public sealed record PipClient(string Name, string Python)
{
    public static readonly PipClient Newer = new("newer", "python3");
    public static readonly PipClient Debian = new("debian", "/usr/bin/python3");

    public static PipClient Named(string name) => name switch
    {
        "debian" => Debian,
        "newer" => Newer,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "debian or newer"),
    };

    /// <summary>The version <c>pip --version</c> reports, e.g. "23.0.1".</summary>
    public async Task<string> VersionAsync()
    {
        var result = await ProcessRunner.RunAsync(Python, ["-m", "pip", "--version"], environment: PipEnvironment.Isolated(), timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput.Split(' ')[1];
    }
}

/// <summary>Runs the real pip client against an index URL, installing into a scratch folder.</summary>
public static class Pip
{
    public sealed record InstallResult(ProcessResult Process, IReadOnlyDictionary<string, string> Installed)
    {
        public bool Succeeded => Process.ExitCode == 0;
    }

    public static Task<InstallResult> InstallAsync(string indexUrl, params string[] requirements) =>
        InstallAsync(PipClient.Newer, indexUrl, requirements);

    public static async Task<InstallResult> InstallAsync(PipClient client, string indexUrl, params string[] requirements)
    {
        var target = Directory.CreateTempSubdirectory("safehaven-pip-target-").FullName;
        try
        {
            var result = await ProcessRunner.RunAsync(client.Python,
                ["-m", "pip", "install", "--index-url", indexUrl, "--target", target, "--no-compile", "--progress-bar", "off", .. requirements],
                environment: PipEnvironment.Isolated(), timeout: TimeSpan.FromMinutes(3));
            var installed = Directory.EnumerateDirectories(target, "*.dist-info")
                .Select(d => Path.GetFileName(d)[..^".dist-info".Length])
                .Select(n => n.Split('-', 2))
                .ToDictionary(p => PyPIUpstreamBuilder.Normalize(p[0]), p => p[1]);
            return new InstallResult(result, installed);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }
}
