using SafeHaven.Airlock.Scanning;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Tests.Workflow;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Airlock.Tests.Scanning;

/// <summary>
/// The scan job's worker over real stores and a hand-moved clock: claims with leases in the airlock database, a
/// worker that died mid-inspection (its claim left behind, as a killed process leaves it), the watchdog, the deposit
/// token that still reads its own state after submit.
/// </summary>
public abstract class AirlockScannerTests(DatabaseProvider provider)
{
    private WorkflowHarness Harness(int tier) => new(tier, provider);

    protected DatabaseProvider Provider => provider;

    private static CancellationToken Ct => TestContext.Token;

    private static readonly byte[] Tool = BlobStoreContractTests.Bytes(5000, seed: 11);

    /// <summary>Opens, deposits and marks complete: the submission waits in <c>submitted</c>, no inspection has run.</summary>
    private static async Task<(Submission Submission, string Token)> SubmittedAsync(WorkflowHarness h)
    {
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.Workflow.FinishDepositAsync(await h.Workflow.DepositSessionAsync(opened.DepositToken, WorkflowHarness.Remote, Ct), Ct);
        return (submitted, opened.DepositToken);
    }

    /// <summary>What a worker of another process did before it was killed: claimed the submission and moved it to scanning.</summary>
    private static async Task<ScanClaim> DiedWhileScanningAsync(WorkflowHarness h, string id)
    {
        var claim = await h.Claims.ClaimNextAsync("other-node/dead-run", TimeSpan.FromSeconds(60), Ct);
        Assert.NotNull(claim);
        Assert.Equal(id, claim.SubmissionId);
        Assert.True(await new SubmissionStore(h.Database, h.Time).TransitionAsync(id, SubmissionState.Submitted, SubmissionState.Scanning, "inspection started", Ct));
        return claim;
    }

    [Fact]
    public async Task Finishing_a_deposit_returns_submitted_and_the_scan_job_takes_it_to_in_review()
    {
        using var h = Harness(tier: 2);
        var (submitted, token) = await SubmittedAsync(h);
        Assert.Equal(SubmissionState.Submitted, submitted.State);
        Assert.Equal(SubmissionState.Submitted, (await h.Workflow.DepositStatusAsync(token, WorkflowHarness.Remote, Ct)).State);

        Assert.Equal(1, await h.ScanPendingAsync());
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.DepositStatusAsync(token, WorkflowHarness.Remote, Ct)).State);
        Assert.Null(await h.Claims.GetAsync(submitted.Id, Ct));
        Assert.Equal(0, await h.ScanPendingAsync());
        var scanning = (await h.AuditAsync(submitted.Id)).Single(e => e.Action == "airlock.submission.scanning");
        Assert.Equal(h.Scanner.Owner, scanning.Details["worker"]);
    }

    [Fact]
    public async Task A_worker_that_died_is_taken_over_once_its_lease_lapses_and_the_scan_resumes()
    {
        using var h = Harness(tier: 2);
        var (submitted, _) = await SubmittedAsync(h);
        await DiedWhileScanningAsync(h, submitted.Id);

        // Its lease is still live: nobody else touches it.
        Assert.Equal(0, await h.ScanPendingAsync());
        Assert.Equal(SubmissionState.Scanning, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);

        h.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(1, await h.ScanPendingAsync());
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
        var resumed = (await h.AuditAsync(submitted.Id)).Single(e => e.Action == "airlock.submission.scan-resumed");
        Assert.Equal(h.Scanner.Owner, resumed.Details["worker"]);
    }

    [Fact]
    public async Task A_restart_of_the_same_node_resumes_its_interrupted_scans_at_once()
    {
        using var h = Harness(tier: 2);
        var (submitted, _) = await SubmittedAsync(h);
        var node = "this-node";
        var killed = await h.Claims.ClaimNextAsync($"{node}/killed-run", TimeSpan.FromSeconds(600), Ct);
        Assert.NotNull(killed);
        Assert.True(await new SubmissionStore(h.Database, h.Time).TransitionAsync(submitted.Id, SubmissionState.Submitted, SubmissionState.Scanning, "inspection started", Ct));

        // The new process of the same node (same SafeHaven:Airlock:ScanWorkerId) drops the dead run's claims on its first run.
        var restarted = new AirlockScanner(h.Workflow, h.Claims, new AirlockOptions { ScanWorkerId = node }, Microsoft.Extensions.Logging.Abstractions.NullLogger<AirlockScanner>.Instance);
        Assert.Equal(1, await restarted.RunAsync(Ct));
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
    }

    [Fact]
    public async Task The_watchdog_fails_a_scan_past_the_timeout_with_the_reason_and_a_rescan_passes()
    {
        using var h = Harness(tier: 2);
        var (submitted, token) = await SubmittedAsync(h);
        await DiedWhileScanningAsync(h, submitted.Id);

        h.Time.Advance(h.Workflow.ScanTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await h.ScanPendingAsync());
        var failed = await h.Workflow.GetAsync(submitted.Id, Ct);
        Assert.Equal(SubmissionState.Failed, failed.State);
        Assert.Equal("inspection timed out after 3600 s (SafeHaven:Airlock:ScanTimeoutSeconds); rescan to try again", failed.StateReason);
        Assert.Null(await h.Claims.GetAsync(submitted.Id, Ct));
        Assert.Equal(SubmissionState.Failed, (await h.Workflow.DepositStatusAsync(token, WorkflowHarness.Remote, Ct)).State);

        var e = await Assert.ThrowsAsync<AirlockWorkflowException>(() => h.Workflow.RescanAsync(h.Caller("res"), submitted.Id, Ct));
        Assert.Equal(AirlockError.WrongRole, e.Error);
        var queued = await h.Workflow.RescanAsync(h.Caller("inv"), submitted.Id, Ct);
        Assert.Equal(SubmissionState.Submitted, queued.State);
        Assert.Equal(1, await h.ScanPendingAsync());
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);

        var actions = (await h.AuditAsync(submitted.Id)).Select(a => a.Action).ToList();
        Assert.Equal(["airlock.submission.opened", "airlock.submission.submitted", "airlock.submission.failed", "airlock.submission.submitted",
            "airlock.submission.scanning", "airlock.submission.in_review"], actions);
    }

    [Fact]
    public async Task A_used_up_deposit_token_reads_its_own_state_until_it_expires_and_does_nothing_else()
    {
        using var h = Harness(tier: 2);
        var (submitted, token) = await SubmittedAsync(h);
        await h.ScanPendingAsync();

        Assert.Equal(SubmissionState.InReview, (await h.Workflow.DepositStatusAsync(token, WorkflowHarness.Remote, Ct)).State);
        var session = await Assert.ThrowsAsync<AirlockWorkflowException>(() => h.Workflow.DepositSessionAsync(token, WorkflowHarness.Remote, Ct));
        Assert.Equal(AirlockError.TokenUsed, session.Error);
        var outside = await Assert.ThrowsAsync<AirlockWorkflowException>(() => h.Workflow.DepositStatusAsync("shd_000000000000_" + new string('a', 43), WorkflowHarness.Remote, Ct));
        Assert.Equal(AirlockError.TokenInvalid, outside.Error);

        h.Time.Advance(TimeSpan.FromHours(3));
        var expired = await Assert.ThrowsAsync<AirlockWorkflowException>(() => h.Workflow.DepositStatusAsync(token, WorkflowHarness.Remote, Ct));
        Assert.Equal(AirlockError.TokenExpired, expired.Error);
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
    }

    [Theory]
    [InlineData(0, 10, 60, "MaxConcurrentScans must be 1 to 8")]
    [InlineData(9, 10, 60, "MaxConcurrentScans must be 1 to 8")]
    [InlineData(1, 0, 60, "ScanPollSeconds must be 1 to 3600")]
    [InlineData(1, 10, 2, "ScanLeaseSeconds must be 3 to 86400")]
    public void Scan_settings_out_of_range_are_refused_at_start_with_the_key(int concurrency, int poll, int lease, string expected)
    {
        var problems = new AirlockOptions { MaxConcurrentScans = concurrency, ScanPollSeconds = poll, ScanLeaseSeconds = lease }.ValidateScanning();
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal) && p.StartsWith("SafeHaven:Airlock:", StringComparison.Ordinal));
        Assert.Empty(new AirlockOptions().ValidateScanning());
    }

    [Fact]
    public async Task Healthz_shows_the_queue_and_is_degraded_when_a_submission_waits_past_the_timeout_without_starting()
    {
        using var h = Harness(tier: 2);
        var options = new AirlockOptions();
        var health = new ScanQueueHealth(h.Claims, options, h.Time);
        var (submitted, _) = await SubmittedAsync(h);

        var waiting = await health.ReportAsync(Ct);
        Assert.Equal("airlock-scans", waiting.Name);
        Assert.Empty(waiting.Problems);
        Assert.Contains("\"waiting\":1", System.Text.Json.JsonSerializer.Serialize(waiting.Details), StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(options.ScanTimeoutSeconds + 1));
        var stalled = await health.ReportAsync(Ct);
        var problem = Assert.Single(stalled.Problems);
        Assert.Contains("1 submission(s) wait for inspection", problem, StringComparison.Ordinal);

        await h.ScanPendingAsync();
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
        Assert.Empty((await health.ReportAsync(Ct)).Problems);
    }
}

public sealed class SqliteAirlockScannerTests() : AirlockScannerTests(DatabaseProvider.Sqlite);

public sealed class PostgresAirlockScannerTests() : AirlockScannerTests(DatabaseProvider.Postgres);
