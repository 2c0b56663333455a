using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Tests.Support;
using SafeHaven.Airlock.Uploads;

namespace SafeHaven.Airlock.Tests.Api;

/// <summary>Quotas, a full disk, aborting an upload and free space on <c>/healthz</c>, over HTTP.</summary>
[Collection(FullDiskCollection.Name)]
public sealed class AirlockStorageApiTests
{
    private const int ChunkSize = UploadService.MinChunkSize;

    private static CancellationToken Ct => TestContext.Token;

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task NoContentAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"expected 204, got {(int)response.StatusCode}: {text}");
    }

    private static async Task<string> InsufficientStorageAsync(HttpResponseMessage response)
    {
        var problem = await JsonAsync(response, HttpStatusCode.InsufficientStorage);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("insufficient_storage", problem["code"]!.GetValue<string>());
        return problem["detail"]!.GetValue<string>();
    }

    private static HttpRequestMessage Deposit(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AirlockEndpoints.DepositTokenHeader, token);
        return request;
    }

    private static async Task<string> OpenEgressAsync(AirlockApiHost host)
    {
        using var res = host.Client("res");
        var opened = await JsonAsync(await res.PostAsJsonAsync("api/airlock/submissions", new { project = "proj", workPackage = "wp", kind = "egress", script = "analysis.py" }, Ct), HttpStatusCode.Created);
        return opened["depositToken"]!.GetValue<string>();
    }

    private static Task<HttpResponseMessage> BeginAsync(HttpClient client, string token, string path, long size, string sha256 = "") =>
        client.SendAsync(Deposit(HttpMethod.Post, "airlock/deposit/uploads", token,
            JsonContent.Create(new { path, size, sha256 = sha256.Length > 0 ? sha256 : new string('0', 64), chunkSize = ChunkSize })), Ct);

    private static Task<HttpResponseMessage> PutChunkAsync(HttpClient client, string token, string uploadId, long index, byte[] chunk)
    {
        var put = Deposit(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/{index}", token, new ByteArrayContent(chunk));
        put.Headers.Add(AirlockEndpoints.ChunkSha256Header, Convert.ToHexStringLower(SHA256.HashData(chunk)));
        return client.SendAsync(put, Ct);
    }

    private static IEnumerable<string> FilesUnder(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task A_26_TB_declaration_and_one_over_the_submission_quota_answer_507_at_once_and_an_upload_can_be_aborted()
    {
        await using var host = await AirlockApiHost.StartAsync(tier: 2, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Storage:MaxSubmissionBytes"] = "1000000",
            ["SafeHaven:Airlock:Storage:MinFreeBytes"] = "0",
        });
        using var anonymous = host.Client();
        var token = await OpenEgressAsync(host);

        var clock = Stopwatch.StartNew();
        var huge = await InsufficientStorageAsync(await BeginAsync(anonymous, token, "huge.bin", 26_000_000_000_000));
        clock.Stop();
        Assert.Contains("Quota exceeded", huge, StringComparison.Ordinal);
        Assert.Contains("MaxSubmissionBytes", huge, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the refusal took {clock.Elapsed}");

        var content = RandomNumberGenerator.GetBytes(3 * ChunkSize);
        var begin = await JsonAsync(await BeginAsync(anonymous, token, "data.bin", content.Length, Convert.ToHexStringLower(SHA256.HashData(content))), HttpStatusCode.Created);
        var uploadId = begin["uploadId"]!.GetValue<string>();
        var over = await InsufficientStorageAsync(await BeginAsync(anonymous, token, "more.bin", 1_000_000 - content.Length + 1));
        Assert.Contains($"holds or expects {content.Length} bytes", over, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await PutChunkAsync(anonymous, token, uploadId, 0, content[..ChunkSize])).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await PutChunkAsync(anonymous, token, uploadId, 1, content[ChunkSize..(2 * ChunkSize)])).StatusCode);
        var chunks = Path.Combine(host.DataDirectory, "airlock-chunks", "sha256");
        Assert.Equal(2, FilesUnder(chunks).Count());

        await NoContentAsync(await anonymous.SendAsync(Deposit(HttpMethod.Delete, $"airlock/deposit/uploads/{uploadId}", token), Ct));

        Assert.Empty(FilesUnder(chunks));
        var status = await JsonAsync(await anonymous.SendAsync(Deposit(HttpMethod.Get, $"airlock/deposit/uploads/{uploadId}", token), Ct), HttpStatusCode.OK);
        Assert.Equal("aborted", status["state"]!.GetValue<string>());
        Assert.Empty(status["receivedChunks"]!.AsArray());
        var again = await JsonAsync(await anonymous.SendAsync(Deposit(HttpMethod.Delete, $"airlock/deposit/uploads/{uploadId}", token), Ct), HttpStatusCode.Conflict);
        Assert.Contains("aborted", again["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        // The aborted upload no longer counts against the quota.
        await JsonAsync(await BeginAsync(anonymous, token, "more.bin", 1_000_000), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Healthz_reports_the_free_space_of_every_store_and_degrades_below_the_threshold()
    {
        await using (var host = await AirlockApiHost.StartAsync(tier: 2, settings: new Dictionary<string, string?> { ["SafeHaven:Airlock:Storage:MinFreeBytes"] = "0" }))
        {
            using var client = host.Client();
            var health = await JsonAsync(await client.GetAsync("healthz", Ct), HttpStatusCode.OK);
            var stores = health["storage"]!.AsArray();
            Assert.Equal(["data", "blobs"], stores.Select(s => s!["store"]!.GetValue<string>()));
            Assert.All(stores, s => Assert.True(s!["freeBytes"]!.GetValue<long>() > 0));
            Assert.DoesNotContain(health["problems"]!.AsArray(), p => p!.GetValue<string>().StartsWith("storage:", StringComparison.Ordinal));
        }
        await using (var host = await AirlockApiHost.StartAsync(tier: 2, settings: new Dictionary<string, string?> { ["SafeHaven:Airlock:Storage:MinFreeBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) }))
        {
            using var client = host.Client();
            var health = await JsonAsync(await client.GetAsync("healthz", Ct), HttpStatusCode.OK);
            Assert.Equal("degraded", health["status"]!.GetValue<string>());
            var problems = health["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
            Assert.Contains(problems, p => p.StartsWith("storage: the data store at", StringComparison.Ordinal) && p.Contains("below the", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.StartsWith("storage: the blobs store at", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Storage_settings_are_validated_at_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Storage:MaxVolumeBytes"] = "0",
            ["SafeHaven:Airlock:Storage:MinFreeBytes"] = "-1",
        }).Build();
        var services = new ServiceCollection();

        var error = Assert.Throws<InvalidOperationException>(() =>
            _ = services.AddSafeHavenAirlock(new SafeHaven.Core.Configuration.SafeHavenOptions { DataDirectory = Path.GetTempPath() }, configuration).Count);

        Assert.Contains("SafeHaven:Airlock:Storage:MaxVolumeBytes must be positive (is 0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("SafeHaven:Airlock:Storage:MinFreeBytes must be 0 or more (is -1)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A real full disk: the data directory is a 4 MiB tmpfs the test mounts; the disk fills up under an open upload
    /// (another writer takes the space). The chunk answers 507 with the reason, nothing half-written is left or listed,
    /// and the depositor can still abort, which frees the chunks.
    /// </summary>
    [TmpfsFact]
    public async Task A_full_disk_answers_507_keeps_nothing_half_written_and_the_upload_can_be_aborted()
    {
        using var mount = TmpfsMount.TryCreate("4m", out var why) ?? throw new InvalidOperationException(why);
        await using var host = await AirlockApiHost.StartAsync(tier: 2, dataDirectory: mount.Path, settings: new Dictionary<string, string?>
        {
            ["SafeHaven:Airlock:Storage:MinFreeBytes"] = "0",
        });
        using var anonymous = host.Client();
        var token = await OpenEgressAsync(host);

        // A declaration larger than the disk is refused before anything is kept.
        var tooBig = await InsufficientStorageAsync(await BeginAsync(anonymous, token, "big.bin", 8L * 1024 * 1024));
        Assert.Contains("Not enough free space", tooBig, StringComparison.Ordinal);

        var content = RandomNumberGenerator.GetBytes(8 * ChunkSize);
        var begin = await JsonAsync(await BeginAsync(anonymous, token, "data.bin", content.Length, Convert.ToHexStringLower(SHA256.HashData(content))), HttpStatusCode.Created);
        var uploadId = begin["uploadId"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await PutChunkAsync(anonymous, token, uploadId, 0, content[..ChunkSize])).StatusCode);

        // Another writer takes every remaining byte.
        var filler = Path.Combine(mount.Path, "filler");
        TmpfsMount.Fill(filler);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // PROBE

        var full = await InsufficientStorageAsync(await PutChunkAsync(anonymous, token, uploadId, 1, content[ChunkSize..(2 * ChunkSize)]));
        Assert.Contains("disk is full", full, StringComparison.Ordinal);
        Assert.Empty(FilesUnder(Path.Combine(host.DataDirectory, "airlock-chunks", "tmp")));
        Assert.Empty(FilesUnder(Path.Combine(host.DataDirectory, "blobs", "tmp")));
        Assert.Single(FilesUnder(Path.Combine(host.DataDirectory, "airlock-chunks", "sha256")));

        // The depositor aborts on the full disk: the chunks go, then the session.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // PROBE
        await NoContentAsync(await anonymous.SendAsync(Deposit(HttpMethod.Delete, $"airlock/deposit/uploads/{uploadId}", token), Ct));
        Assert.Empty(FilesUnder(Path.Combine(host.DataDirectory, "airlock-chunks", "sha256")));
        File.Delete(filler);
        var status = await JsonAsync(await anonymous.SendAsync(Deposit(HttpMethod.Get, $"airlock/deposit/uploads/{uploadId}", token), Ct), HttpStatusCode.OK);
        Assert.Equal("aborted", status["state"]!.GetValue<string>());
        Assert.Empty(status["receivedChunks"]!.AsArray());
    }
}
