using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>
/// Inspection off the request path, on the real composition (Quartz scan job, loopback Kestrel): the virus scanner
/// is a shell script the test writes in place of <c>clamdscan</c> (same command line and exit codes: 0 clean), which
/// can wait for the test's say-so, sleep past the timeout, or record how many scans overlap. It leaves out ClamAV's
/// signatures on purpose: what is under test is when and where inspection runs, not what it finds.
/// </summary>
public sealed class AirlockInspectionApiTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    private string Scanner(string body)
    {
        var path = _temp.Combine("clamdscan");
        var staging = path + ".new";
        File.WriteAllText(staging, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.Move(staging, path, overwrite: true);
        return path;
    }

    private static HttpRequestMessage Deposit(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        return request;
    }

    private static async Task<(string Id, string Token)> DepositOneFileAsync(AirlockApiHost host, HttpClient anonymous, string name = "tool.txt")
    {
        using var res = host.Client("res");
        var opened = JsonNode.Parse(await (await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "software_ingress" }, Ct)).Content.ReadAsStringAsync(Ct))!;
        var token = opened["depositToken"]!.GetValue<string>();
        var content = "tool\n"u8.ToArray();
        var begin = JsonNode.Parse(await (await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path = name, size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize = UploadService.MinChunkSize })), Ct)).Content.ReadAsStringAsync(Ct))!;
        var uploadId = begin["uploadId"]!.GetValue<string>();
        var put = Deposit(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/0", token, new ByteArrayContent(content));
        put.Headers.Add(AirlockEndpoints.ChunkSha256Header, Convert.ToHexStringLower(SHA256.HashData(content)));
        Assert.Equal(HttpStatusCode.NoContent, (await anonymous.SendAsync(put, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(Deposit(HttpMethod.Post, $"airlock/deposit/uploads/{uploadId}/complete", token), Ct)).StatusCode);
        return (opened["submission"]!["id"]!.GetValue<string>(), token);
    }

    private static async Task<JsonNode> DetailsAsync(AirlockApiHost host, string id)
    {
        using var res = host.Client("res");
        return JsonNode.Parse(await res.GetStringAsync($"api/airlock/submissions/{id}", Ct))!;
    }

    /// <summary>Polls (as a project member) until <paramref name="done"/> holds for the submission's state.</summary>
    private static async Task<JsonNode> WaitForAsync(AirlockApiHost host, string id, Func<string, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var details = await DetailsAsync(host, id);
            var state = details["state"]!.GetValue<string>();
            if (done(state))
            {
                return details;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {state} after {within}");
            await Task.Delay(100, Ct);
        }
    }

    private static async Task WaitForFileAsync(string path)
    {
        for (var i = 0; i < 300 && !File.Exists(path); i++)
        {
            await Task.Delay(100, Ct);
        }
        Assert.True(File.Exists(path), $"{path} never appeared: the scanner did not start");
    }

    private static async Task<List<string>> AuditActionsAsync(AirlockApiHost host, string id)
    {
        using var sysadmin = host.Client("sysadmin");
        var audit = JsonNode.Parse(await sysadmin.GetStringAsync($"api/audit?target=airlock/{id}&limit=100", Ct))!;
        var entries = audit is JsonArray array ? array : audit["entries"]!.AsArray();
        return entries.OrderBy(e => e!["sequence"]!.GetValue<long>()).Select(e => e!["action"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public async Task Submit_answers_202_while_a_slow_inspection_is_still_running_and_the_submission_then_reaches_in_review()
    {
        var started = _temp.Combine("started");
        var release = _temp.Combine("release");
        // The scanner cannot finish before the test creates the release file: nothing here depends on timing.
        await using var host = await AirlockApiHost.StartAsync(tier: 2, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner($"touch '{started}'\nwhile [ ! -f '{release}' ]; do sleep 0.1; done\ncat >/dev/null\nexit 0"),
        });
        using var anonymous = host.Client();
        var (id, token) = await DepositOneFileAsync(host, anonymous);

        var accepted = await DepositStatus.CompleteAsync(anonymous, token);
        Assert.Contains(accepted["state"]!.GetValue<string>(), new[] { "submitted", "scanning" });
        Assert.Equal(id, accepted["submissionId"]!.GetValue<string>());

        // The scan job picks it up and waits in the scanner; the depositor (token used up) sees it scanning.
        await WaitForAsync(host, id, s => s == "scanning", TimeSpan.FromSeconds(30));
        await WaitForFileAsync(started);
        var during = await DepositStatus.ReadAsync(anonymous, token);
        Assert.Equal("scanning", during["state"]!.GetValue<string>());

        await File.WriteAllTextAsync(release, "", Ct);
        var settled = await DepositStatus.SettledAsync(anonymous, token);
        Assert.Equal("in_review", settled["state"]!.GetValue<string>());
        Assert.Equal("inspection clean (1 files)", settled["stateReason"]!.GetValue<string>());
        var actions = await AuditActionsAsync(host, id);
        Assert.Equal(["airlock.submission.opened", "airlock.submission.submitted", "airlock.submission.scanning", "airlock.submission.in_review"],
            actions.Where(a => a.StartsWith("airlock.submission.", StringComparison.Ordinal)).ToList());
    }

    [Fact]
    public async Task An_inspection_past_the_timeout_fails_with_the_reason_and_a_rescan_queues_it_again_and_passes()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 1, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner("sleep 60\nexit 0"),
            ["SafeHaven:Airlock:ScanTimeoutSeconds"] = "2",
        });
        using var anonymous = host.Client();
        var (id, token) = await DepositOneFileAsync(host, anonymous);

        await DepositStatus.CompleteAsync(anonymous, token);
        var failed = await DepositStatus.SettledAsync(anonymous, token, TimeSpan.FromSeconds(30));
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Contains("inspection timed out after 2 s (SafeHaven:Airlock:ScanTimeoutSeconds); rescan to try again", failed["stateReason"]!.GetValue<string>(), StringComparison.Ordinal);

        Scanner("cat >/dev/null\nexit 0");
        using var res = host.Client("res");
        Assert.Equal(HttpStatusCode.Forbidden, (await res.PostAsync($"api/airlock/submissions/{id}/rescan", null, Ct)).StatusCode);
        using var pm = host.Client("pm");
        var rescanned = await pm.PostAsync($"api/airlock/submissions/{id}/rescan", null, Ct);
        var text = await rescanned.Content.ReadAsStringAsync(Ct);
        Assert.True(rescanned.StatusCode == HttpStatusCode.Accepted, text);
        Assert.Equal($"/api/airlock/submissions/{id}", rescanned.Headers.Location?.OriginalString);
        Assert.Contains(JsonNode.Parse(text)!["state"]!.GetValue<string>(), new[] { "submitted", "scanning", "in_review", "approved" });
        // At Tier 1 a clean inspection writes in_review and then, needing no sign-off, approved: a poll can land between.
        var approved = await WaitForAsync(host, id, s => s is not ("submitted" or "scanning" or "in_review"), TimeSpan.FromSeconds(30));
        Assert.Equal("approved", approved["state"]!.GetValue<string>());

        var actions = (await AuditActionsAsync(host, id)).Where(a => a.StartsWith("airlock.submission.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["airlock.submission.opened", "airlock.submission.submitted", "airlock.submission.scanning", "airlock.submission.failed",
            "airlock.submission.submitted", "airlock.submission.scanning", "airlock.submission.in_review", "airlock.submission.approved"], actions);
    }

    [Fact]
    public async Task An_inspection_interrupted_by_a_stop_resumes_when_a_new_host_starts_on_the_same_data_directory()
    {
        var data = _temp.Combine("data");
        Directory.CreateDirectory(data);
        var started = _temp.Combine("started");
        string id;
        string token;
        await using (var first = await AirlockApiHost.StartAsync(tier: 2, dataDirectory: data, settings: new Dictionary<string, string?>
        {
            // This scanner never finishes: only the stop ends it.
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner($"touch '{started}'\nsleep 600\nexit 0"),
        }))
        {
            using var anonymous = first.Client();
            (id, token) = await DepositOneFileAsync(first, anonymous);
            await DepositStatus.CompleteAsync(anonymous, token);
            await WaitForAsync(first, id, s => s == "scanning", TimeSpan.FromSeconds(30));
            await WaitForFileAsync(started);
        }

        await using var second = await AirlockApiHost.StartAsync(tier: 2, dataDirectory: data, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner("cat >/dev/null\nexit 0"),
        });
        using var depositor = second.Client();
        var settled = await DepositStatus.SettledAsync(depositor, token);
        Assert.Equal("in_review", settled["state"]!.GetValue<string>());
        var actions = await AuditActionsAsync(second, id);
        Assert.Contains("airlock.submission.scan-resumed", actions);
        Assert.Equal("airlock.submission.in_review", actions.Last(a => a.StartsWith("airlock.submission.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Two_concurrent_deposits_both_finish_and_never_inspect_at_the_same_time_with_one_slot()
    {
        var busy = _temp.Combine("busy");
        var overlap = _temp.Combine("overlap");
        var count = _temp.Combine("count");
        await using var host = await AirlockApiHost.StartAsync(tier: 2, settings: new Dictionary<string, string?>
        {
            // mkdir is atomic: a second scan starting while one runs finds the directory and says so.
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner(
                $"if ! mkdir '{busy}' 2>/dev/null; then touch '{overlap}'; fi\necho x >> '{count}'\nsleep 1\ncat >/dev/null\nrmdir '{busy}' 2>/dev/null\nexit 0"),
            ["SafeHaven:Airlock:MaxConcurrentScans"] = "1",
        });
        using var anonymous = host.Client();
        var one = await DepositOneFileAsync(host, anonymous, "one.txt");
        var two = await DepositOneFileAsync(host, anonymous, "two.txt");

        await Task.WhenAll(DepositStatus.CompleteAsync(anonymous, one.Token), DepositStatus.CompleteAsync(anonymous, two.Token));
        var states = await Task.WhenAll(DepositStatus.SettledAsync(anonymous, one.Token), DepositStatus.SettledAsync(anonymous, two.Token));

        Assert.All(states, s => Assert.Equal("in_review", s["state"]!.GetValue<string>()));
        Assert.Equal(2, (await File.ReadAllLinesAsync(count, Ct)).Length);
        Assert.False(File.Exists(overlap), "two inspections ran at once with SafeHaven:Airlock:MaxConcurrentScans = 1");
    }

    public void Dispose() => _temp.Dispose();
}
