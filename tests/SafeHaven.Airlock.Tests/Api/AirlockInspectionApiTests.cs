using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>
/// Inspection that takes its time: the virus scanner is a script the test writes (slow, then fast), so a depositor
/// can disconnect mid-inspection and the scan timeout can pass.
/// </summary>
public sealed class AirlockInspectionApiTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    private string Scanner(string body)
    {
        var path = _temp.Combine("clamdscan");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    private static HttpRequestMessage Deposit(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        return request;
    }

    private static async Task<(string Id, string Token)> DepositOneFileAsync(AirlockApiHost host, HttpClient anonymous)
    {
        using var res = host.Client("res");
        var opened = JsonNode.Parse(await (await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "software_ingress" }, Ct)).Content.ReadAsStringAsync(Ct))!;
        var token = opened["depositToken"]!.GetValue<string>();
        var content = "tool\n"u8.ToArray();
        var begin = JsonNode.Parse(await (await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path = "tool.txt", size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize = UploadService.MinChunkSize })), Ct)).Content.ReadAsStringAsync(Ct))!;
        var uploadId = begin["uploadId"]!.GetValue<string>();
        var put = Deposit(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/0", token, new ByteArrayContent(content));
        put.Headers.Add(AirlockEndpoints.ChunkSha256Header, Convert.ToHexStringLower(SHA256.HashData(content)));
        Assert.Equal(HttpStatusCode.NoContent, (await anonymous.SendAsync(put, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(Deposit(HttpMethod.Post, $"airlock/deposit/uploads/{uploadId}/complete", token), Ct)).StatusCode);
        return (opened["submission"]!["id"]!.GetValue<string>(), token);
    }

    /// <param name="passingThrough">States the submission only passes through on the way to the one the test waits for
    /// (a clean inspection moves it to <c>in_review</c> and, with no sign-off required, on to <c>approved</c> in a
    /// second write: a poll can fall between the two).</param>
    private static async Task<JsonNode> SettledAsync(AirlockApiHost host, string id, TimeSpan within, params string[] passingThrough)
    {
        using var res = host.Client("res");
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var details = JsonNode.Parse(await res.GetStringAsync($"api/airlock/submissions/{id}", Ct))!;
            var state = details["state"]!.GetValue<string>();
            if (state is not ("submitted" or "scanning") && !passingThrough.Contains(state))
            {
                return details;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {state} after {within}");
            await Task.Delay(200, Ct);
        }
    }

    [Fact]
    public async Task A_depositor_who_disconnects_during_inspection_does_not_leave_it_stuck_in_scanning()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 1, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = Scanner("sleep 3\ncat >/dev/null\nexit 0"),
        });
        using var anonymous = host.Client();
        var (id, token) = await DepositOneFileAsync(host, anonymous);

        using (var hangUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(800)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/complete", token), hangUp.Token));
        }

        var settled = await SettledAsync(host, id, TimeSpan.FromSeconds(30), "in_review");
        Assert.Equal("approved", settled["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_inspection_past_the_timeout_fails_with_the_reason_and_a_rescan_works()
    {
        var scanner = Scanner("sleep 60\nexit 0");
        await using var host = await AirlockApiHost.StartAsync(tier: 1, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Inspection:ClamdscanPath"] = scanner,
            ["SafeHaven:Airlock:ScanTimeoutSeconds"] = "2",
        });
        using var anonymous = host.Client();
        var (id, token) = await DepositOneFileAsync(host, anonymous);

        var submitted = JsonNode.Parse(await (await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/complete", token), Ct)).Content.ReadAsStringAsync(Ct))!;
        Assert.Equal("failed", submitted["state"]!.GetValue<string>());
        var failed = await SettledAsync(host, id, TimeSpan.FromSeconds(5));
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Contains("inspection timed out after 2 s", failed["stateReason"]!.GetValue<string>(), StringComparison.Ordinal);

        Scanner("cat >/dev/null\nexit 0");
        using var pm = host.Client("pm");
        var rescanned = await pm.PostAsync($"api/airlock/submissions/{id}/rescan", null, Ct);
        var text = await rescanned.Content.ReadAsStringAsync(Ct);
        Assert.True(rescanned.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("approved", JsonNode.Parse(text)!["state"]!.GetValue<string>());
    }

    public void Dispose() => _temp.Dispose();
}
