using System.Data.Common;
using Dapper;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Tests.Support;

namespace SafeHaven.Management.Tests.Audit;

/// <summary>The chain catches any edit of any stored field of any entry, and any deletion; on both providers.</summary>
public abstract class AuditLogTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private const int Entries = 5;
    private ManagementStores _stores = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _stores = await ManagementStores.OpenAsync(Database, null, CancellationToken.None);
        for (var i = 1; i <= Entries; i++)
        {
            await _stores.Audit.AppendAsync(AuditRecord.Of($"user{i}", "policy.changed", "policy", i % 2 == 0 ? "proj" : null, ("reason", $"change {i}")), CancellationToken.None);
        }
    }

    /// <summary>What someone with write access to the database can do: the append-only triggers are no obstacle to them.</summary>
    protected abstract string DisableAppendOnlySql { get; }

    /// <summary>A trigger that refuses every new audit entry, to see a change roll back with its entry.</summary>
    protected abstract string RefuseAuditEntriesSql { get; }

    private DbConnection Raw()
    {
        var connection = Database.Open();
        connection.Execute(DisableAppendOnlySql);
        return connection;
    }

    [Fact]
    public async Task An_untouched_log_verifies()
    {
        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.True(result.Intact, result.Problem);
        Assert.Equal(Entries, result.Entries);
        var entries = await _stores.Audit.QueryAsync(new AuditFilter(), CancellationToken.None);
        Assert.Equal(AuditChain.GenesisHash, entries[0].PreviousHash);
        Assert.All(entries.Skip(1).Zip(entries), pair => Assert.Equal(pair.Second.Hash, pair.First.PreviousHash));
    }

    [Fact]
    public async Task The_database_refuses_updates_and_deletes_of_audit_entries()
    {
        await using var connection = Database.Open();

        Assert.ThrowsAny<DbException>(() => connection.Execute("UPDATE mgmt_audit_log SET actor = 'mallory' WHERE seq = 2"));
        Assert.ThrowsAny<DbException>(() => connection.Execute("DELETE FROM mgmt_audit_log WHERE seq = 2"));
        Assert.True((await _stores.Audit.VerifyAsync(CancellationToken.None)).Intact);
    }

    public static TheoryData<long, string> EveryFieldOfEveryEntry()
    {
        var data = new TheoryData<long, string>();
        foreach (var column in new[] { "at", "actor", "action", "target", "project", "details", "previous_hash", "hash" })
        {
            for (long seq = 1; seq <= Entries; seq++)
            {
                data.Add(seq, column);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryFieldOfEveryEntry), MemberType = typeof(AuditLogTests))]
    public async Task Editing_any_field_of_any_entry_is_detected_at_that_entry(long sequence, string column)
    {
        await using (var connection = Raw())
        {
            var sql = column switch
            {
                "at" => "UPDATE mgmt_audit_log SET at = at + 1 WHERE seq = @sequence",
                "project" => "UPDATE mgmt_audit_log SET project = CASE WHEN project IS NULL THEN 'other' ELSE NULL END WHERE seq = @sequence",
                "previous_hash" or "hash" => $"UPDATE mgmt_audit_log SET {column} = '{new string('a', 64)}' WHERE seq = @sequence",
                _ => $"UPDATE mgmt_audit_log SET {column} = {column} || 'x' WHERE seq = @sequence",
            };
            Assert.Equal(1, connection.Execute(sql, new { sequence }));
        }

        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.False(result.Intact);
        // A forged stored hash shows at the entry itself, or (last entry) against the head record.
        Assert.Equal(sequence, result.FirstBrokenSequence);
        Assert.Contains(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(Entries)]
    public async Task Deleting_an_entry_is_detected(long sequence)
    {
        await using (var connection = Raw())
        {
            Assert.Equal(1, connection.Execute("DELETE FROM mgmt_audit_log WHERE seq = @sequence", new { sequence }));
        }

        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.False(result.Intact);
        Assert.Equal(sequence, result.FirstBrokenSequence);
        Assert.Contains("missing", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rewriting_an_entry_with_a_recomputed_hash_is_caught_by_the_next_link()
    {
        await using (var connection = Raw())
        {
            var row = connection.QuerySingle<(long At, string Target, string? Project, string Details, string PreviousHash)>(
                "SELECT at, target, project, details, previous_hash FROM mgmt_audit_log WHERE seq = 2");
            var forged = AuditChain.ComputeHash(2, row.At, "mallory", "policy.changed", row.Target, row.Project, row.Details, row.PreviousHash);
            connection.Execute("UPDATE mgmt_audit_log SET actor = 'mallory', hash = @forged WHERE seq = 2", new { forged });
        }

        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.False(result.Intact);
        Assert.Equal(3, result.FirstBrokenSequence);
    }

    [Fact]
    public async Task Two_replicas_extending_the_chain_at_once_keep_one_chain()
    {
        // Two handles with their own connections (pools), as two appliance replicas have; each appends audit-only
        // entries and audited changes (a user added with its entry) at the same time as the other.
        var replicas = new[]
        {
            await ManagementStores.OpenAsync(OpenReplica(), null, CancellationToken.None),
            await ManagementStores.OpenAsync(OpenReplica(), null, CancellationToken.None),
        };
        const int PerReplica = 30;
        await Task.WhenAll(replicas.Select((stores, r) => Task.Run(async () =>
        {
            for (var i = 0; i < PerReplica; i++)
            {
                if (i % 3 == 0)
                {
                    Assert.True(await stores.Users.AddUserAsync($"u{r}-{i}", AuditRecord.Of($"replica{r}", "user.created", $"u{r}-{i}"), CancellationToken.None));
                }
                else
                {
                    await stores.Audit.AppendAsync(AuditRecord.Of($"replica{r}", "test.append", $"t{r}-{i}"), CancellationToken.None);
                }
            }
        })));

        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.True(result.Intact, result.Problem);
        Assert.Equal(Entries + 2 * PerReplica, result.Entries);
        var entries = await _stores.Audit.QueryAsync(new AuditFilter(AfterSequence: Entries, Limit: 1000), CancellationToken.None);
        Assert.Equal(Enumerable.Range(Entries + 1, 2 * PerReplica).Select(i => (long)i), entries.Select(e => e.Sequence));
        // Both replicas wrote, interleaved or not; every user added is in the log exactly once.
        Assert.Equal(2 * ((PerReplica + 2) / 3), entries.Count(e => e.Action == "user.created"));
        Assert.Equal(2 * ((PerReplica + 2) / 3), (await _stores.Users.ListUsersAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_change_whose_audit_entry_cannot_be_written_is_not_made()
    {
        await using (var connection = Database.Open())
        {
            connection.Execute(RefuseAuditEntriesSql);
        }

        await Assert.ThrowsAnyAsync<DbException>(() => _stores.Users.AddUserAsync("eve", AuditRecord.Of("t", "user.created", "eve"), CancellationToken.None));
        await Assert.ThrowsAnyAsync<DbException>(() => _stores.Policy.SetSettingsAsync(new SafeHaven.Management.Policy.PolicySettings(Tier: 4), [],
            AuditRecord.Of("t", "policy.changed", "policy"), CancellationToken.None));

        Assert.Null(await _stores.Users.GetUserAsync("eve", CancellationToken.None));
        Assert.Null(_stores.Policy.GetSettings().Tier);
        await using (var connection = Database.Open())
        {
            Assert.Equal(0, connection.ExecuteScalar<long>("SELECT generation FROM mgmt_policy_generation"));
        }
        Assert.Equal(Entries, (await _stores.Audit.VerifyAsync(CancellationToken.None)).Entries);
    }

    [Fact]
    public async Task Filters_select_entries()
    {
        Assert.Equal(2, (await _stores.Audit.QueryAsync(new AuditFilter(Project: "proj"), CancellationToken.None)).Count);
        Assert.Single(await _stores.Audit.QueryAsync(new AuditFilter(Actor: "user3"), CancellationToken.None));
        Assert.Equal(Entries, (await _stores.Audit.QueryAsync(new AuditFilter(Action: "policy"), CancellationToken.None)).Count);
        Assert.Empty(await _stores.Audit.QueryAsync(new AuditFilter(Action: "polic"), CancellationToken.None));
        Assert.Equal(2, (await _stores.Audit.QueryAsync(new AuditFilter(AfterSequence: 3), CancellationToken.None)).Count);
        Assert.Equal(2, (await _stores.Audit.QueryAsync(new AuditFilter(Limit: 2), CancellationToken.None)).Count);
    }
}

public sealed class SqliteAuditLogTests() : AuditLogTests(DatabaseProvider.Sqlite)
{
    protected override string DisableAppendOnlySql => "DROP TRIGGER IF EXISTS mgmt_audit_log_no_update; DROP TRIGGER IF EXISTS mgmt_audit_log_no_delete;";

    protected override string RefuseAuditEntriesSql => "CREATE TRIGGER refuse_audit BEFORE INSERT ON mgmt_audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END;";
}

public sealed class PostgresAuditLogTests() : AuditLogTests(DatabaseProvider.Postgres)
{
    // The table's owner can switch its triggers off.
    protected override string DisableAppendOnlySql => "ALTER TABLE mgmt_audit_log DISABLE TRIGGER mgmt_audit_log_append_only";

    protected override string RefuseAuditEntriesSql => """
        CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
        CREATE TRIGGER refuse_audit BEFORE INSERT ON mgmt_audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();
        """;
}
