using System.IO.Compression;
using System.Net;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;

namespace SafeHaven.Airlock.Tests.Workflow;

public abstract class WorkflowTests(DatabaseProvider provider)
{
    private WorkflowHarness Harness(int tier) => new(tier, provider);

    protected DatabaseProvider Provider => provider;

    private static CancellationToken Ct => TestContext.Token;

    private static readonly byte[] Tool = BlobStoreContractTests.Bytes((2 * UploadService.MinChunkSize) + 321, seed: 3);

    private static async Task<AirlockWorkflowException> RefusedAsync(AirlockError expected, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<AirlockWorkflowException>(action);
        Assert.True(expected == e.Error, $"expected {expected}, got {e.Error}: {e.Message}");
        return e;
    }

    // ----- software ingress -----

    [Fact]
    public async Task Software_ingress_at_tier_3_needs_investigator_and_referee_then_is_internal_and_audited()
    {
        using var h = Harness(tier: 3);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        Assert.Equal(SubmissionState.Draft, opened.Submission.State);
        Assert.Equal(3, opened.Submission.Tier);
        await h.DepositAsync(opened.DepositToken, "tools/tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        Assert.Equal(SubmissionState.InReview, submitted.State);
        Assert.Equal(VolumeMode.Review, (await h.Volumes.GetAsync(submitted.VolumeId, Ct))!.Mode);

        var afterInvestigator = await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "looks fine", Ct);
        Assert.Equal(SubmissionState.InReview, afterInvestigator.State);
        Assert.Equal(["Referee sign-off"], await h.Workflow.MissingForApprovalAsync(afterInvestigator, Ct));
        var approved = await h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Approve, "checked the licence", Ct);
        Assert.Equal(SubmissionState.Approved, approved.State);
        Assert.Equal(VolumeMode.Internal, (await h.Volumes.GetAsync(submitted.VolumeId, Ct))!.Mode);

        // Internal: read-only inside, for the project's researchers.
        var (file, content) = await h.Workflow.OpenFileAsync(h.Caller("res"), submitted.Id, "tools/tool.bin", Ct);
        await using (content)
        {
            Assert.Equal(BlobDigest.Compute(Tool), file.Sha256);
        }
        await RefusedAsync(AirlockError.NotFound, () => h.Workflow.OpenFileAsync(h.Caller("outsider"), submitted.Id, "tools/tool.bin", Ct));

        var actions = (await h.AuditAsync(submitted.Id)).Select(e => e.Action).ToList();
        Assert.Equal(["airlock.submission.opened", "airlock.submission.submitted", "airlock.submission.scanning", "airlock.submission.in_review",
            "airlock.review.approve", "airlock.review.approve", "airlock.submission.approved"], actions);
        Assert.All((await h.AuditAsync(submitted.Id)).Where(e => e.Action.StartsWith("airlock.review", StringComparison.Ordinal)),
            e => Assert.False(string.IsNullOrEmpty(e.Details["reason"])));
        Assert.True((await h.Management.Audit.VerifyAsync(Ct)).Intact);
    }

    [Fact]
    public async Task Software_ingress_at_tier_2_needs_only_the_investigator_and_at_tier_1_nobody()
    {
        using (var h = Harness(tier: 2))
        {
            var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
            await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
            var submitted = await h.FinishAsync(opened.DepositToken);
            Assert.Equal(SubmissionState.Approved, (await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "fine", Ct)).State);
        }
        using (var h = Harness(tier: 1))
        {
            var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
            await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
            var submitted = await h.FinishAsync(opened.DepositToken);
            Assert.Equal(SubmissionState.Approved, submitted.State);
            Assert.Contains("no sign-off required", submitted.StateReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Missing_sign_off_is_refused_for_release_and_a_rejection_with_reason_is_final()
    {
        using var h = Harness(tier: 3);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        await RefusedAsync(AirlockError.Invalid, () => h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "  ", Ct));
        await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "ok", Ct);
        await RefusedAsync(AirlockError.Conflict, () => h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "again", Ct));
        var rejected = await h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Reject, "bundles a crypto miner", Ct);
        Assert.Equal(SubmissionState.Rejected, rejected.State);
        Assert.Contains("bundles a crypto miner", rejected.StateReason, StringComparison.Ordinal);
        await RefusedAsync(AirlockError.WrongState, () => h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Approve, "changed my mind", Ct));
    }

    [Fact]
    public async Task Wrong_role_is_refused_to_open_and_to_review()
    {
        using var h = Harness(tier: 3);
        await RefusedAsync(AirlockError.WrongRole, () => h.OpenAsync("dpr", SubmissionKind.SoftwareIngress));
        await RefusedAsync(AirlockError.NotFound, () => h.OpenAsync("outsider", SubmissionKind.SoftwareIngress));
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await RefusedAsync(AirlockError.WrongState, () => h.Workflow.ReviewAsync(h.Caller("inv"), opened.Submission.Id, ReviewDecision.Approve, "too early", Ct));
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.ReviewAsync(h.Caller("pm"), submitted.Id, ReviewDecision.Approve, "I manage", Ct));
        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.ReviewAsync(h.Caller("dpr"), submitted.Id, ReviewDecision.Approve, "not mine to say", Ct));
        // In review only the required reviewers read the files.
        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.OpenFileAsync(h.Caller("res"), submitted.Id, "tool.bin", Ct));
        var (_, content) = await h.Workflow.OpenFileAsync(h.Caller("ref"), submitted.Id, "tool.bin", Ct);
        await content.DisposeAsync();
    }

    [Fact]
    public async Task A_reviewer_cannot_review_their_own_submission()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("inv", SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        await RefusedAsync(AirlockError.SelfReview, () => h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "mine is fine", Ct));
        Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
    }

    // ----- tokens on the deposit path -----

    [Fact]
    public async Task The_one_time_token_is_used_up_by_marking_the_transfer_complete_and_nothing_can_be_written_after()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        await RefusedAsync(AirlockError.TokenUsed, () => h.FinishAsync(opened.DepositToken));
        await RefusedAsync(AirlockError.TokenUsed, () => h.DepositAsync(opened.DepositToken, "late.bin", Tool));
        // Even bypassing the token, the frozen volume takes no writes.
        await Assert.ThrowsAsync<AirlockConflictException>(() => h.Uploads.BeginAsync(submitted.VolumeId, "late.bin", Tool.Length, BlobDigest.Compute(Tool), UploadService.MinChunkSize, Ct));
        Assert.Equal(["tool.bin"], (await h.Volumes.GetManifestAsync(submitted.VolumeId, Ct))!.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task A_deposit_cannot_overwrite_and_an_open_upload_resumes_rather_than_restarts()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        await RefusedAsync(AirlockError.Conflict, () => h.DepositAsync(opened.DepositToken, "tool.bin", Tool));

        var session = await h.Workflow.DepositSessionAsync(opened.DepositToken, WorkflowHarness.Remote, Ct);
        var other = BlobStoreContractTests.Bytes((2 * UploadService.MinChunkSize) + 5, seed: 9);
        var first = await h.Workflow.BeginUploadAsync(session, "b.bin", other.Length, BlobDigest.Compute(other), UploadService.MinChunkSize, Ct);
        var chunk0 = other.AsSpan(0, UploadService.MinChunkSize).ToArray();
        await h.Workflow.PutChunkAsync(session, first.Session.Id, 0, new MemoryStream(chunk0), BlobDigest.Compute(chunk0), Ct);
        var again = await h.Workflow.BeginUploadAsync(session, "b.bin", other.Length, BlobDigest.Compute(other), UploadService.MinChunkSize, Ct);
        Assert.Equal(first.Session.Id, again.Session.Id);
        Assert.Equal(1, again.NextMissingChunk);
        await RefusedAsync(AirlockError.Conflict, () => h.FinishAsync(opened.DepositToken));
    }

    [Fact]
    public async Task An_expired_deposit_token_is_410_and_the_unused_draft_expires()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        h.Time.Advance(TimeSpan.FromHours(3));
        await RefusedAsync(AirlockError.TokenExpired, () => h.DepositAsync(opened.DepositToken, "tool.bin", Tool));
        var details = await h.Workflow.DetailsAsync(h.Caller("res"), opened.Submission.Id, Ct);
        Assert.Equal(SubmissionState.Expired, details.Submission.State);
        Assert.Contains(await h.AuditAsync(opened.Submission.Id), e => e.Action == "airlock.submission.expired");
    }

    [Fact]
    public async Task A_token_bound_to_a_range_refuses_a_deposit_from_outside_it()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress, range: "192.0.2.0/24");
        await RefusedAsync(AirlockError.TokenOutsideRange, () => h.DepositAsync(opened.DepositToken, "tool.bin", Tool, IPAddress.Parse("198.51.100.7")));
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool, IPAddress.Parse("192.0.2.99"));
    }

    // ----- inspection -----

    [Fact]
    public async Task A_hostile_archive_is_blocked_with_the_reason()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var entry = await archive.CreateEntry("../../etc/cron.d/evil").OpenAsync(Ct);
            await entry.WriteAsync("* * * * * root sh"u8.ToArray(), Ct);
        }
        await h.DepositAsync(opened.DepositToken, "package.zip", zip.ToArray());
        var blocked = await h.FinishAsync(opened.DepositToken);
        Assert.Equal(SubmissionState.Blocked, blocked.State);
        Assert.Contains("PathTraversal", blocked.StateReason, StringComparison.Ordinal);
        Assert.Contains(await h.AuditAsync(blocked.Id), e => e.Action == "airlock.submission.blocked" && e.Details["reason"]!.Contains("package.zip", StringComparison.Ordinal));
    }

    // ----- data ingress -----

    [Fact]
    public async Task Data_ingress_needs_the_agreement_the_project_manager_and_a_project_dpr_as_depositor()
    {
        using var h = Harness(tier: 2);
        await RefusedAsync(AirlockError.MissingAgreement, () => h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "dpr"));
        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.StoreAgreementAsync(h.Caller("res"), WorkflowHarness.Project, WorkflowHarness.WorkPackage, "dsa.pdf", 1, BlobDigest.Compute([1]), new MemoryStream([1]), Ct));
        await h.StoreAgreementAsync();
        Assert.Contains(await h.Management.Audit.QueryAsync(new AuditFilter(Action: "airlock.agreement.stored"), Ct), e => e.Actor == "pm");
        await RefusedAsync(AirlockError.WrongRole, () => h.OpenAsync("inv", SubmissionKind.DataIngress, depositor: "dpr"));
        await RefusedAsync(AirlockError.Invalid, () => h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "res"));
        var opened = await h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "dpr");
        Assert.Equal("dpr", opened.Submission.Depositor);
    }

    [Fact]
    public async Task Data_ingress_approves_only_with_the_investigator_and_the_depositor_s_matching_hash()
    {
        using var h = Harness(tier: 2);
        await h.StoreAgreementAsync();
        var opened = await h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "dpr");
        var data = BlobStoreContractTests.Bytes((3 * UploadService.MinChunkSize) + 17, seed: 21);
        await h.DepositAsync(opened.DepositToken, "cohort.csv", data);
        var submitted = await h.FinishAsync(opened.DepositToken);
        Assert.Equal(SubmissionState.InReview, submitted.State);
        await RefusedAsync(AirlockError.TokenUsed, () => h.Workflow.DepositSessionAsync(opened.DepositToken, WorkflowHarness.Remote, Ct));

        var afterInvestigator = await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "mount authorised", Ct);
        Assert.Equal(SubmissionState.InReview, afterInvestigator.State);
        Assert.Equal(["the depositor's SHA-256 confirmation"], await h.Workflow.MissingForApprovalAsync(afterInvestigator, Ct));
        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.ConfirmHashAsync(h.Caller("pm"), submitted.Id,
            new Dictionary<string, string> { ["cohort.csv"] = BlobDigest.Compute(data).Hex }, Ct));
        var approved = await h.Workflow.ConfirmHashAsync(h.Caller("dpr"), submitted.Id,
            new Dictionary<string, string> { ["cohort.csv"] = BlobDigest.Compute(data).Hex.ToUpperInvariant() }, Ct);
        Assert.Equal(SubmissionState.Approved, approved.State);
        Assert.Equal(VolumeMode.Internal, (await h.Volumes.GetAsync(approved.VolumeId, Ct))!.Mode);
    }

    [Fact]
    public async Task A_hash_mismatch_blocks_the_data_and_alerts_the_programme_and_project_managers()
    {
        using var h = Harness(tier: 2);
        await h.StoreAgreementAsync();
        var opened = await h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "dpr");
        await h.DepositAsync(opened.DepositToken, "cohort.csv", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        await RefusedAsync(AirlockError.HashMismatch, () => h.Workflow.ConfirmHashAsync(h.Caller("dpr"), submitted.Id,
            new Dictionary<string, string> { ["cohort.csv"] = new string('0', 64) }, Ct));
        Assert.Equal(SubmissionState.Blocked, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
        var alert = Assert.Single(await h.Management.Audit.QueryAsync(new AuditFilter(Action: "airlock.alert"), Ct));
        Assert.Equal("hash-mismatch", alert.Details["kind"]);
        Assert.Contains("ProgrammeManager:progman", alert.Details["alerted"], StringComparison.Ordinal);
        Assert.Contains("ProjectManager:pm", alert.Details["alerted"], StringComparison.Ordinal);
    }

    // ----- egress -----

    [Fact]
    public async Task Egress_needs_its_script_three_sign_offs_at_tier_2_and_is_released_read_only_for_a_time()
    {
        using var h = Harness(tier: 2);
        await RefusedAsync(AirlockError.Invalid, () => h.OpenAsync("res", SubmissionKind.Egress));
        var opened = await h.OpenAsync("res", SubmissionKind.Egress, script: "analysis.py");
        await h.DepositAsync(opened.DepositToken, "results/table.csv", "a,b\n1,2\n"u8.ToArray());
        await RefusedAsync(AirlockError.MissingScript, () => h.FinishAsync(opened.DepositToken));
        await h.DepositAsync(opened.DepositToken, "analysis.py", "print('a,b')\n"u8.ToArray());
        var submitted = await h.FinishAsync(opened.DepositToken);
        Assert.Equal(SubmissionState.InReview, submitted.State);

        await RefusedAsync(AirlockError.MissingSignOff, () => h.Workflow.ReleaseAsync(h.Caller("inv"), submitted.Id, TimeSpan.FromHours(1), null, "publish", Ct));
        await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "aggregates only", Ct);
        await h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Approve, "no small cells", Ct);
        var approved = await h.Workflow.ReviewAsync(h.Caller("dpr"), submitted.Id, ReviewDecision.Approve, "provider agrees", Ct);
        Assert.Equal(SubmissionState.Approved, approved.State);

        await RefusedAsync(AirlockError.WrongRole, () => h.Workflow.ReleaseAsync(h.Caller("res"), submitted.Id, TimeSpan.FromHours(1), null, "publish", Ct));
        var (record, token) = await h.Workflow.ReleaseAsync(h.Caller("inv"), submitted.Id, TimeSpan.FromHours(1), "192.0.2.0/24", "paper submission", Ct);
        Assert.StartsWith("shr_", token, StringComparison.Ordinal);
        var (_, manifest, _) = await h.Workflow.ReleasedAsync(token, IPAddress.Parse("192.0.2.1"), Ct);
        Assert.Equal(["analysis.py", "results/table.csv"], manifest.Files.Select(f => f.Path));
        await RefusedAsync(AirlockError.TokenOutsideRange, () => h.Workflow.ReleasedAsync(token, IPAddress.Parse("203.0.113.1"), Ct));
        await RefusedAsync(AirlockError.TokenInvalid, () => h.DepositAsync(token, "x", [1]));

        h.Time.Advance(TimeSpan.FromMinutes(30));
        await h.Workflow.RevokeAsync(h.Caller("inv"), submitted.Id, "table had an error", Ct);
        await RefusedAsync(AirlockError.TokenUsed, () => h.Workflow.ReleasedAsync(token, IPAddress.Parse("192.0.2.1"), Ct));
        Assert.Equal(SubmissionState.Revoked, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
        Assert.NotNull(record);
    }

    [Fact]
    public async Task A_release_token_expires()
    {
        using var h = Harness(tier: 1);
        var opened = await h.OpenAsync("res", SubmissionKind.Egress, script: "run.R");
        await h.DepositAsync(opened.DepositToken, "run.R", "1"u8.ToArray());
        var submitted = await h.FinishAsync(opened.DepositToken);
        await h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "fine", Ct);
        var (_, token) = await h.Workflow.ReleaseAsync(h.Caller("inv"), submitted.Id, TimeSpan.FromHours(1), null, "share", Ct);
        await h.Workflow.ReleasedAsync(token, null, Ct);
        h.Time.Advance(TimeSpan.FromHours(1));
        await RefusedAsync(AirlockError.TokenExpired, () => h.Workflow.ReleasedAsync(token, null, Ct));
    }
}

public sealed class SqliteWorkflowTests() : WorkflowTests(DatabaseProvider.Sqlite);

public sealed class PostgresWorkflowTests() : WorkflowTests(DatabaseProvider.Postgres);
