using System.Net;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.PyPI;

/// <summary>
/// Tier 3 approval by the whitelist model: a package scored at or above the threshold is served like an
/// allowlisted one (with its dependencies), Tier 4 ignores scores, unapproved dependencies are reported, and a
/// threshold change can be previewed. The appliance is given the monthly popularity history
/// (<c>SafeHaven:Policy:PopularityHistoryFiles:pypi</c>), so it scores with <c>pypi-v2</c>.
/// </summary>
[Collection(PyPICollection.Name)]
public sealed class ModelApprovalTests(PyPIUpstreamFixture upstream)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };


    private async Task<Dictionary<string, string>> SettingsAsync(int tier)
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-model-").FullName;
        var allowlist = Path.Combine(directory, "pypi.txt");
        await File.WriteAllTextAsync(allowlist, "shalpha\n");
        // The model input: the columns of `safehaven whitelist score`. shother is among the most downloaded
        // (the shipped model approves that); shlib and shapp have no download rank (the model rejects that).
        var inputs = Path.Combine(directory, "pypi-metadata.tsv");
        await File.WriteAllTextAsync(inputs,
            "name\tversion\tdownload_rank\thas_source_repo\tsummary\n" +
            "shother\t1.0\t40\ttrue\tA widely used package\n" +
            "shapp\t1.0\t\t\t\n" +
            "shlib\t1.0\t\t\t\n");
        // The popularity history in the shared file's shape (month, rank, name, download_count; gzip): shother has been
        // among the most downloaded every month for years, shapp and shlib never. Like the real file it names other
        // packages too; unlike it, it holds a handful of names a month instead of 5,000 to 15,000.
        var history = Path.Combine(directory, "pypi-top-monthly.tsv.gz");
        await using (var file = File.Create(history))
        await using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        await using (var writer = new StreamWriter(gzip))
        {
            await writer.WriteAsync("month\trank\tname\tdownload_count\n");
            for (var month = new DateOnly(2018, 2, 1); month <= new DateOnly(2026, 4, 1); month = month.AddMonths(1))
            {
                await writer.WriteAsync($"{month:yyyy-MM}\t1\tboto3\t900000000\n{month:yyyy-MM}\t40\tshother\t25000000\n{month:yyyy-MM}\t41\trequests\t24000000\n");
            }
        }
        var settings = upstream.Settings(tier);
        settings["Policy:AllowlistFiles:pypi"] = allowlist;
        settings["Policy:ModelInputFiles:pypi"] = inputs;
        settings["Policy:PopularityHistoryFiles:pypi"] = history;
        return settings;
    }

    [Fact]
    public async Task Tier3_serves_a_package_the_model_approves_and_Tier4_does_not()
    {
        await using (var tier3 = await ApplianceProcess.StartAsync(await SettingsAsync(3)))
        {
            var installed = await Pip.InstallAsync(tier3.PyPIIndexUrl, "shother");
            Assert.True(installed.Succeeded, installed.Process.Output + tier3.Log);
            Assert.Equal("1.0", installed.Installed["shother"]);

            using var tier3Management = await tier3.CreateManagementClientAsync();
            var closure = await GetJsonAsync(tier3Management, "api/mirrors/pypi/closure");
            Assert.Equal(["shother"], Names(closure.GetProperty("modelApproved")));
            Assert.Contains("with model pypi-v2 and the popularity history", tier3.Log, StringComparison.Ordinal);
            var refused = await Pip.InstallAsync(tier3.PyPIIndexUrl, "shapp");
            Assert.False(refused.Succeeded);
            Assert.Contains("No matching distribution found for shapp", refused.Process.Output, StringComparison.Ordinal);
        }
        await using var tier4 = await ApplianceProcess.StartAsync(await SettingsAsync(4));
        var tier4Result = await Pip.InstallAsync(tier4.PyPIIndexUrl, "shother");
        Assert.False(tier4Result.Succeeded);
        Assert.Contains("No matching distribution found for shother", tier4Result.Process.Output, StringComparison.Ordinal);
        using var tier4Management = await tier4.CreateManagementClientAsync();
        var tier4Closure = await GetJsonAsync(tier4Management, "api/mirrors/pypi/closure");
        Assert.Equal(0, tier4Closure.GetProperty("modelApproved").GetArrayLength());
    }

    [Fact]
    public async Task Unapproved_dependencies_are_reported_and_a_threshold_change_can_be_previewed()
    {
        var settings = await SettingsAsync(3);
        await File.WriteAllTextAsync(settings["Policy:AllowlistFiles:pypi"], "shapp\n");
        await using var appliance = await ApplianceProcess.StartAsync(settings);

        using var management = await appliance.CreateManagementClientAsync();
        var closure = await GetJsonAsync(management, "api/mirrors/pypi/closure");
        var unapproved = closure.GetProperty("unapprovedDependencies").EnumerateArray().ToList();
        var shlib = Assert.Single(unapproved);
        Assert.Equal("shlib", shlib.GetProperty("package").GetString());
        Assert.Equal(["shapp"], Names(shlib.GetProperty("requiredBy")));
        Assert.True(shlib.GetProperty("score").GetDouble() < 0.9205);
        Assert.Contains("below the threshold", shlib.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Contains("pypi dependency shlib (needed by shapp) is visible but not approved", appliance.Log, StringComparison.Ordinal);

        // Lowering the threshold to 0 would add everything scored that is not hand-approved; raising it to 1 removes shother.
        var lower = await GetJsonAsync(management, "api/mirrors/pypi/model-preview?threshold=0");
        Assert.Equal(["shlib"], lower.GetProperty("added").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(0, lower.GetProperty("removed").GetArrayLength());
        var higher = await GetJsonAsync(management, "api/mirrors/pypi/model-preview?threshold=1");
        Assert.Equal(["shother"], higher.GetProperty("removed").EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToArray());

        using var anonymous = await Http.GetAsync(new Uri(appliance.BaseUrl, "api/mirrors/pypi/model-preview?threshold=0.5"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var bad = await management.GetAsync("api/mirrors/pypi/model-preview?threshold=7");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    private static string[] Names(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static async Task<JsonElement> GetJsonAsync(HttpClient management, string path)
    {
        using var response = await management.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
