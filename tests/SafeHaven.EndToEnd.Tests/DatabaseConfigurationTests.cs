using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests;

/// <summary><c>serve</c> refuses to start with a <c>SafeHaven:Database</c> section it cannot open, naming the key to fix.</summary>
public sealed class DatabaseConfigurationTests
{
    [Theory]
    [InlineData("mysql", null, "SafeHaven:Database:Provider: 'mysql' is not a database provider (supported: sqlite, postgres)")]
    [InlineData("postgres", null, "SafeHaven:Database:ConnectionString: required with SafeHaven:Database:Provider=postgres")]
    public async Task A_database_that_cannot_be_opened_stops_serve_naming_the_key(string provider, string? connectionString, string message)
    {
        var data = Directory.CreateTempSubdirectory("safehaven-data-").FullName;
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", [ApplianceProcess.ExecutablePath, "serve"], data,
                new Dictionary<string, string?>
                {
                    ["SafeHaven__DataDirectory"] = data,
                    ["SafeHaven__Urls"] = $"http://127.0.0.1:{Ports.GetFree()}",
                    ["SafeHaven__Tier"] = "0",
                    ["SafeHaven__Mirrors__pypi__Enabled"] = "false",
                    ["SafeHaven__Database__Provider"] = provider,
                    ["SafeHaven__Database__ConnectionString"] = connectionString,
                    ["DOTNET_NOLOGO"] = "1",
                },
                TimeSpan.FromMinutes(2));

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains(message, result.Output, StringComparison.Ordinal);
            // Nothing was created for a database that was refused.
            Assert.False(File.Exists(Path.Combine(data, "safehaven.db")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
