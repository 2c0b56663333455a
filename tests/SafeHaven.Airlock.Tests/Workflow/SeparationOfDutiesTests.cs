using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Tests.Workflow;

/// <summary>One person never fills two required sign-offs of one submission, and never reviews what they deposited.</summary>
public abstract class SeparationOfDutiesTests(DatabaseProvider provider)
{
    private WorkflowHarness Harness(int tier) => new(tier, provider);

    protected DatabaseProvider Provider => provider;

    private static CancellationToken Ct => TestContext.Token;

    private static readonly byte[] Tool = BlobStoreContractTests.Bytes(UploadService.MinChunkSize + 99, seed: 11);

    private static async Task<AirlockWorkflowException> RefusedAsync(AirlockError expected, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<AirlockWorkflowException>(action);
        Assert.True(expected == e.Error, $"expected {expected}, got {e.Error}: {e.Message}");
        return e;
    }

    private static async Task GrantAsync(WorkflowHarness h, string user, params Role[] roles)
    {
        var audit = AuditRecord.Of("test", "setup", "setup");
        await h.Management.Users.AddUserAsync(user, audit, Ct); // false when the user exists already
        foreach (var role in roles)
        {
            await h.Management.Users.AssignRoleAsync(user, role, WorkflowHarness.Project, audit, Ct);
        }
    }

    private static async Task<Submission> InReviewSoftwareAsync(WorkflowHarness h, string opener = "res")
    {
        var opened = await h.OpenAsync(opener, SubmissionKind.SoftwareIngress);
        await h.DepositAsync(opened.DepositToken, "tool.bin", Tool);
        var submitted = await h.FinishAsync(opened.DepositToken);
        Assert.Equal(SubmissionState.InReview, submitted.State);
        return submitted;
    }

    [Fact]
    public async Task An_investigator_who_is_also_the_referee_signs_off_once_and_tier_3_stays_in_review()
    {
        using var h = Harness(tier: 3);
        await GrantAsync(h, "both", Role.Investigator, Role.Referee);
        var submitted = await InReviewSoftwareAsync(h);

        var first = await h.Workflow.ReviewAsync(h.Caller("both"), submitted.Id, ReviewDecision.Approve, "as investigator", Ct);
        Assert.Equal(SubmissionState.InReview, first.State);
        var e = await RefusedAsync(AirlockError.SeparationOfDuties,
            () => h.Workflow.ReviewAsync(h.Caller("both"), submitted.Id, ReviewDecision.Approve, "now as referee", Ct));
        Assert.Contains("already signed off this submission as Investigator", e.Message, StringComparison.Ordinal);
        Assert.Contains("different person", e.Message, StringComparison.Ordinal);

        var still = await h.Workflow.GetAsync(submitted.Id, Ct);
        Assert.Equal(SubmissionState.InReview, still.State);
        Assert.Equal(["Referee sign-off"], await h.Workflow.MissingForApprovalAsync(still, Ct));
        Assert.Single(await h.Management.Audit.QueryAsync(new AuditFilter(Action: "airlock.review.approve", Actor: "both"), Ct));

        // A second person in the Referee role completes it.
        Assert.Equal(SubmissionState.Approved, (await h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Approve, "licence fine", Ct)).State);
    }

    [Fact]
    public async Task Egress_at_tier_2_needs_three_different_people_even_when_one_holds_all_three_roles()
    {
        using var h = Harness(tier: 2);
        await GrantAsync(h, "all3", Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative);
        var opened = await h.OpenAsync("res", SubmissionKind.Egress, script: "analysis.py");
        await h.DepositAsync(opened.DepositToken, "analysis.py", "print(1)\n"u8.ToArray());
        var submitted = await h.FinishAsync(opened.DepositToken);

        await h.Workflow.ReviewAsync(h.Caller("all3"), submitted.Id, ReviewDecision.Approve, "one", Ct);
        await RefusedAsync(AirlockError.SeparationOfDuties, () => h.Workflow.ReviewAsync(h.Caller("all3"), submitted.Id, ReviewDecision.Approve, "two", Ct));
        await h.Workflow.ReviewAsync(h.Caller("ref"), submitted.Id, ReviewDecision.Approve, "no small cells", Ct);
        var missing = await h.Workflow.MissingForApprovalAsync(await h.Workflow.GetAsync(submitted.Id, Ct), Ct);
        Assert.Single(missing);
        Assert.Equal(SubmissionState.Approved, (await h.Workflow.ReviewAsync(h.Caller("dpr"), submitted.Id, ReviewDecision.Approve, "agreed", Ct)).State);
    }

    [Fact]
    public async Task Approval_counts_one_sign_off_per_person_even_if_the_store_holds_two()
    {
        using var h = Harness(tier: 3);
        await GrantAsync(h, "both", Role.Investigator, Role.Referee);
        var submitted = await InReviewSoftwareAsync(h);
        // Written past the workflow (as an older version of the appliance could have): the rule still holds at approval.
        var store = new SubmissionStore(h.Database, h.Time);
        Assert.True(await store.AddSignOffAsync(new SignOff(submitted.Id, Role.Investigator, "both", ReviewDecision.Approve, "a", h.Time.GetUtcNow()), Ct));
        Assert.True(await store.AddSignOffAsync(new SignOff(submitted.Id, Role.Referee, "both", ReviewDecision.Approve, "b", h.Time.GetUtcNow().AddSeconds(1)), Ct));
        Assert.Equal(["Referee sign-off"], await h.Workflow.MissingForApprovalAsync(await h.Workflow.GetAsync(submitted.Id, Ct), Ct));
    }

    [Fact]
    public async Task A_depositor_never_reviews_what_they_deposited_whatever_other_role_they_hold()
    {
        // Data ingress at tier 3: the depositing Dataset Provider Representative is also a Referee of the project.
        using (var h = Harness(tier: 3))
        {
            await GrantAsync(h, "dpr", Role.Referee);
            await h.StoreAgreementAsync();
            var opened = await h.OpenAsync("pm", SubmissionKind.DataIngress, depositor: "dpr");
            await h.DepositAsync(opened.DepositToken, "cohort.csv", Tool);
            var submitted = await h.FinishAsync(opened.DepositToken);
            var e = await RefusedAsync(AirlockError.SelfReview, () => h.Workflow.ReviewAsync(h.Caller("dpr"), submitted.Id, ReviewDecision.Approve, "my data is fine", Ct));
            Assert.Contains("own submission", e.Message, StringComparison.Ordinal);
            Assert.Equal(SubmissionState.InReview, (await h.Workflow.GetAsync(submitted.Id, Ct)).State);
        }
        // Software ingress at tier 3 opened by an Investigator who is also a Referee: neither sign-off is theirs to give.
        using (var h = Harness(tier: 3))
        {
            await GrantAsync(h, "inv", Role.Referee);
            var submitted = await InReviewSoftwareAsync(h, opener: "inv");
            await RefusedAsync(AirlockError.SelfReview, () => h.Workflow.ReviewAsync(h.Caller("inv"), submitted.Id, ReviewDecision.Approve, "mine", Ct));
            Assert.Empty(await h.Management.Audit.QueryAsync(new AuditFilter(Action: "airlock.review.approve"), Ct));
        }
    }
}

public sealed class SqliteSeparationOfDutiesTests() : SeparationOfDutiesTests(DatabaseProvider.Sqlite);

public sealed class PostgresSeparationOfDutiesTests() : SeparationOfDutiesTests(DatabaseProvider.Postgres);
