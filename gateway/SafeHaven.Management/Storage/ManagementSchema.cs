using Dapper;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Storage;

/// <summary>
/// The management tables (area <c>management</c>): people, keys, roles, projects, work packages, classifications,
/// pending memberships, policy settings and hand-added allowlist entries. Version 1 is the schema the SQLite file had
/// before migrations were versioned, written with <c>IF NOT EXISTS</c> so an existing <c>DATA/safehaven.db</c> is adopted.
/// </summary>
public static class ManagementSchema
{
    public const string Area = "management";

    private const string Version1 = """
        CREATE TABLE IF NOT EXISTS mgmt_users (
            name        TEXT    NOT NULL PRIMARY KEY,
            created_at  BIGINT  NOT NULL,
            created_by  TEXT    NOT NULL,
            disabled_at BIGINT  NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_api_keys (
            key_id     TEXT    NOT NULL PRIMARY KEY,
            user_name  TEXT    NOT NULL REFERENCES mgmt_users(name),
            salt       {blob}  NOT NULL,
            hash       {blob}  NOT NULL,
            created_at BIGINT  NOT NULL,
            revoked_at BIGINT  NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_role_assignments (
            user_name   TEXT    NOT NULL REFERENCES mgmt_users(name),
            role        TEXT    NOT NULL,
            project     TEXT    NOT NULL DEFAULT '',
            assigned_at BIGINT  NOT NULL,
            assigned_by TEXT    NOT NULL,
            PRIMARY KEY (user_name, role, project)
        );
        CREATE TABLE IF NOT EXISTS mgmt_projects (
            name       TEXT    NOT NULL PRIMARY KEY,
            title      TEXT    NOT NULL,
            created_at BIGINT  NOT NULL,
            created_by TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_work_packages (
            project    TEXT    NOT NULL REFERENCES mgmt_projects(name),
            name       TEXT    NOT NULL,
            title      TEXT    NOT NULL,
            created_at BIGINT  NOT NULL,
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
            recorded_at  BIGINT  NOT NULL,
            answers      TEXT    NULL,
            PRIMARY KEY (project, work_package, role, classifier),
            FOREIGN KEY (project, work_package) REFERENCES mgmt_work_packages(project, name)
        );
        CREATE TABLE IF NOT EXISTS mgmt_pending_memberships (
            project     TEXT    NOT NULL REFERENCES mgmt_projects(name),
            user_name   TEXT    NOT NULL REFERENCES mgmt_users(name),
            role        TEXT    NOT NULL,
            proposed_at BIGINT  NOT NULL,
            proposed_by TEXT    NOT NULL,
            PRIMARY KEY (project, user_name, role)
        );
        CREATE TABLE IF NOT EXISTS mgmt_policy_settings (
            key        TEXT    NOT NULL PRIMARY KEY,
            value      TEXT    NOT NULL,
            updated_at BIGINT  NOT NULL,
            updated_by TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS mgmt_allowlist_entries (
            ecosystem       TEXT    NOT NULL,
            name            TEXT    NOT NULL,
            entry           TEXT    NOT NULL,
            added_by        TEXT    NOT NULL,
            reason          TEXT    NOT NULL,
            added_at        BIGINT  NOT NULL,
            status          TEXT    NOT NULL,
            decided_by      TEXT    NULL,
            decision_reason TEXT    NULL,
            decided_at      BIGINT  NULL,
            PRIMARY KEY (ecosystem, name)
        );
        """;

    // The generation every replica compares with the one its policy snapshot was built from (PolicyChangeSignal).
    private const string Version2 = """
        CREATE TABLE IF NOT EXISTS mgmt_policy_generation (
            id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            generation BIGINT  NOT NULL
        );
        INSERT INTO mgmt_policy_generation (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        """;

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "users, keys, roles, projects, policy", Version1.Replace("{blob}", SqlDialect.Sqlite.Blob, StringComparison.Ordinal),
            Version1.Replace("{blob}", SqlDialect.Postgres.Blob, StringComparison.Ordinal)),
        Migration.Portable(2, "policy generation", Version2),
    ];

    /// <summary>Brings the audit and management areas to this build's version (a no-op when they are).</summary>
    public static async Task ApplyAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        await AuditSchema.ApplyAsync(database, cancellationToken).ConfigureAwait(false);
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            await AdoptOlderSqliteFileAsync(database, cancellationToken).ConfigureAwait(false);
        }
        await SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A file made before classifications recorded the flowchart's answers has <c>mgmt_classifications</c> without the
    /// <c>answers</c> column (the version before migrations added it on start); version 1 expects it.
    /// </summary>
    private static Task AdoptOlderSqliteFileAsync(SafeHavenDatabase database, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var columns = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT name FROM pragma_table_info('mgmt_classifications')", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
            if (columns.Count > 0 && !columns.Contains("answers", StringComparer.Ordinal))
            {
                await connection.ExecuteAsync(new CommandDefinition("ALTER TABLE mgmt_classifications ADD COLUMN answers TEXT",
                    transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }, cancellationToken);
}
