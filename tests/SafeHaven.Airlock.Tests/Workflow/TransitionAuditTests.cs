using Dapper;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Airlock.Tests.Workflow;

/// <summary>
/// A submission's state change and its audit entry are one transaction: when the audit entry cannot be written the
/// state does not change either. The audit log is made to refuse inserts with a trigger, as a full disk or a broken
/// chain would refuse them.
/// </summary>
public abstract class TransitionAuditTests(DatabaseProvider provider)
{
    private WorkflowHarness Harness(int tier) => new(tier, provider);

    protected DatabaseProvider Provider => provider;

    private static CancellationToken Ct => TestContext.Token;

    [Fact]
    public async Task A_transition_whose_audit_entry_fails_is_rolled_back_and_succeeds_with_it_afterwards()
    {
        using var h = Harness(tier: 2);
        var opened = await h.OpenAsync("res", SubmissionKind.SoftwareIngress);
        await using (var connection = await h.Database.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(Provider == DatabaseProvider.Sqlite
                ? "CREATE TRIGGER refuse_audit BEFORE INSERT ON mgmt_audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END;"
                : """
                  CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
                  CREATE TRIGGER refuse_audit BEFORE INSERT ON mgmt_audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();
                  """);
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => h.Workflow.CancelAsync(h.Caller("res"), opened.Submission.Id, "changed my mind", Ct));

        Assert.Contains("audit refused", error.Message, StringComparison.Ordinal);
        Assert.Equal(SubmissionState.Draft, (await h.Workflow.GetAsync(opened.Submission.Id, Ct)).State);
        Assert.DoesNotContain(await h.AuditAsync(opened.Submission.Id), e => e.Action == "airlock.submission.cancelled");

        await using (var connection = await h.Database.Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync(Provider == DatabaseProvider.Sqlite ? "DROP TRIGGER refuse_audit" : "DROP TRIGGER refuse_audit ON mgmt_audit_log");
        }
        Assert.Equal(SubmissionState.Cancelled, (await h.Workflow.CancelAsync(h.Caller("res"), opened.Submission.Id, "changed my mind", Ct)).State);
        var cancelled = Assert.Single(await h.AuditAsync(opened.Submission.Id), e => e.Action == "airlock.submission.cancelled");
        Assert.Equal("draft", cancelled.Details["from"]);
        Assert.True((await h.Management.Audit.VerifyAsync(Ct)).Intact);
    }
}

public sealed class SqliteTransitionAuditTests() : TransitionAuditTests(DatabaseProvider.Sqlite);

public sealed class PostgresTransitionAuditTests() : TransitionAuditTests(DatabaseProvider.Postgres);
