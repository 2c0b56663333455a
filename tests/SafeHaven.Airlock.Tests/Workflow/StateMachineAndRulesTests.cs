using SafeHaven.Airlock.Reviews;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Tests.Workflow;

public sealed class StateMachineAndRulesTests
{
    [Theory]
    [InlineData(SubmissionState.Draft, SubmissionTrigger.Submit, SubmissionState.Submitted)]
    [InlineData(SubmissionState.Submitted, SubmissionTrigger.StartScan, SubmissionState.Scanning)]
    [InlineData(SubmissionState.Scanning, SubmissionTrigger.ScanPassed, SubmissionState.InReview)]
    [InlineData(SubmissionState.Scanning, SubmissionTrigger.ScanBlocked, SubmissionState.Blocked)]
    [InlineData(SubmissionState.Scanning, SubmissionTrigger.ScanFailed, SubmissionState.Failed)]
    [InlineData(SubmissionState.Failed, SubmissionTrigger.Rescan, SubmissionState.Submitted)]
    [InlineData(SubmissionState.InReview, SubmissionTrigger.Approve, SubmissionState.Approved)]
    [InlineData(SubmissionState.InReview, SubmissionTrigger.Reject, SubmissionState.Rejected)]
    [InlineData(SubmissionState.InReview, SubmissionTrigger.HashMismatch, SubmissionState.Blocked)]
    [InlineData(SubmissionState.Approved, SubmissionTrigger.Revoke, SubmissionState.Revoked)]
    [InlineData(SubmissionState.Draft, SubmissionTrigger.Expire, SubmissionState.Expired)]
    [InlineData(SubmissionState.Draft, SubmissionTrigger.Cancel, SubmissionState.Cancelled)]
    public void Allowed_transitions_lead_where_the_table_says(SubmissionState from, SubmissionTrigger trigger, SubmissionState to) =>
        Assert.Equal(to, SubmissionStateMachine.Next(from, trigger));

    [Theory]
    [InlineData(SubmissionState.Draft, SubmissionTrigger.Approve)]
    [InlineData(SubmissionState.Submitted, SubmissionTrigger.Submit)]
    [InlineData(SubmissionState.InReview, SubmissionTrigger.Submit)]
    [InlineData(SubmissionState.Approved, SubmissionTrigger.Submit)]
    [InlineData(SubmissionState.Rejected, SubmissionTrigger.Approve)]
    [InlineData(SubmissionState.Blocked, SubmissionTrigger.Rescan)]
    [InlineData(SubmissionState.Revoked, SubmissionTrigger.Revoke)]
    [InlineData(SubmissionState.Approved, SubmissionTrigger.Cancel)]
    public void Everything_else_is_a_409_wrong_state(SubmissionState from, SubmissionTrigger trigger)
    {
        var e = Assert.Throws<AirlockWorkflowException>(() => SubmissionStateMachine.Next(from, trigger));
        Assert.Equal(AirlockError.WrongState, e.Error);
        Assert.Equal(409, AirlockErrors.StatusOf(e.Error));
    }

    [Fact]
    public void Terminal_states_have_no_way_out_and_no_state_is_a_dead_end_except_them()
    {
        foreach (var state in Enum.GetValues<SubmissionState>())
        {
            Assert.Equal(SubmissionStateMachine.Terminal.Contains(state), SubmissionStateMachine.Allowed(state).Count == 0);
        }
        // Scanning always ends (clean, blocked or failed): never stuck.
        Assert.Equal([SubmissionTrigger.ScanPassed, SubmissionTrigger.ScanBlocked, SubmissionTrigger.ScanFailed], SubmissionStateMachine.Allowed(SubmissionState.Scanning));
    }

    [Fact]
    public void Wire_names_are_the_issue_s_snake_case()
    {
        Assert.Equal(["draft", "submitted", "scanning", "in_review", "approved", "rejected", "blocked", "cancelled", "failed", "revoked", "expired"],
            Enum.GetValues<SubmissionState>().Select(SubmissionStates.Name).ToArray());
        Assert.True(SubmissionStates.TryParse<SubmissionKind>("data_ingress", out var kind));
        Assert.Equal(SubmissionKind.DataIngress, kind);
    }

    [Fact]
    public void Every_refusal_has_its_status()
    {
        Assert.Equal(403, AirlockErrors.StatusOf(AirlockError.WrongRole));
        Assert.Equal(403, AirlockErrors.StatusOf(AirlockError.SelfReview));
        Assert.Equal(403, AirlockErrors.StatusOf(AirlockError.TokenOutsideRange));
        Assert.Equal(409, AirlockErrors.StatusOf(AirlockError.MissingAgreement));
        Assert.Equal(409, AirlockErrors.StatusOf(AirlockError.MissingSignOff));
        Assert.Equal(410, AirlockErrors.StatusOf(AirlockError.TokenExpired));
        Assert.Equal(410, AirlockErrors.StatusOf(AirlockError.TokenUsed));
        Assert.Equal(401, AirlockErrors.StatusOf(AirlockError.TokenInvalid));
        Assert.All(Enum.GetValues<AirlockError>(), e => Assert.True(AirlockErrors.Problems.ContainsKey(e)));
    }

    public static TheoryData<SubmissionKind, int, Role[]> SignOffTable => new()
    {
        { SubmissionKind.SoftwareIngress, 0, [] },
        { SubmissionKind.SoftwareIngress, 1, [] },
        { SubmissionKind.SoftwareIngress, 2, [Role.Investigator] },
        { SubmissionKind.SoftwareIngress, 3, [Role.Investigator, Role.Referee] },
        { SubmissionKind.SoftwareIngress, 4, [Role.Investigator, Role.Referee] },
        { SubmissionKind.DataIngress, 0, [Role.Investigator] },
        { SubmissionKind.DataIngress, 2, [Role.Investigator] },
        { SubmissionKind.DataIngress, 3, [Role.Investigator, Role.Referee] },
        { SubmissionKind.Egress, 1, [Role.Investigator] },
        { SubmissionKind.Egress, 2, [Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative] },
        { SubmissionKind.Egress, 3, [Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative] },
        { SubmissionKind.Egress, 4, [Role.Investigator, Role.Referee, Role.DatasetProviderRepresentative] },
    };

    [Theory]
    [MemberData(nameof(SignOffTable))]
    public void Who_signs_off_per_kind_and_tier(SubmissionKind kind, int tier, Role[] required) =>
        Assert.Equal(required, SignOffRules.RequiredFor(kind, tier));

    [Fact]
    public void Data_ingress_needs_the_depositor_s_hash_and_is_opened_by_the_project_manager()
    {
        Assert.Contains(SubmissionKind.DataIngress, SignOffRules.DepositorConfirmsHash);
        Assert.DoesNotContain(SubmissionKind.SoftwareIngress, SignOffRules.DepositorConfirmsHash);
        Assert.Equal([Role.ProjectManager], SignOffRules.Openers[SubmissionKind.DataIngress]);
    }
}
