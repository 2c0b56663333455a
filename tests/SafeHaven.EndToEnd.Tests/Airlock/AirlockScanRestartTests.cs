using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace SafeHaven.EndToEnd.Tests.Airlock;

/// <summary>
/// Inspection runs in the real <c>safehaven serve</c>'s scan job, off the request path. The appliance is killed
/// (SIGKILL, no shutdown) while a submission is being inspected; after a restart on the same data directory the
/// inspection resumes and ends in review, and the depositor follows it all with the used-up deposit token through
/// the real <c>safehaven airlock</c> CLI. The virus scanner is a shell script in place of <c>clamdscan</c> (same
/// command line and exit codes), slow on purpose before the kill; ClamAV's signatures are left out on purpose.
/// </summary>
public sealed class AirlockScanRestartTests
{
    private const string DepositHeader = "X-SafeHaven-Deposit-Token";

    private static Task<JsonNode> OkAsync(HttpResponseMessage response) => RestartableAppliance.OkAsync(response);

    private static void WriteScanner(string path, string body)
    {
        var staging = path + ".new";
        File.WriteAllText(staging, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.Move(staging, path, overwrite: true);
    }

    private static async Task<JsonNode> WaitForStateAsync(RestartableAppliance appliance, string token, Func<string, bool> done)
    {
        using var depositor = appliance.Client(null);
        depositor.DefaultRequestHeaders.Add(DepositHeader, token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var status = await OkAsync(await depositor.GetAsync("airlock/deposit/status"));
            if (done(status["state"]!.GetValue<string>()))
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {status["state"]} after 90 s\n{appliance.Log}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Killed_during_inspection_the_restarted_appliance_finishes_it_and_the_depositor_can_follow_it()
    {
        await using var appliance = new RestartableAppliance();
        var tools = Path.Combine(appliance.DataDirectory, "test-tools");
        Directory.CreateDirectory(tools);
        var scanner = Path.Combine(tools, "clamdscan");
        var started = Path.Combine(tools, "started");
        // Before the kill the scanner never finishes on its own.
        WriteScanner(scanner, $"touch '{started}'\nsleep 600\nexit 0");
        appliance.Environment["SafeHaven__Airlock__Inspection__ClamdscanPath"] = scanner;
        appliance.Environment["SafeHaven__Airlock__ScanPollSeconds"] = "1";
        await appliance.StartAsync();

        var keys = await appliance.AddTier2ProjectAsync("Airlock scan end-to-end");
        keys["sysadmin"] = await appliance.AddUserAsync("sysadmin", "SystemManager");

        var url = appliance.BaseUrl.ToString();
        var open = await appliance.CliAsync("airlock", "open", "--url", url, "--token", keys["res"], "--project", "proj", "--work-package", "wp", "--kind", "software_ingress");
        Assert.True(open.ExitCode == 0, open.Output);
        var opened = JsonNode.Parse(open.StandardOutput)!;
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();
        var file = Path.Combine(tools, "tool.txt");
        await File.WriteAllTextAsync(file, "a small tool\n");
        var deposit = await appliance.CliAsync("airlock", "deposit", "--url", url, "--deposit-token", token, file);
        Assert.True(deposit.ExitCode == 0, deposit.Output);

        // --no-wait: the CLI returns as soon as the appliance accepts (202); the inspection is still to come.
        var submit = await appliance.CliAsync("airlock", "submit", "--url", url, "--deposit-token", token, "--no-wait");
        Assert.True(submit.ExitCode == 0, submit.Output);
        Assert.Contains(JsonNode.Parse(submit.StandardOutput)!["state"]!.GetValue<string>(), new[] { "submitted", "scanning" });

        await WaitForStateAsync(appliance, token, s => s == "scanning");
        for (var i = 0; i < 300 && !File.Exists(started); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(File.Exists(started), "the scanner never started\n" + appliance.Log);
        await appliance.KillAsync();

        WriteScanner(scanner, "cat >/dev/null\nexit 0");
        await appliance.StartAsync();
        var settled = await WaitForStateAsync(appliance, token, s => s is not ("submitted" or "scanning"));
        Assert.True(settled["state"]!.GetValue<string>() == "in_review", settled.ToJsonString() + "\n" + appliance.Log);

        // The depositor's CLI reads the state with the used-up token (state and reason, no files).
        var status = await appliance.CliAsync("airlock", "status", "--url", url, "--deposit-token", token);
        Assert.True(status.ExitCode == 0, status.Output);
        var shown = JsonNode.Parse(status.StandardOutput)!;
        Assert.Equal("in_review", shown["state"]!.GetValue<string>());
        Assert.Null(shown["files"]);

        // A hostile archive: the CLI's submit waits for the verdict and says it did not pass (exit 4, the reason on stderr).
        var again = JsonNode.Parse((await appliance.CliAsync("airlock", "open", "--url", url, "--token", keys["res"], "--project", "proj", "--work-package", "wp",
            "--kind", "software_ingress")).StandardOutput)!;
        var hostileToken = again["depositToken"]!.GetValue<string>();
        var hostile = Path.Combine(tools, "escape.zip");
        using (var zip = System.IO.Compression.ZipFile.Open(hostile, System.IO.Compression.ZipArchiveMode.Create))
        {
            using var entry = zip.CreateEntry("../../etc/cron.d/evil").Open();
            entry.Write("* * * * * root true\n"u8);
        }
        var hostileDeposit = await appliance.CliAsync("airlock", "deposit", "--url", url, "--deposit-token", hostileToken, hostile);
        Assert.True(hostileDeposit.ExitCode == 0, hostileDeposit.Output);
        var blocked = await appliance.CliAsync("airlock", "submit", "--url", url, "--deposit-token", hostileToken);
        Assert.True(blocked.ExitCode == 4, blocked.Output);
        Assert.Equal("blocked", JsonNode.Parse(blocked.StandardOutput)!["state"]!.GetValue<string>());
        Assert.Contains("the submission is blocked: blocked by inspection: escape.zip", blocked.StandardError, StringComparison.Ordinal);

        var audit = await OkAsync(await appliance.Client(keys["sysadmin"]).GetAsync($"api/audit?target=airlock/{id}&limit=100"));
        var entries = (audit is JsonArray array ? array : audit["entries"]!.AsArray()).OrderBy(e => e!["sequence"]!.GetValue<long>()).ToList();
        var actions = entries.Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(["airlock.submission.opened", "airlock.submission.submitted", "airlock.submission.scanning", "airlock.submission.scan-resumed",
            "airlock.submission.in_review"], actions);
    }
}
