using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Management;

/// <summary>
/// The real appliance and the real CLI over one data directory: the first System Manager is created with
/// <c>safehaven users add</c>, changes the tier through the API and sees it in force on <c>/healthz</c> without a
/// restart; <c>safehaven audit verify</c> passes, then catches a row edited behind the appliance's back.
/// </summary>
public sealed class ManagementApiTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>No upstream at all: these tests are about management, and nothing may leave loopback.</summary>
    private static Dictionary<string, string> Settings() => new()
    {
        ["Tier"] = "2",
        ["Mirrors:pypi:Enabled"] = "false",
    };

    private static Task<ProcessResult> CliAsync(ApplianceProcess appliance, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [ApplianceProcess.ExecutablePath, .. arguments], appliance.DataDirectory, new Dictionary<string, string?>
        {
            ["SafeHaven__DataDirectory"] = appliance.DataDirectory,
            ["DOTNET_NOLOGO"] = "1",
        }, TimeSpan.FromMinutes(2));

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(ApplianceProcess appliance, HttpMethod method, string path, string? key, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(appliance.BaseUrl, path));
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<string> AddSystemManagerAsync(ApplianceProcess appliance)
    {
        var added = await CliAsync(appliance, "users", "add", "admin", "--role", "SystemManager");
        Assert.True(added.ExitCode == 0, added.Output);
        var key = added.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("shk_", StringComparison.Ordinal));
        Assert.DoesNotContain(key, File.ReadAllText(Path.Combine(appliance.DataDirectory, "safehaven.db"), Encoding.Latin1), StringComparison.Ordinal);
        return key;
    }

    [Fact]
    public async Task A_System_Manager_made_by_the_CLI_changes_the_tier_and_healthz_shows_it_without_a_restart()
    {
        await using var appliance = await ApplianceProcess.StartAsync(Settings());
        var key = await AddSystemManagerAsync(appliance);

        var (anonymous, problem) = await SendAsync(appliance, HttpMethod.Get, "api/policy", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());

        var (_, health) = await SendAsync(appliance, HttpMethod.Get, "healthz", null);
        Assert.Equal(2, health.GetProperty("tier").GetInt32());

        var (changed, policy) = await SendAsync(appliance, HttpMethod.Put, "api/policy", key, """{"tier": 4, "reason": "secret data arrives"}""");
        Assert.True(changed == HttpStatusCode.OK, $"{changed}: {policy}\n{appliance.Log}");
        Assert.Equal(4, policy.GetProperty("inForce").GetProperty("tier").GetInt32());

        (_, health) = await SendAsync(appliance, HttpMethod.Get, "healthz", null);
        Assert.Equal(4, health.GetProperty("tier").GetInt32());

        var (listed, audit) = await SendAsync(appliance, HttpMethod.Get, "api/audit?action=policy.changed", key);
        Assert.Equal(HttpStatusCode.OK, listed);
        var entry = audit.EnumerateArray().Single();
        Assert.Equal("admin", entry.GetProperty("actor").GetString());
        Assert.Equal("secret data arrives", entry.GetProperty("details").GetProperty("reason").GetString());

        var (openApi, document) = await SendAsync(appliance, HttpMethod.Get, "openapi/v1.json", null);
        Assert.Equal(HttpStatusCode.OK, openApi);
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/policy", out _));

        // Revoking the key from the CLI takes effect on the running appliance.
        var revoked = await CliAsync(appliance, "users", "revoke", "admin");
        Assert.True(revoked.ExitCode == 0, revoked.Output);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(appliance, HttpMethod.Get, "api/policy", key)).Status);
    }

    [Fact]
    public async Task Audit_verify_passes_on_an_intact_log_and_names_the_entry_edited_behind_the_appliances_back()
    {
        await using var appliance = await ApplianceProcess.StartAsync(Settings());
        var key = await AddSystemManagerAsync(appliance);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(appliance, HttpMethod.Put, "api/policy", key, """{"minimumAgeDays": 3, "reason": "shorter quarantine"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(appliance, HttpMethod.Put, "api/policy", key, """{"minimumAgeDays": 5, "reason": "a little longer"}""")).Status);

        var intact = await CliAsync(appliance, "audit", "verify");
        Assert.True(intact.ExitCode == 0, intact.Output);
        Assert.Contains("intact", intact.StandardOutput, StringComparison.Ordinal);

        // Someone with write access to the database file rewrites the reason of the first policy change. The
        // append-only triggers stop plain UPDATEs, so they drop them first, as an attacker would.
        var (_, entries) = await SendAsync(appliance, HttpMethod.Get, "api/audit?action=policy.changed", key);
        var sequence = entries[0].GetProperty("sequence").GetInt64();
        var edit = await ProcessRunner.RunAsync("python3", ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("DROP TRIGGER mgmt_audit_log_no_update")
            db.execute("UPDATE mgmt_audit_log SET details = replace(details, 'shorter', 'approved') WHERE seq = ?", (int(sys.argv[2]),))
            db.commit()
            """, Path.Combine(appliance.DataDirectory, "safehaven.db"), sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(edit.ExitCode == 0, edit.Output);

        var broken = await CliAsync(appliance, "audit", "verify");

        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains($"entry {sequence}", broken.StandardError, StringComparison.Ordinal);
        Assert.Contains("edited", broken.StandardError, StringComparison.Ordinal);
        var (_, verdict) = await SendAsync(appliance, HttpMethod.Get, "api/audit/verify", key);
        Assert.False(verdict.GetProperty("intact").GetBoolean());
        Assert.Equal(sequence, verdict.GetProperty("firstBrokenSequence").GetInt64());
    }
}
