using Dapper;
using Microsoft.Data.Sqlite;
using SafeHaven.Core.Configuration;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Tests.Audit;

/// <summary>The chain catches any edit of any stored field of any entry, and any deletion.</summary>
public sealed class AuditLogTests : IDisposable
{
    private const int Entries = 5;
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-audit-").FullName;
    private readonly ManagementStores _stores;

    public AuditLogTests()
    {
        _stores = ManagementStores.Open(new SafeHavenOptions { DataDirectory = _directory });
        for (var i = 1; i <= Entries; i++)
        {
            _stores.Audit.AppendAsync(AuditRecord.Of($"user{i}", "policy.changed", "policy", i % 2 == 0 ? "proj" : null, ("reason", $"change {i}")), CancellationToken.None)
                .GetAwaiter().GetResult();
        }
    }

    private string DatabasePath => Path.Combine(_directory, "safehaven.db");

    private SqliteConnection Raw()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        // What someone with write access to the file can do: the append-only triggers are no obstacle to them.
        connection.Execute("DROP TRIGGER IF EXISTS mgmt_audit_log_no_update; DROP TRIGGER IF EXISTS mgmt_audit_log_no_delete;");
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
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();

        Assert.Throws<SqliteException>(() => connection.Execute("UPDATE mgmt_audit_log SET actor = 'mallory' WHERE seq = 2"));
        Assert.Throws<SqliteException>(() => connection.Execute("DELETE FROM mgmt_audit_log WHERE seq = 2"));
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
    [MemberData(nameof(EveryFieldOfEveryEntry))]
    public async Task Editing_any_field_of_any_entry_is_detected_at_that_entry(long sequence, string column)
    {
        using (var connection = Raw())
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
        using (var connection = Raw())
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
        using (var connection = Raw())
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
    public async Task Appends_from_two_writers_at_once_keep_one_chain()
    {
        var other = ManagementStores.Open(new SafeHavenOptions { DataDirectory = _directory });
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? _stores : other).Audit.AppendAsync(AuditRecord.Of("w", "test.append", $"t{i}"), CancellationToken.None)));

        var result = await _stores.Audit.VerifyAsync(CancellationToken.None);

        Assert.True(result.Intact, result.Problem);
        Assert.Equal(Entries + 20, result.Entries);
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

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
