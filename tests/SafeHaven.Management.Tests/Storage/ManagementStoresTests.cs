using Dapper;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Policy;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Storage;
using SafeHaven.Tests.Support;

namespace SafeHaven.Management.Tests.Storage;

/// <summary>Every management store against both providers: what is written is read back, and each change is audited once.</summary>
public abstract class ManagementStoresTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private ManagementStores _stores = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _stores = await ManagementStores.OpenAsync(Database, null, CancellationToken.None);
    }

    private async Task<long> AuditedAsync() => (await _stores.Audit.VerifyAsync(CancellationToken.None)) is { Intact: true } v ? v.Entries : -1;

    private long Generation()
    {
        using var connection = Database.Open();
        return connection.ExecuteScalar<long>("SELECT generation FROM mgmt_policy_generation WHERE id = 1");
    }

    [Fact]
    public async Task Users_roles_and_keys_round_trip_and_each_change_is_audited_once()
    {
        var users = _stores.Users;
        Assert.True(await users.AddUserAsync("alice", AuditRecord.Of("t", "user.created", "alice"), CancellationToken.None));
        Assert.False(await users.AddUserAsync("alice", AuditRecord.Of("t", "user.created", "alice"), CancellationToken.None));
        await users.EnsureUserAsync("bob", AuditRecord.Of("idp", "user.created", "bob"), CancellationToken.None);
        await users.EnsureUserAsync("bob", AuditRecord.Of("idp", "user.created", "bob"), CancellationToken.None);
        Assert.Equal(2, await AuditedAsync());

        Assert.True(await users.AssignRoleAsync("alice", Role.SystemManager, null, AuditRecord.Of("t", "user.role.added", "alice"), CancellationToken.None));
        Assert.True(await users.AssignRoleAsync("alice", Role.Researcher, "p1", AuditRecord.Of("t", "user.role.added", "alice", "p1"), CancellationToken.None));
        Assert.False(await users.AssignRoleAsync("alice", Role.Researcher, "p1", AuditRecord.Of("t", "user.role.added", "alice", "p1"), CancellationToken.None));
        var roles = await users.GetRolesAsync("alice", CancellationToken.None);
        Assert.Equal([(Role.SystemManager, (string?)null), (Role.Researcher, "p1")], roles.Select(r => (r.Role, r.Project)));
        Assert.Equal(["alice"], (await users.ListProjectRolesAsync("p1", CancellationToken.None)).Select(r => r.User));
        Assert.True(await users.RemoveRoleAsync("alice", Role.Researcher, "p1", AuditRecord.Of("t", "user.role.removed", "alice", "p1"), CancellationToken.None));
        Assert.False(await users.RemoveRoleAsync("alice", Role.Researcher, "p1", AuditRecord.Of("t", "user.role.removed", "alice", "p1"), CancellationToken.None));
        Assert.Equal(5, await AuditedAsync());

        await users.AddApiKeyAsync("bob", "0123456789ab", [1, 2, 3], [4, 5, 6], AuditRecord.Of("t", "user.api-key.created", "bob"), CancellationToken.None);
        var stored = await users.FindApiKeyAsync("0123456789ab", CancellationToken.None);
        Assert.Equal(("bob", false, false), (stored!.User, stored.Revoked, stored.UserDisabled));
        Assert.Equal([1, 2, 3], stored.Salt);
        Assert.Equal([4, 5, 6], stored.Hash);
        Assert.Equal(1, await users.RevokeAsync("bob", null, AuditRecord.Of("t", "user.revoked", "bob"), CancellationToken.None));
        Assert.Equal(0, await users.RevokeAsync("bob", null, AuditRecord.Of("t", "user.revoked", "bob"), CancellationToken.None));
        Assert.True((await users.FindApiKeyAsync("0123456789ab", CancellationToken.None))!.UserDisabled);
        Assert.Single(await users.ListApiKeysAsync("bob", CancellationToken.None), k => k.RevokedAt is not null);
        Assert.Equal(["alice", "bob"], (await users.ListUsersAsync(CancellationToken.None)).Select(u => u.Name));
        Assert.Equal(7, await AuditedAsync());
        Assert.Equal(0, Generation());
    }

    [Fact]
    public async Task Projects_work_packages_classifications_and_memberships_round_trip()
    {
        var projects = _stores.Projects;
        await _stores.Users.AddUserAsync("rita", AuditRecord.Of("t", "user.created", "rita"), CancellationToken.None);
        Assert.True(await projects.CreateProjectAsync(new ProjectRecord("p1", "Project one", At, "pm"), AuditRecord.Of("pm", "project.created", "p1", "p1"), CancellationToken.None));
        Assert.False(await projects.CreateProjectAsync(new ProjectRecord("p1", "Again", At, "pm"), AuditRecord.Of("pm", "project.created", "p1", "p1"), CancellationToken.None));
        Assert.True(await projects.CreateWorkPackageAsync(new WorkPackageRecord("p1", "wp1", "First", At, "pm"), AuditRecord.Of("pm", "work-package.created", "p1/wp1", "p1"), CancellationToken.None));
        Assert.Equal("Project one", (await projects.GetProjectAsync("p1", CancellationToken.None))?.Title);
        Assert.Equal(["wp1"], (await projects.ListWorkPackagesAsync("p1", CancellationToken.None)).Select(w => w.Name));

        await projects.RecordClassificationAsync("p1", "wp1", new Classification("rita", Role.Investigator, 2, "personal data", At, ["q1:yes", "q2:no"]),
            AuditRecord.Of("rita", "work-package.classified", "p1/wp1", "p1"), CancellationToken.None);
        await projects.RecordClassificationAsync("p1", "wp1", new Classification("rita", Role.Investigator, 3, "on reflection", At.AddMinutes(1), ["q1:yes", "q2:yes"]),
            AuditRecord.Of("rita", "work-package.classified", "p1/wp1", "p1"), CancellationToken.None);
        var classification = Assert.Single(await projects.GetClassificationsAsync("p1", "wp1", CancellationToken.None));
        Assert.Equal((3, "on reflection", At.AddMinutes(1)), (classification.Tier, classification.Reason, classification.At));
        Assert.Equal(["q1:yes", "q2:yes"], classification.Answers);

        var pending = new PendingMembership("p1", "rita", Role.Researcher, At, "pm");
        Assert.True(await projects.ProposeMembershipAsync(pending, AuditRecord.Of("pm", "project.member.proposed", "rita", "p1"), CancellationToken.None));
        Assert.False(await projects.ProposeMembershipAsync(pending, AuditRecord.Of("pm", "project.member.proposed", "rita", "p1"), CancellationToken.None));
        Assert.Equal(pending, await projects.GetPendingMembershipAsync("p1", "rita", Role.Researcher, CancellationToken.None));
        Assert.True(await projects.ApproveMembershipAsync(pending, AuditRecord.Of("dpr", "project.member.approved", "rita", "p1"), CancellationToken.None));
        Assert.False(await projects.ApproveMembershipAsync(pending, AuditRecord.Of("dpr", "project.member.approved", "rita", "p1"), CancellationToken.None));
        Assert.Empty(await projects.ListPendingMembershipsAsync("p1", CancellationToken.None));
        Assert.Contains(await _stores.Users.GetRolesAsync("rita", CancellationToken.None), r => r is { Role: Role.Researcher, Project: "p1", AssignedBy: "pm" });

        // user, project, work package, two classifications, proposal, approval (the refused repeats are not audited)
        Assert.Equal(7, await AuditedAsync());
        Assert.Equal(3, (await _stores.Audit.QueryAsync(new AuditFilter(Action: "work-package"), CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Policy_settings_and_allowlist_entries_round_trip_and_advance_the_generation()
    {
        var policy = _stores.Policy;
        var overlay = (SafeHaven.Core.Tiers.IPolicyOverlaySource)policy;
        await policy.SetSettingsAsync(new PolicySettings(Tier: 3, MinimumAgeDays: 2, ModelThreshold: 0.75), [], AuditRecord.Of("sm", "policy.changed", "policy"), CancellationToken.None);
        Assert.Equal(new PolicySettings(3, 2, null, 0.75), policy.GetSettings());
        await policy.SetSettingsAsync(new PolicySettings(MaximumLagDays: 30), ["tier"], AuditRecord.Of("sm", "policy.changed", "policy"), CancellationToken.None);
        Assert.Equal(new PolicySettings(null, 2, 30, 0.75), policy.GetSettings());
        Assert.Equal(2, Generation());

        var entry = new AllowlistEntryRecord("pypi", "numpy", "numpy>=1.26", "sm", "needed", At, AllowlistEntryStatus.Pending, null, null, null);
        Assert.True(await policy.AddAllowlistEntryAsync(entry, AuditRecord.Of("sm", "allowlist.entry.added", "pypi/numpy"), CancellationToken.None));
        Assert.False(await policy.AddAllowlistEntryAsync(entry, AuditRecord.Of("sm", "allowlist.entry.added", "pypi/numpy"), CancellationToken.None));
        Assert.Empty(overlay.Load().AllowlistEntries!);
        Assert.True(await policy.DecideAllowlistEntryAsync("pypi", "numpy", AllowlistEntryStatus.Approved, "ref", "fine", AuditRecord.Of("ref", "allowlist.entry.approved", "pypi/numpy"), CancellationToken.None));
        Assert.False(await policy.DecideAllowlistEntryAsync("pypi", "numpy", AllowlistEntryStatus.Rejected, "ref", "no", AuditRecord.Of("ref", "allowlist.entry.rejected", "pypi/numpy"), CancellationToken.None));
        var stored = Assert.Single(policy.ListAllowlistEntries("pypi"));
        Assert.Equal((AllowlistEntryStatus.Approved, "ref", "fine"), (stored.Status, stored.DecidedBy, stored.DecisionReason));
        var loaded = overlay.Load();
        Assert.Equal(((int?)null, (int?)2, (int?)30, (double?)0.75), (loaded.Tier, loaded.MinimumAgeDays, loaded.MaximumLagDays, loaded.ModelThreshold));
        Assert.Equal(["numpy>=1.26"], loaded.AllowlistEntries!["pypi"]);
        Assert.True(await policy.RemoveAllowlistEntryAsync("pypi", "numpy", AuditRecord.Of("sm", "allowlist.entry.removed", "pypi/numpy"), CancellationToken.None));
        Assert.False(await policy.RemoveAllowlistEntryAsync("pypi", "numpy", AuditRecord.Of("sm", "allowlist.entry.removed", "pypi/numpy"), CancellationToken.None));
        Assert.Empty(policy.ListAllowlistEntries(null));

        // One generation per change that happened; refused no-ops advance nothing and audit nothing.
        Assert.Equal(5, Generation());
        Assert.Equal(5, await AuditedAsync());
    }

    [Fact]
    public async Task Opening_again_applies_no_migration_twice()
    {
        await ManagementStores.OpenAsync(OpenReplica(), null, CancellationToken.None);
        await using var connection = Database.Open();
        var applied = connection.Query<(string Area, int Version)>("SELECT area, version FROM schema_migrations ORDER BY area, version").ToList();
        Assert.Equal([(AuditSchema.Area, 1), (ManagementSchema.Area, 1), (ManagementSchema.Area, 2)], applied);
    }
}

public sealed class SqliteManagementStoresTests() : ManagementStoresTests(DatabaseProvider.Sqlite)
{
    [Fact]
    public async Task A_safehaven_db_written_before_versioned_migrations_is_adopted_with_its_data()
    {
        var data = System.IO.Directory.CreateTempSubdirectory("safehaven-adopt-").FullName;
        var file = Path.Combine(data, "safehaven.db");
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            // The schema the previous version created (classifications without the answers column, which it added on start).
            old.Open();
            old.Execute(PreviousSchema);
            old.Execute("INSERT INTO mgmt_users (name, created_at, created_by) VALUES ('alice', 1, 'cli:root')");
            old.Execute("INSERT INTO mgmt_projects (name, title, created_at, created_by) VALUES ('p1', 'P', 1, 'pm')");
            old.Execute("INSERT INTO mgmt_work_packages (project, name, title, created_at, created_by) VALUES ('p1', 'wp1', 'W', 1, 'pm')");
            old.Execute("INSERT INTO mgmt_classifications (project, work_package, classifier, role, tier, reason, recorded_at) VALUES ('p1', 'wp1', 'alice', 'Investigator', 2, 'r', 1)");
            var hash = AuditChain.ComputeHash(1, 1, "cli:root", "user.created", "alice", null, "{}", AuditChain.GenesisHash);
            old.Execute("INSERT INTO mgmt_audit_log VALUES (1, 1, 'cli:root', 'user.created', 'alice', NULL, '{}', @genesis, @hash); INSERT INTO mgmt_audit_head VALUES (1, 1, @hash)",
                new { genesis = AuditChain.GenesisHash, hash });
        }

        await using (var stores = ManagementStores.Open(new SafeHavenOptions { DataDirectory = data }))
        {
            Assert.NotNull(await stores.Users.GetUserAsync("alice", CancellationToken.None));
            Assert.Equal(2, Assert.Single(await stores.Projects.GetClassificationsAsync("p1", "wp1", CancellationToken.None)).Tier);
            await stores.Projects.RecordClassificationAsync("p1", "wp1", new Classification("alice", Role.Investigator, 3, "again", DateTimeOffset.UtcNow, ["q1:yes"]),
                AuditRecord.Of("alice", "work-package.classified", "p1/wp1", "p1"), CancellationToken.None);
            Assert.Equal(["q1:yes"], Assert.Single(await stores.Projects.GetClassificationsAsync("p1", "wp1", CancellationToken.None)).Answers);
            var verification = await stores.Audit.VerifyAsync(CancellationToken.None);
            Assert.True(verification.Intact, verification.Problem);
            Assert.Equal(2, verification.Entries);
        }
        // Opened again (the next start): nothing to apply, nothing lost.
        await using (var again = ManagementStores.Open(new SafeHavenOptions { DataDirectory = data }))
        {
            Assert.Equal(2, (await again.Audit.VerifyAsync(CancellationToken.None)).Entries);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(data, recursive: true);
    }

    // Frozen here on purpose (not read from the code): the file a site already has, whatever version 1 becomes.
    private const string PreviousSchema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS mgmt_users (
            name        TEXT    NOT NULL PRIMARY KEY,
            created_at  INTEGER NOT NULL,
            created_by  TEXT    NOT NULL,
            disabled_at INTEGER NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_api_keys (
            key_id     TEXT    NOT NULL PRIMARY KEY,
            user_name  TEXT    NOT NULL REFERENCES mgmt_users(name),
            salt       BLOB    NOT NULL,
            hash       BLOB    NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_role_assignments (
            user_name   TEXT    NOT NULL REFERENCES mgmt_users(name),
            role        TEXT    NOT NULL,
            project     TEXT    NOT NULL DEFAULT '',
            assigned_at INTEGER NOT NULL,
            assigned_by TEXT    NOT NULL,
            PRIMARY KEY (user_name, role, project)
        );
        CREATE TABLE IF NOT EXISTS mgmt_projects (
            name       TEXT    NOT NULL PRIMARY KEY,
            title      TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_work_packages (
            project    TEXT    NOT NULL REFERENCES mgmt_projects(name),
            name       TEXT    NOT NULL,
            title      TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT    NOT NULL,
            PRIMARY KEY (project, name)
        );
        CREATE TABLE IF NOT EXISTS mgmt_classifications (
            project      TEXT    NOT NULL,
            work_package TEXT    NOT NULL,
            classifier   TEXT    NOT NULL,
            role         TEXT    NOT NULL,
            tier         INTEGER NOT NULL,
            reason       TEXT    NOT NULL,
            recorded_at  INTEGER NOT NULL,
            PRIMARY KEY (project, work_package, role, classifier),
            FOREIGN KEY (project, work_package) REFERENCES mgmt_work_packages(project, name)
        );
        CREATE TABLE IF NOT EXISTS mgmt_pending_memberships (
            project     TEXT    NOT NULL REFERENCES mgmt_projects(name),
            user_name   TEXT    NOT NULL REFERENCES mgmt_users(name),
            role        TEXT    NOT NULL,
            proposed_at INTEGER NOT NULL,
            proposed_by TEXT    NOT NULL,
            PRIMARY KEY (project, user_name, role)
        );
        CREATE TABLE IF NOT EXISTS mgmt_policy_settings (
            key        TEXT    NOT NULL PRIMARY KEY,
            value      TEXT    NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_allowlist_entries (
            ecosystem       TEXT    NOT NULL,
            name            TEXT    NOT NULL,
            entry           TEXT    NOT NULL,
            added_by        TEXT    NOT NULL,
            reason          TEXT    NOT NULL,
            added_at        INTEGER NOT NULL,
            status          TEXT    NOT NULL,
            decided_by      TEXT    NULL,
            decision_reason TEXT    NULL,
            decided_at      INTEGER NULL,
            PRIMARY KEY (ecosystem, name)
        );
        CREATE TABLE IF NOT EXISTS mgmt_audit_log (
            seq           INTEGER NOT NULL PRIMARY KEY,
            at            INTEGER NOT NULL,
            actor         TEXT    NOT NULL,
            action        TEXT    NOT NULL,
            target        TEXT    NOT NULL,
            project       TEXT    NULL,
            details       TEXT    NOT NULL,
            previous_hash TEXT    NOT NULL,
            hash          TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_audit_head (
            id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            seq  INTEGER NOT NULL,
            hash TEXT    NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS mgmt_audit_log_no_update BEFORE UPDATE ON mgmt_audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS mgmt_audit_log_no_delete BEFORE DELETE ON mgmt_audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE INDEX IF NOT EXISTS mgmt_audit_log_actor ON mgmt_audit_log(actor);
        CREATE INDEX IF NOT EXISTS mgmt_audit_log_project ON mgmt_audit_log(project);
        """;
}

public sealed class PostgresManagementStoresTests() : ManagementStoresTests(DatabaseProvider.Postgres);
