using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SafeHaven.EndToEnd.Tests.Airlock;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Replicas;

/// <summary>
/// Two appliance replicas sharing one PostgreSQL and one S3 bucket (s3rver) behind a real nginx, driven by Debian's own
/// pip (<c>/usr/bin/python3 -m pip</c>, 23.0.1) and the real <c>safehaven</c> CLI.
/// </summary>
[Collection(ReplicaCollection.Name)]
public sealed class ReplicaTests(ReplicaUpstreamFixture upstream)
{
    private const string DepositHeader = "X-SafeHaven-Deposit-Token";

    private static async Task<(bool Succeeded, string Output, IReadOnlyList<string> Installed)> PipInstallAsync(Uri balancer, params string[] requirements)
    {
        var target = Directory.CreateTempSubdirectory("safehaven-replicas-pip-").FullName;
        try
        {
            var result = await ProcessRunner.RunAsync("/usr/bin/python3",
                ["-m", "pip", "install", "--index-url", new Uri(balancer, "pypi/simple/").ToString(), "--target", target, "--no-compile",
                    "--progress-bar", "off", "--retries", "5", "--timeout", "30", .. requirements],
                environment: PipEnvironment.Isolated(), timeout: TimeSpan.FromMinutes(4));
            var installed = Directory.EnumerateDirectories(target, "*.dist-info").Select(d => Path.GetFileName(d)[..^".dist-info".Length]).Order().ToList();
            return (result.ExitCode == 0, result.Output, installed);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>The replica ports the balancer's access log shows answering requests.</summary>
    private static HashSet<int> AnsweringReplicas(ReplicaCluster cluster) =>
        cluster.Balancer.AccessLog.Split('\n')
            .SelectMany(l => System.Text.RegularExpressions.Regex.Matches(l, @"upstream=([^ ]+)").SelectMany(m => m.Groups[1].Value.Split(',')))
            .Select(a => a.Trim().Split(':')).Where(p => p.Length == 2 && int.TryParse(p[1], out _)).Select(p => int.Parse(p[1])).ToHashSet();

    [Fact]
    public async Task Pip_installs_through_the_balancer_with_both_replicas_answering()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Settings());
        var files = Directory.EnumerateFiles(upstream.FilesDirectory, "*.whl").Select(f => Path.GetFileName(f)!)
            .Where(f => f.StartsWith("shapp-", StringComparison.Ordinal) || f.StartsWith("shlib-1.0-", StringComparison.Ordinal)).ToList();
        var before = files.ToDictionary(f => f, upstream.UpstreamGets);

        var installs = await Task.WhenAll(
            PipInstallAsync(cluster.Balancer.BaseUrl, "shapp"),
            PipInstallAsync(cluster.Balancer.BaseUrl, "shalpha", "shother"),
            PipInstallAsync(cluster.Balancer.BaseUrl, "setuptools"));
        var again = await PipInstallAsync(cluster.Balancer.BaseUrl, "shapp", "shalpha");

        foreach (var install in installs.Append(again))
        {
            Assert.True(install.Succeeded, install.Output + cluster.Logs);
        }
        // Tier 2 quarantine of seven days: shlib 1.1 (a day old) is held back on both replicas, shalpha 2.0 (20 days) is not.
        Assert.Equal(["shapp-1.0", "shlib-1.0"], installs[0].Installed);
        Assert.Equal(["shalpha-2.0", "shother-1.0"], installs[1].Installed);
        Assert.Equal(["setuptools-66.1.1"], installs[2].Installed);
        Assert.Equal(["shalpha-2.0", "shapp-1.0", "shlib-1.0"], again.Installed);
        Assert.Equal(cluster.Replicas.Select(r => r.Port).ToHashSet(), AnsweringReplicas(cluster));
        // Each file was fetched from upstream once, by one replica, and stored whole, once, in the shared bucket.
        Assert.Equal(2, files.Count);
        foreach (var file in files)
        {
            Assert.True(upstream.UpstreamGets(file) - before[file] == 1, $"{file}: {upstream.UpstreamGets(file) - before[file]} upstream GETs\n{cluster.Logs}");
        }
        Assert.True((await cluster.AssertEveryBlobWholeAsync()).Count >= 5);
    }

    /// <summary>
    /// Both replicas asked at once for a file neither has stored (upstream slowed to 256 KiB/s so the first fetch is still
    /// running when the others arrive). Verified before serving (below VerifyBeforeServingBytes): one replica fetches, the
    /// other waits for its claim and serves the stored copy, so upstream sees one GET. Streamed while stored (above it):
    /// the replica without the claim streams its clients a verified copy without storing it, so upstream sees at most one
    /// GET per replica. Either way the bucket holds the file once, whole.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_first_fetches_on_two_replicas_store_the_file_once(bool streamed)
    {
        var settings = upstream.Settings();
        settings["Mirrors:pypi:VerifyBeforeServingBytes"] = streamed ? "1" : "100000000";
        await using var cluster = await ReplicaCluster.StartAsync(2, settings);
        var filename = streamed ? "pip-23.0.1-py3-none-any.whl" : "setuptools-66.1.1-py3-none-any.whl";
        var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(upstream.FilesDirectory, filename))));
        var before = upstream.UpstreamGets(filename);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 50 }) { Timeout = TimeSpan.FromMinutes(3) };
        var project = streamed ? "pip" : "setuptools";
        foreach (var replica in cluster.Replicas)
        {
            using var page = await http.GetAsync(new Uri(replica.BaseUrl, $"pypi/simple/{project}/"));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            using var response = await http.GetAsync(new Uri(cluster.Replicas[i % 2].BaseUrl, $"pypi/packages/{project}/{filename}"));
            var body = await response.Content.ReadAsByteArrayAsync();
            return (response.StatusCode, Hash: Convert.ToHexStringLower(SHA256.HashData(body)));
        }));

        Assert.True(results.All(r => r == (HttpStatusCode.OK, expected)),
            $"{string.Join(", ", results.Select(r => (int)r.StatusCode))}\n{cluster.Logs}");
        var gets = upstream.UpstreamGets(filename) - before;
        if (streamed)
        {
            Assert.InRange(gets, 1, 2);
        }
        else
        {
            Assert.True(gets == 1, $"{gets} upstream GETs\n{cluster.Logs}");
        }
        var stored = await cluster.AssertEveryBlobWholeAsync();
        Assert.Single(stored, k => k.EndsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_policy_change_made_on_one_replica_is_in_force_on_the_other_within_seconds()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.pypi.simple.v1+json"));
        async Task<IReadOnlyList<string>> VersionsOnAsync(RestartableAppliance replica)
        {
            var page = JsonNode.Parse(await http.GetStringAsync(new Uri(replica.BaseUrl, "pypi/simple/shalpha/")))!;
            return page["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        }
        Assert.Equal(["1.0", "2.0"], await VersionsOnAsync(b));

        // The System Manager lengthens the quarantine to 30 days through replica A's API: shalpha 2.0 (20 days old) is held back.
        using var manager = a.Client(await a.AddUserAsync("sysadmin", "SystemManager"));
        HttpResponseMessage changed;
        try
        {
            changed = await manager.PutAsync("api/policy", JsonContent.Create(new { minimumAgeDays = 30, reason = "longer quarantine" }));
        }
        catch (TaskCanceledException e)
        {
            throw new TimeoutException($"PUT /api/policy on replica A did not answer\n{cluster.Logs}", e);
        }
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
        Assert.Equal(["1.0"], await VersionsOnAsync(a));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        IReadOnlyList<string> onB;
        while ((onB = await VersionsOnAsync(b)).Contains("2.0") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        Assert.True(onB.SequenceEqual(["1.0"]), $"replica B still serves {string.Join(", ", onB)} 10 s after the change on A\n{cluster.Logs}");
        // And through the balancer, whichever replica answers.
        var viaBalancer = await PipInstallAsync(cluster.Balancer.BaseUrl, "shalpha");
        Assert.True(viaBalancer.Succeeded, viaBalancer.Output);
        Assert.Equal(["shalpha-1.0"], viaBalancer.Installed);
    }

    /// <summary>
    /// Tier 3: the allowlist closure is computed on one replica and adopted by the other, at start and after an
    /// allowlist change made through one replica. Counted from the replicas' own logs: each computation it stores says
    /// "computed here shared".
    /// </summary>
    [Fact]
    public async Task A_Tier_3_closure_is_computed_once_and_served_by_both_replicas_also_after_an_allowlist_change()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Tier3Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);
        int Computed() => cluster.Replicas.Sum(r => CountOf(r.Log, "allowlist closure computed here shared"));
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        async Task<HttpStatusCode> PageOnAsync(RestartableAppliance replica, string project) =>
            (await http.GetAsync(new Uri(replica.BaseUrl, $"pypi/simple/{project}/"))).StatusCode;

        // Both replicas are ready (the cluster waits for /readyz) and serve the closure: shapp and its dependency shlib.
        foreach (var replica in cluster.Replicas)
        {
            Assert.Equal(HttpStatusCode.OK, await PageOnAsync(replica, "shapp"));
            Assert.Equal(HttpStatusCode.OK, await PageOnAsync(replica, "shlib"));
            Assert.Equal(HttpStatusCode.NotFound, await PageOnAsync(replica, "shalpha"));
        }
        Assert.True(Computed() == 1, $"the closure was computed {Computed()} times for two replicas at start\n{cluster.Logs}");
        Assert.Contains("allowlist closure computed here shared", a.Log, StringComparison.Ordinal);
        Assert.Contains("allowlist closure not computed again", b.Log, StringComparison.Ordinal);

        // The System Manager adds shalpha through replica A, a college Referee approves it through replica B: both
        // replicas serve it within seconds, computed once more.
        using var manager = a.Client(await a.AddUserAsync("sysadmin", "SystemManager"));
        using var referee = b.Client(await b.AddUserAsync("college", "CollegeReferee"));
        await RestartableAppliance.OkAsync(await manager.PostAsync("api/allowlists/pypi/entries", JsonContent.Create(new { name = "shalpha", reason = "requested by a researcher" })));
        await RestartableAppliance.OkAsync(await referee.PostAsync("api/allowlists/pypi/entries/shalpha/approve", JsonContent.Create(new { reason = "well maintained" })));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while ((await PageOnAsync(a, "shalpha") != HttpStatusCode.OK || await PageOnAsync(b, "shalpha") != HttpStatusCode.OK) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }
        Assert.True(await PageOnAsync(a, "shalpha") == HttpStatusCode.OK, $"replica A does not serve shalpha 15 s after its approval\n{cluster.Logs}");
        Assert.True(await PageOnAsync(b, "shalpha") == HttpStatusCode.OK, $"replica B does not serve shalpha 15 s after its approval\n{cluster.Logs}");
        // Both replicas asked for a run when they saw the change; the second run found the first one's closure stored.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(Computed() == 2, $"the closure was computed {Computed() - 1} times after one change\n{cluster.Logs}");
        Assert.True(CountOf(a.Log + b.Log, "allowlist closure not computed again") >= 2, cluster.Logs);
    }

    /// <summary>
    /// A sync asked for through replica B runs once and both replicas report it alike (the state is in the shared
    /// database): the same last success, trigger, counts and current snapshot.
    /// </summary>
    [Fact]
    public async Task A_sync_asked_for_through_one_replica_is_reported_alike_by_both()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Tier3Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);
        var key = await a.AddUserAsync("sysadmin", "SystemManager");
        using var onA = a.Client(key);
        using var onB = b.Client(key);

        var started = await onB.PostAsync("api/sync/pypi", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        JsonNode reportA;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            reportA = await RestartableAppliance.OkAsync(await onA.GetAsync("api/sync/pypi"));
            if (reportA["running"]!.GetValue<bool>())
            {
                // A reports the run B holds, and which replica holds it.
                Assert.False(string.IsNullOrEmpty(reportA["runningOn"]?.GetValue<string>()), reportA.ToJsonString());
            }
            if (reportA["lastSuccess"] is not null || reportA["lastFailure"] is not null || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(250);
        }
        Assert.True(reportA["lastSuccess"] is not null, $"{reportA.ToJsonString()}\n{cluster.Logs}");
        var reportB = await RestartableAppliance.OkAsync(await onB.GetAsync("api/sync/pypi"));
        foreach (var field in new[] { "lastSuccess", "documents", "artifacts", "bytes", "trigger" })
        {
            Assert.Equal(reportB[field]!.ToJsonString(), reportA[field]!.ToJsonString());
        }
        Assert.Equal(reportB["current"]!["id"]!.GetValue<string>(), reportA["current"]!["id"]!.GetValue<string>());
        Assert.Equal("api", reportA["trigger"]!.GetValue<string>());
        Assert.True(reportA["artifacts"]!.GetValue<long>() >= 2, reportA.ToJsonString()); // shapp and shlib, prefetched at Tier 3
        // One run: the replicas' logs show one start.
        Assert.Equal(1, CountOf(a.Log + b.Log, "pypi sync started"));
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    [Fact]
    public async Task An_airlock_upload_started_through_one_replica_resumes_through_the_other()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);
        var keys = await a.AddTier2ProjectAsync("Replicas");
        var open = await a.CliAsync("airlock", "open", "--url", a.BaseUrl.ToString(), "--token", keys["res"], "--project", "proj", "--work-package", "wp", "--kind", "software_ingress");
        Assert.True(open.ExitCode == 0, open.Output);
        var opened = JsonNode.Parse(open.StandardOutput)!;
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();
        const int chunkSize = 1024 * 1024;
        var content = new byte[(4 * chunkSize) + 777];
        new Random(16).NextBytes(content);
        var file = Path.Combine(Path.GetTempPath(), $"replica-upload-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(file, content);
        try
        {
            using var viaA = a.Client(null);
            viaA.DefaultRequestHeaders.Add(DepositHeader, token);
            var begin = await RestartableAppliance.OkAsync(await viaA.PostAsJsonAsync("airlock/deposit/uploads",
                new { path = Path.GetFileName(file), size = content.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), chunkSize }));
            var uploadId = begin["uploadId"]!.GetValue<string>();
            for (var i = 0; i < 2; i++)
            {
                var chunk = content.AsSpan(i * chunkSize, chunkSize).ToArray();
                var put = new HttpRequestMessage(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/{i}") { Content = new ByteArrayContent(chunk) };
                put.Headers.Add("X-Chunk-SHA256", Convert.ToHexStringLower(SHA256.HashData(chunk)));
                Assert.Equal(HttpStatusCode.NoContent, (await viaA.SendAsync(put)).StatusCode);
            }

            // Replica B knows the upload A received, and the real CLI finishes it through B.
            using var viaB = b.Client(null);
            viaB.DefaultRequestHeaders.Add(DepositHeader, token);
            var status = await RestartableAppliance.OkAsync(await viaB.GetAsync($"airlock/deposit/uploads/{uploadId}"));
            Assert.Equal([0, 1], status["receivedChunks"]!.AsArray().Select(n => n!.GetValue<int>()));
            var deposit = await b.CliAsync("airlock", "deposit", "--url", b.BaseUrl.ToString(), "--deposit-token", token, "--chunk-mib", "1", file);
            Assert.True(deposit.ExitCode == 0, deposit.Output + cluster.Logs);
            var submit = await b.CliAsync("airlock", "submit", "--url", b.BaseUrl.ToString(), "--deposit-token", token);
            Assert.True(submit.ExitCode == 0, submit.Output);
            var review = await a.CliAsync("airlock", "review", id, "--url", a.BaseUrl.ToString(), "--token", keys["inv"], "--decision", "approve", "--reason", "checked");
            Assert.True(review.ExitCode == 0, review.Output);

            foreach (var replica in cluster.Replicas)
            {
                var read = await replica.Client(keys["res"]).GetAsync($"api/airlock/submissions/{id}/files/{Path.GetFileName(file)}");
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
                Assert.Equal(content, await read.Content.ReadAsByteArrayAsync());
            }
            await cluster.AssertEveryBlobWholeAsync();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_replica_killed_in_the_middle_of_concurrent_installs_costs_no_install()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);

        // Eight pip installs at once through nginx (upstream slowed to 256 KiB/s, so they are mid-download); replica B
        // dies with SIGKILL while they run. pip's own retries (--retries 5) and nginx's next-upstream absorb it.
        var installs = Enumerable.Range(0, 8).Select(i => PipInstallAsync(cluster.Balancer.BaseUrl,
            (i % 4) switch { 0 => ["shapp"], 1 => ["shalpha", "shother"], 2 => ["setuptools"], _ => ["pip"] })).ToList();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await b.KillAsync();

        var results = await Task.WhenAll(installs);
        foreach (var install in results)
        {
            Assert.True(install.Succeeded, install.Output + cluster.Logs);
        }
        Assert.Equal(["pip-23.0.1"], results[3].Installed);
        Assert.Equal(["setuptools-66.1.1"], results[2].Installed);
        // Nothing half-visible in the shared bucket: every object is whole under its digest, no staging object left.
        await cluster.AssertEveryBlobWholeAsync();
        Assert.Contains(a.Port, AnsweringReplicas(cluster));
    }

    [Fact]
    public async Task A_replica_killed_in_the_middle_of_a_deposit_loses_no_upload_and_shows_nothing_half_written()
    {
        await using var cluster = await ReplicaCluster.StartAsync(2, upstream.Settings());
        var (a, b) = (cluster.Replicas[0], cluster.Replicas[1]);
        var keys = await a.AddTier2ProjectAsync("Replicas kill");
        var balancer = cluster.Balancer.BaseUrl.ToString();
        var open = await a.CliAsync("airlock", "open", "--url", balancer, "--token", keys["res"], "--project", "proj", "--work-package", "wp", "--kind", "software_ingress");
        Assert.True(open.ExitCode == 0, open.Output);
        var opened = JsonNode.Parse(open.StandardOutput)!;
        var id = opened["submission"]!["id"]!.GetValue<string>();
        var token = opened["depositToken"]!.GetValue<string>();
        var content = new byte[(12 * 1024 * 1024) + 4321];
        new Random(9).NextBytes(content);
        var file = Path.Combine(Path.GetTempPath(), $"replica-kill-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(file, content);
        try
        {
            var deposit = a.CliAsync("airlock", "deposit", "--url", balancer, "--deposit-token", token, "--chunk-mib", "1", file);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await b.KillAsync();

            // Nothing half-visible meanwhile: the submission is a draft whose files nobody can read.
            var draft = await RestartableAppliance.OkAsync(await a.Client(keys["inv"]).GetAsync($"api/airlock/submissions/{id}"));
            Assert.Equal("draft", draft["state"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.Forbidden, (await a.Client(keys["res"]).GetAsync($"api/airlock/submissions/{id}/files/{Path.GetFileName(file)}")).StatusCode);

            // The deposit either finished or stopped at a chunk the dead replica was receiving; run again, the CLI sends
            // only the missing chunks (a depositor's retry).
            var deposited = await deposit;
            if (deposited.ExitCode != 0)
            {
                deposited = await a.CliAsync("airlock", "deposit", "--url", balancer, "--deposit-token", token, "--chunk-mib", "1", file);
            }
            Assert.True(deposited.ExitCode == 0, deposited.Output + cluster.Logs);
            var submit = await a.CliAsync("airlock", "submit", "--url", balancer, "--deposit-token", token);
            Assert.True(submit.ExitCode == 0, submit.Output);
            var review = await a.CliAsync("airlock", "review", id, "--url", balancer, "--token", keys["inv"], "--decision", "approve", "--reason", "checked");
            Assert.True(review.ExitCode == 0, review.Output);
            var read = await a.Client(keys["res"]).GetAsync($"api/airlock/submissions/{id}/files/{Path.GetFileName(file)}");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal(content, await read.Content.ReadAsByteArrayAsync());
            await cluster.AssertEveryBlobWholeAsync();
        }
        finally
        {
            File.Delete(file);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicaCollection : ICollectionFixture<ReplicaUpstreamFixture>
{
    public const string Name = "Replicas end to end";
}
