using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.NuGet;

/// <summary><c>serve</c> refuses to start with a trusted signer that is not a SHA-256 fingerprint, naming the key.</summary>
public sealed class TrustedSignerConfigurationTests
{
    [Fact]
    public async Task A_fingerprint_that_is_not_64_hex_digits_stops_serve_naming_the_key()
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
                    ["SafeHaven__Mirrors__nuget__Upstream"] = "http://127.0.0.1:9/v3/index.json",
                    ["SafeHaven__Mirrors__nuget__TrustedSigners__0"] = "1F4B311D9ACC115C8DC8018B5A49E00FCE6DA8E2855F9F014CA6F34570BC482D",
                    ["SafeHaven__Mirrors__nuget__TrustedSigners__1"] = "80A3561749D46D67F4548F4B5416925C5195A03E", // a SHA-1 fingerprint
                    ["DOTNET_NOLOGO"] = "1",
                },
                TimeSpan.FromMinutes(2));

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("SafeHaven:Mirrors:nuget:TrustedSigners:1: '80A3561749D46D67F4548F4B5416925C5195A03E' is not a SHA-256 certificate fingerprint", result.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("TrustedSigners:0", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
