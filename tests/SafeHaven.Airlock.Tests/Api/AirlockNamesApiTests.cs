using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>Look-alike names over HTTP: each refused with a 400 problem that says why.</summary>
public sealed class AirlockNamesApiTests
{
    private static CancellationToken Ct => TestContext.Token;

    private static HttpRequestMessage Deposit(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        return request;
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body)> BeginAsync(HttpClient client, string token, string path)
    {
        var response = await client.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path, size = 0, sha256 = Convert.ToHexStringLower(SHA256.HashData([])), chunkSize = UploadService.MinChunkSize })), Ct);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!);
    }

    private static async Task<string> RefusedAsync(HttpClient client, string token, string path)
    {
        var (status, body) = await BeginAsync(client, token, path);
        Assert.True(status == HttpStatusCode.BadRequest, $"'{path}': expected 400, got {(int)status}: {body.ToJsonString()}");
        Assert.Equal("invalid", body["code"]!.GetValue<string>());
        return body["detail"]!.GetValue<string>();
    }

    [Fact]
    public async Task Look_alike_names_are_refused_with_a_clear_400_and_nfd_becomes_nfc()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 2);
        using var res = host.Client("res");
        using var anonymous = host.Client();
        var opened = JsonNode.Parse(await (await res.PostAsJsonAsync("api/airlock/submissions",
            new { project = "proj", workPackage = "wp", kind = "egress", script = "analysis.py" }, Ct)).Content.ReadAsStringAsync(Ct))!;
        var token = opened["depositToken"]!.GetValue<string>();

        // One completed file, one upload still open.
        var (created, begun) = await BeginAsync(anonymous, token, "data/cafe\u0301.csv");
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal("data/caf\u00e9.csv", begun["path"]!.GetValue<string>());
        var complete = await anonymous.SendAsync(Deposit(HttpMethod.Post, $"airlock/deposit/uploads/{begun["uploadId"]!.GetValue<string>()}/complete", token), Ct);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await BeginAsync(anonymous, token, "results/Summary.txt")).Status);

        // The NFC form of the stored NFD name is the same file: files are never overwritten.
        var (again, conflict) = await BeginAsync(anonymous, token, "data/caf\u00e9.csv");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("already has a file 'data/caf\u00e9.csv'", conflict["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Contains("differs only in case from 'data/caf\u00e9.csv'", await RefusedAsync(anonymous, token, "Data/CAF\u00c9.csv"), StringComparison.Ordinal);
        Assert.Contains("differs only in case from 'results/Summary.txt'", await RefusedAsync(anonymous, token, "results/summary.TXT"), StringComparison.Ordinal);
        Assert.Contains("needs 'data/caf\u00e9.csv' to be a directory", await RefusedAsync(anonymous, token, "data/caf\u00e9.csv/inner.txt"), StringComparison.Ordinal);
        Assert.Contains("would be a file, but the volume has 'results/Summary.txt'", await RefusedAsync(anonymous, token, "results"), StringComparison.Ordinal);
        Assert.Contains("format character", await RefusedAsync(anonymous, token, "invoice\u202Efdp.exe"), StringComparison.Ordinal);
        Assert.Contains("U+202E", await RefusedAsync(anonymous, token, "invoice\u202Efdp.exe"), StringComparison.Ordinal);
        Assert.Contains("control character (U+001B", await RefusedAsync(anonymous, token, "a\u001b[31m.txt"), StringComparison.Ordinal);
        Assert.Contains("format character (bidirectional override, zero-width", await RefusedAsync(anonymous, token, "re\u200Bport.txt"), StringComparison.Ordinal);

        // None of the refused names was kept: a distinct name still goes in.
        Assert.Equal(HttpStatusCode.Created, (await BeginAsync(anonymous, token, "results/other.txt")).Status);
    }
}
