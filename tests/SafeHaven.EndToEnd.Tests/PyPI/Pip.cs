using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>Runs the real pip client against an index URL, installing into a scratch folder.</summary>
public static class Pip
{
    public sealed record InstallResult(ProcessResult Process, IReadOnlyDictionary<string, string> Installed)
    {
        public bool Succeeded => Process.ExitCode == 0;
    }

    public static async Task<InstallResult> InstallAsync(string indexUrl, params string[] requirements)
    {
        var target = Directory.CreateTempSubdirectory("safehaven-pip-target-").FullName;
        try
        {
            var result = await ProcessRunner.RunAsync("python3",
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
