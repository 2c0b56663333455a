using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary>
/// Real <c>dotnet restore</c> of a tiny project whose <c>nuget.config</c> clears every source and names only the
/// appliance; the global packages folder and HTTP cache are fresh temporary folders, so nothing comes from the
/// machine's caches, and NuGet audit is off, so nothing else is asked for.
/// </summary>
public static class DotnetRestore
{
    public sealed record Result(ProcessResult Process, IReadOnlyDictionary<string, string> Restored, string PackagesFolder)
    {
        public bool Succeeded => Process.ExitCode == 0;
    }

    /// <summary>Restores a project referencing each (id, version) pair; a version of "*" floats to the newest.</summary>
    public static async Task<Result> RunAsync(string serviceIndexUrl, params (string Id, string Version)[] references)
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-restore-").FullName;
        var packages = Path.Combine(directory, "packages");
        var httpCache = Path.Combine(directory, "http-cache");
        await File.WriteAllTextAsync(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="safehaven" value="{serviceIndexUrl}" allowInsecureConnections="true" />
              </packageSources>
              <auditSources>
                <clear />
              </auditSources>
              <fallbackPackageFolders>
                <clear />
              </fallbackPackageFolders>
              <config>
                <add key="globalPackagesFolder" value="{packages}" />
              </config>
            </configuration>
            """);
        var items = string.Join("\n", references.Select(r => $"""    <PackageReference Include="{r.Id}" Version="{r.Version}" />"""));
        await File.WriteAllTextAsync(Path.Combine(directory, "Restore.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <NuGetAudit>false</NuGetAudit>
                <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
                <ImportDirectoryBuildTargets>false</ImportDirectoryBuildTargets>
                <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        var result = await ProcessRunner.RunAsync("dotnet",
            ["restore", Path.Combine(directory, "Restore.csproj"), "--configfile", Path.Combine(directory, "nuget.config"), "--no-http-cache", "--force", "-v", "n"],
            workingDirectory: directory,
            environment: new Dictionary<string, string?>
            {
                ["NUGET_PACKAGES"] = packages,
                ["NUGET_HTTP_CACHE_PATH"] = httpCache,
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
                ["NUGET_CERT_REVOCATION_MODE"] = "offline",
            },
            timeout: TimeSpan.FromMinutes(4));
        var restored = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var assets = Path.Combine(directory, "obj", "project.assets.json");
        if (result.ExitCode == 0 && File.Exists(assets))
        {
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(assets));
            foreach (var library in document.RootElement.GetProperty("libraries").EnumerateObject())
            {
                var slash = library.Name.IndexOf('/', StringComparison.Ordinal);
                restored[library.Name[..slash]] = library.Name[(slash + 1)..];
            }
        }
        return new Result(result, restored, packages);
    }
}
