using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Uploads;

namespace SafeHaven.Airlock.Tests.Api;

public sealed class AirlockApiTests
{
    private static CancellationToken Ct => Support.TestContext.Token;

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string code)
    {
        var problem = await JsonAsync(response, expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem["code"]!.GetValue<string>());
    }

    private static HttpRequestMessage Deposit(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        return request;
    }

    private static async Task UploadAsync(HttpClient anonymous, string token, string path, byte[] content)
    {
        var begin = await JsonAsync(await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path, size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize = UploadService.MinChunkSize })), Ct), HttpStatusCode.Created);
        var uploadId = begin["uploadId"]!.GetValue<string>();
        for (var i = 0; i < begin["chunkCount"]!.GetValue<int>(); i++)
        {
            var chunk = content.AsSpan(i * UploadService.MinChunkSize, Math.Min(UploadService.MinChunkSize, content.Length - (i * UploadService.MinChunkSize))).ToArray();
            var put = Deposit(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/{i}", token, new ByteArrayContent(chunk));
            put.Headers.Add(AirlockEndpoints.ChunkSha256Header, Convert.ToHexStringLower(SHA256.HashData(chunk)));
            Assert.Equal(HttpStatusCode.NoContent, (await anonymous.SendAsync(put, Ct)).StatusCode);
        }
        await JsonAsync(await anonymous.SendAsync(Deposit(HttpMethod.Post, $"airlock/deposit/uploads/{uploadId}/complete", token), Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Egress_over_http_deposit_by_token_only_sign_offs_release_and_refusals_as_problem_details()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 2);
        using var anonymous = host.Client();
        using var res = host.Client("res");

        var opened = await JsonAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "egress", script = "analysis.py", allowedRange = "127.0.0.0/8" }, Ct), HttpStatusCode.Created);
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();
        Assert.Equal("draft", opened["submission"]!["state"]!.GetValue<string>());

        // Strict JSON: unknown members are refused.
        await ProblemAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "egress", script = "a.py", extra = 1 }, Ct), HttpStatusCode.BadRequest, "invalid");
        // The deposit space never takes a Bearer key instead of the token, and a wrong token is 401.
        await ProblemAsync(await res.GetAsync("airlock/deposit/", Ct), HttpStatusCode.Unauthorized, "token_invalid");

        var table = BlobStoreContractTests.Bytes(UploadService.MinChunkSize + 10, seed: 5);
        await UploadAsync(anonymous, token, "results/table.csv", table);
        await UploadAsync(anonymous, token, "analysis.py", "print(1)\n"u8.ToArray());
        // No overwrite, no listing, no read-back for the depositor; nobody reads a volume still taking deposits.
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path = "analysis.py", size = 1, sha256 = new string('a', 64), chunkSize = UploadService.MinChunkSize })), Ct), HttpStatusCode.Conflict, "conflict");
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.SendAsync(Deposit(HttpMethod.Get, "airlock/deposit/files/analysis.py", token), Ct)).StatusCode);
        await ProblemAsync(await res.GetAsync($"api/airlock/submissions/{id}/files/analysis.py", Ct), HttpStatusCode.Forbidden, "wrong_role");

        Assert.Equal("in_review", await DepositStatus.SubmitAndWaitAsync(anonymous, token));
        // The used-up token reads its submission's state and nothing more: no second submit, no uploads, no files.
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/complete", token), Ct), HttpStatusCode.Gone, "token_used");
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Get, "airlock/deposit/", token), Ct), HttpStatusCode.Gone, "token_used");
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path = "late.py", size = 1, sha256 = new string('a', 64), chunkSize = UploadService.MinChunkSize })), Ct), HttpStatusCode.Gone, "token_used");
        var status = await DepositStatus.ReadAsync(anonymous, token);
        Assert.Equal(id, status["submissionId"]!.GetValue<string>());
        Assert.Null(status["files"]);
        Assert.DoesNotContain("table.csv", status.ToJsonString(), StringComparison.Ordinal);

        using var inv = host.Client("inv");
        using var referee = host.Client("ref");
        using var dpr = host.Client("dpr");
        await ProblemAsync(await res.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "mine" }, Ct), HttpStatusCode.Forbidden, "wrong_role");
        await ProblemAsync(await inv.PostAsJsonAsync($"api/airlock/submissions/{id}/release", new { reason = "early", hours = 1 }, Ct), HttpStatusCode.Conflict, "missing_sign_off");
        await JsonAsync(await inv.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "aggregates only" }, Ct), HttpStatusCode.OK);
        await JsonAsync(await referee.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "no small cells" }, Ct), HttpStatusCode.OK);
        var inReview = await JsonAsync(await referee.GetAsync($"api/airlock/submissions/{id}", Ct), HttpStatusCode.OK);
        Assert.Equal(["DatasetProviderRepresentative sign-off"], inReview["missingForApproval"]!.AsArray().Select(n => n!.GetValue<string>()));
        var approved = await JsonAsync(await dpr.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "agreed" }, Ct), HttpStatusCode.OK);
        Assert.Equal("approved", approved["state"]!.GetValue<string>());
        await ProblemAsync(await dpr.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "again" }, Ct), HttpStatusCode.Conflict, "wrong_state");

        var released = await JsonAsync(await inv.PostAsJsonAsync($"api/airlock/submissions/{id}/release", new { reason = "paper", hours = 2, allowedRange = "127.0.0.1/32" }, Ct), HttpStatusCode.Created);
        var releaseToken = released["releaseToken"]!.GetValue<string>();
        var get = new HttpRequestMessage(HttpMethod.Get, "airlock/release/files/results/table.csv");
        get.Headers.Add(AirlockEndpoints.ReleaseTokenHeader, releaseToken);
        var download = await anonymous.SendAsync(get, Ct);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(table, await download.Content.ReadAsByteArrayAsync(Ct));

        var audit = await JsonAsync(await host.Client("sysadmin").GetAsync($"api/audit?target=airlock/{id}&limit=100", Ct), HttpStatusCode.OK);
        Assert.Contains("airlock.submission.approved", audit.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_person_in_two_reviewer_roles_fills_one_tier_3_sign_off_and_the_second_is_a_403_problem()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 3);
        using var anonymous = host.Client();
        using var res = host.Client("res");
        using var invref = host.Client("invref");
        var opened = await JsonAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "software_ingress" }, Ct), HttpStatusCode.Created);
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();
        await UploadAsync(anonymous, token, "tool.py", "print(2)\n"u8.ToArray());
        Assert.Equal("in_review", await DepositStatus.SubmitAndWaitAsync(anonymous, token));

        await JsonAsync(await invref.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "as investigator" }, Ct), HttpStatusCode.OK);
        var second = await invref.PostAsJsonAsync($"api/airlock/submissions/{id}/reviews", new { decision = "approve", reason = "as referee" }, Ct);
        var problem = await JsonAsync(second, HttpStatusCode.Forbidden);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal("separation_of_duties", problem["code"]!.GetValue<string>());
        Assert.Contains("already signed off this submission as Investigator", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var still = await JsonAsync(await invref.GetAsync($"api/airlock/submissions/{id}", Ct), HttpStatusCode.OK);
        Assert.Equal("in_review", still["state"]!.GetValue<string>());
        Assert.Equal(["Referee sign-off"], still["missingForApproval"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task A_token_bound_to_another_range_is_refused_from_here_and_a_missing_agreement_is_409()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 2);
        using var res = host.Client("res");
        using var pm = host.Client("pm");
        var opened = await JsonAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "software_ingress", allowedRange = "192.0.2.0/24" }, Ct), HttpStatusCode.Created);
        using var anonymous = host.Client();
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Get, "airlock/deposit/", opened["depositToken"]!.GetValue<string>()), Ct), HttpStatusCode.Forbidden, "token_outside_range");
        await ProblemAsync(await anonymous.SendAsync(Deposit(HttpMethod.Get, AirlockEndpoints.DepositStatusPath, opened["depositToken"]!.GetValue<string>()), Ct), HttpStatusCode.Forbidden, "token_outside_range");
        await ProblemAsync(await pm.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "data_ingress", depositor = "dpr" }, Ct), HttpStatusCode.Conflict, "missing_agreement");
        await ProblemAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "data_ingress", depositor = "dpr" }, Ct), HttpStatusCode.Forbidden, "wrong_role");
        await ProblemAsync(await host.Client("outsider").GetAsync($"api/airlock/submissions/{opened["submission"]!["id"]!.GetValue<string>()}", Ct), HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/airlock/submissions", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_corrupted_stored_file_is_found_by_the_integrity_job_and_shows_on_healthz()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 1);
        using var res = host.Client("res");
        using var anonymous = host.Client();
        var opened = await JsonAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "software_ingress" }, Ct), HttpStatusCode.Created);
        var token = opened["depositToken"]!.GetValue<string>();
        var content = BlobStoreContractTests.Bytes(5000, seed: 77);
        await UploadAsync(anonymous, token, "tool.bin", content);
        await DepositStatus.CompleteAsync(anonymous, token);
        Assert.Equal("approved", await DepositStatus.WaitForAsync(anonymous, token, "approved"));

        var health = await JsonAsync(await anonymous.GetAsync("healthz", Ct), HttpStatusCode.OK);
        Assert.NotNull(health["airlock"]);

        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        var stored = Directory.EnumerateFiles(Path.Combine(host.DataDirectory, "blobs"), hex + "*", SearchOption.AllDirectories).Single();
        File.SetAttributes(stored, FileAttributes.Normal);
        await File.WriteAllBytesAsync(stored, [.. content[..^1], (byte)(content[^1] ^ 0xFF)], Ct);

        using var sysadmin = host.Client("sysadmin");
        Assert.Equal(HttpStatusCode.Forbidden, (await res.PostAsync("api/airlock/integrity/run", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await sysadmin.PostAsync("api/airlock/integrity/run", null, Ct)).StatusCode);
        JsonNode? degraded = null;
        for (var i = 0; i < 100 && degraded is null; i++)
        {
            var now = await JsonAsync(await anonymous.GetAsync("healthz", Ct), HttpStatusCode.OK);
            degraded = now["status"]!.GetValue<string>() == "degraded" ? now : null;
            await Task.Delay(100, Ct);
        }
        Assert.NotNull(degraded);
        Assert.Contains(degraded!["problems"]!.AsArray(), p => p!.GetValue<string>().Contains("tool.bin", StringComparison.Ordinal));
        Assert.Equal("tool.bin", degraded["airlock"]!["mismatches"]![0]!["path"]!.GetValue<string>());
        var audit = await JsonAsync(await sysadmin.GetAsync("api/audit?action=airlock.alert&limit=10", Ct), HttpStatusCode.OK);
        Assert.Contains("integrity-mismatch", audit.ToJsonString(), StringComparison.Ordinal);
    }
}
