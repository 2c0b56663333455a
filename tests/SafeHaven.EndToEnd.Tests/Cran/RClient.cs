using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Cran;

/// <summary>Runs real R's <c>install.packages</c> against a repository URL, installing into a scratch library.</summary>
public static class RClient
{
    public sealed record InstallResult(ProcessResult Process, IReadOnlyDictionary<string, string> Installed)
    {
        public bool Succeeded => Process.ExitCode == 0;
    }

    private static string Quote(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>Installs <paramref name="packages"/> from <paramref name="repository"/> (with <c>options(repos = ...)</c>).</summary>
    public static Task<InstallResult> InstallAsync(string repository, params string[] packages) =>
        RunAsync($"options(repos = c(CRAN = {Quote(repository)})); install.packages(c({string.Join(", ", packages.Select(Quote))}), lib = lib, type = 'source')");

    /// <summary>Installs one tarball by URL, as <c>remotes::install_version</c> does for archived versions.</summary>
    public static Task<InstallResult> InstallUrlAsync(string url) =>
        RunAsync($"install.packages({Quote(url)}, repos = NULL, lib = lib, type = 'source')");

    private static async Task<InstallResult> RunAsync(string expression)
    {
        var library = Directory.CreateTempSubdirectory("safehaven-r-lib-").FullName;
        try
        {
            // Warnings (such as "package 'x' is not available") are printed as they happen, on stderr.
            var script = $"options(warn = 1); lib <- {Quote(library)}; {expression}";
            var result = await ProcessRunner.RunAsync("Rscript", ["--vanilla", "-e", script],
                environment: CranUpstreamBuilder.REnvironment(library), timeout: TimeSpan.FromMinutes(3));
            var installed = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var directory in Directory.EnumerateDirectories(library))
            {
                var description = Path.Combine(directory, "DESCRIPTION");
                if (File.Exists(description))
                {
                    var version = File.ReadLines(description).FirstOrDefault(l => l.StartsWith("Version:", StringComparison.Ordinal));
                    if (version is not null)
                    {
                        installed[Path.GetFileName(directory)] = version["Version:".Length..].Trim();
                    }
                }
            }
            return new InstallResult(result, installed);
        }
        finally
        {
            Directory.Delete(library, recursive: true);
        }
    }
}
