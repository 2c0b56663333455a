using SafeHaven.Core.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using SafeHaven.Core.Configuration;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Storage;

/// <summary>
/// The management tables in the appliance's SQLite file (beside the index cache). Every change runs in one
/// <c>BEGIN IMMEDIATE</c> transaction together with its audit entry, so a change is never made without its record
/// (and the audit chain is extended by one writer at a time, across processes).
/// </summary>
internal sealed class SqliteManagementDatabase
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;

    public SqliteManagementDatabase(string connectionString, TimeProvider time)
    {
        SQLitePCL.Batteries_V2.Init();
        _connectionString = connectionString;
        _time = time;
        using var connection = Open();
        connection.Execute(Schema);
        AddColumn(connection, "mgmt_classifications", "answers", "TEXT");
    }

    /// <summary>
    /// Adds a column that a later version introduced to a table an earlier version created (SQLite has no
    /// <c>ADD COLUMN IF NOT EXISTS</c>); another process adding it at the same moment is fine.
    /// </summary>
    private static void AddColumn(SqliteConnection connection, string table, string column, string type)
    {
        if (connection.ExecuteScalar<long>($"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = @column", new { column }) > 0)
        {
            return;
        }
        try
        {
            connection.Execute($"ALTER TABLE {table} ADD COLUMN {column} {type}");
        }
        catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
        }
    }

    public TimeProvider Time => _time;

    /// <summary>The database of a configuration: <c>Database:ConnectionString</c>, else <c>DATA/safehaven.db</c>.</summary>
    public static string ConnectionStringFor(SafeHavenOptions options)
    {
        if (!options.Database.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SafeHaven:Database:Provider '{options.Database.Provider}' is not available in this build (supported: sqlite).");
        }
        if (!string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            return options.Database.ConnectionString;
        }
        var path = options.ResolveDataPath("safehaven.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private }.ToString();
    }

    public SqliteConnection Open()
    {
        return SqliteFiles.Open(_connectionString, foreignKeys: true, busyTimeoutMilliseconds: 10000);
    }

    /// <summary>Runs <paramref name="change"/> and appends the audit entry it returns, atomically.</summary>
    public async Task<T> ChangeAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<(T Result, AuditRecord? Audit)>> change, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        // deferred: false is BEGIN IMMEDIATE: the write lock is taken before the first read, so two writers
        // (the server and a CLI command) never both extend the audit chain from the same head.
        await using var transaction = connection.BeginTransaction(deferred: false);
        var (result, audit) = await change(connection, transaction).ConfigureAwait(false);
        if (audit is not null)
        {
            await AuditChain.AppendAsync(connection, transaction, audit, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private const string Schema = """
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
