using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace SafeHaven.EndToEnd.Tests.Airlock;

/// <summary>
/// The appliance is killed in the middle of a chunk upload. After a restart on the same data directory the chunks
/// that completed are still there, the half-sent one is not, no file is half-visible, and the real
/// <c>safehaven airlock deposit</c> resumes from the next missing chunk; then the workflow carries on to approval.
/// </summary>
public sealed class AirlockKillDuringUploadTests
{
    private const int ChunkSize = 1024 * 1024;
    private const string DepositHeader = "X-SafeHaven-Deposit-Token";

    private static Task<JsonNode> OkAsync(HttpResponseMessage response) => RestartableAppliance.OkAsync(response);

    /// <summary>Sends half a chunk, then stalls until the connection dies.</summary>
    private sealed class StallingContent(byte[] data, TaskCompletionSource halfSent) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(data.AsMemory(0, data.Length / 2), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            halfSent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }

    [Fact]
    public async Task Killed_mid_upload_the_completed_chunks_survive_and_the_cli_resumes_the_submission()
    {
        await using var appliance = new RestartableAppliance();
        await appliance.StartAsync();

        // People and the project: a Programme Manager creates it; the CLI gives the project roles and keys.
        var keys = await appliance.AddTier2ProjectAsync("Airlock end-to-end");

        // res opens a software ingress with the CLI; the deposit token is printed once.
        var url = appliance.BaseUrl.ToString();
        var open = await appliance.CliAsync("airlock", "open", "--url", url, "--token", keys["res"], "--project", "proj", "--work-package", "wp", "--kind", "software_ingress");
        Assert.True(open.ExitCode == 0, open.Output);
        var opened = JsonNode.Parse(open.StandardOutput)!;
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();

        var content = new byte[(5 * ChunkSize) + 12345];
        new Random(42).NextBytes(content);
        var file = Path.Combine(appliance.DataDirectory, "..", $"tool-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(file, content);
        try
        {
            using var depositor = appliance.Client(null);
            depositor.DefaultRequestHeaders.Add(DepositHeader, token);
            var begin = await OkAsync(await depositor.PostAsJsonAsync("airlock/deposit/uploads",
                new { path = Path.GetFileName(file), size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize = ChunkSize }));
            var uploadId = begin["uploadId"]!.GetValue<string>();
            for (var i = 0; i < 2; i++)
            {
                var chunk = content.AsSpan(i * ChunkSize, ChunkSize).ToArray();
                var put = new HttpRequestMessage(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/{i}") { Content = new ByteArrayContent(chunk) };
                put.Headers.Add("X-Chunk-SHA256", Convert.ToHexStringLower(SHA256.HashData(chunk)));
                Assert.Equal(HttpStatusCode.NoContent, (await depositor.SendAsync(put)).StatusCode);
            }

            // Chunk 2 is half on the wire when the appliance dies.
            var third = content.AsSpan(2 * ChunkSize, ChunkSize).ToArray();
            var halfSent = new TaskCompletionSource();
            var stalled = new HttpRequestMessage(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/2") { Content = new StallingContent(third, halfSent) };
            stalled.Headers.Add("X-Chunk-SHA256", Convert.ToHexStringLower(SHA256.HashData(third)));
            using var stall = new CancellationTokenSource();
            var sending = depositor.SendAsync(stalled, stall.Token);
            await halfSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await Task.Delay(300);
            await appliance.KillAsync();
            stall.Cancel();
            await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(30)));

            await appliance.StartAsync();
            using var after = appliance.Client(null);
            after.DefaultRequestHeaders.Add(DepositHeader, token);
            var status = await OkAsync(await after.GetAsync($"airlock/deposit/uploads/{uploadId}"));
            Assert.Equal([0, 1], status["receivedChunks"]!.AsArray().Select(n => n!.GetValue<int>()));
            Assert.Equal(2, status["nextMissingChunk"]!.GetValue<int>());
            Assert.Equal("open", status["state"]!.GetValue<string>());
            // Nothing half-visible: the submission is still a draft and nobody can read its volume.
            var draft = await OkAsync(await appliance.Client(keys["inv"]).GetAsync($"api/airlock/submissions/{id}"));
            Assert.Equal("draft", draft["state"]!.GetValue<string>());
            Assert.Null(draft["files"]);
            Assert.Equal(HttpStatusCode.Forbidden, (await appliance.Client(keys["inv"]).GetAsync($"api/airlock/submissions/{id}/files/{Path.GetFileName(file)}")).StatusCode);

            // The real CLI resumes (same path, size, hash and chunk size: it asks the status and sends only the missing chunks).
            var deposit = await appliance.CliAsync("airlock", "deposit", "--url", url, "--deposit-token", token, "--chunk-mib", "1", file);
            Assert.True(deposit.ExitCode == 0, deposit.Output + appliance.Log);
            var submit = await appliance.CliAsync("airlock", "submit", "--url", url, "--deposit-token", token);
            Assert.True(submit.ExitCode == 0, submit.Output);
            Assert.Equal("in_review", JsonNode.Parse(submit.StandardOutput)!["state"]!.GetValue<string>());
            var again = await appliance.CliAsync("airlock", "submit", "--url", url, "--deposit-token", token);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("410", again.Output, StringComparison.Ordinal);

            var self = await appliance.CliAsync("airlock", "review", id, "--url", url, "--token", keys["res"], "--decision", "approve", "--reason", "mine");
            Assert.Equal(1, self.ExitCode);
            var review = await appliance.CliAsync("airlock", "review", id, "--url", url, "--token", keys["inv"], "--decision", "approve", "--reason", "checked the tool");
            Assert.True(review.ExitCode == 0, review.Output);
            Assert.Equal("approved", JsonNode.Parse(review.StandardOutput)!["state"]!.GetValue<string>());

            var read = await appliance.Client(keys["res"]).GetAsync($"api/airlock/submissions/{id}/files/{Path.GetFileName(file)}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(content, await read.Content.ReadAsByteArrayAsync());
            var statusCli = await appliance.CliAsync("airlock", "status", id, "--url", url, "--token", keys["res"]);
            Assert.True(statusCli.ExitCode == 0, statusCli.Output);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), JsonNode.Parse(statusCli.StandardOutput)!["files"]![0]!["sha256"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
