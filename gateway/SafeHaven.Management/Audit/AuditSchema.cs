using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Management.Audit;

/// <summary>
/// The audit log's tables (area <c>audit</c>), in the appliance's one database so that any store can append an entry in
/// the transaction of the change it records. Version 1 is the schema the SQLite file had before migrations were
/// versioned (<c>IF NOT EXISTS</c>, so an existing <c>DATA/safehaven.db</c> is adopted as it is).
/// </summary>
public static class AuditSchema
{
    public const string Area = "audit";

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "hash-chained audit log", Sqlite: """
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
            """, Postgres: """
            CREATE TABLE IF NOT EXISTS mgmt_audit_log (
                seq           BIGINT NOT NULL PRIMARY KEY,
                at            BIGINT NOT NULL,
                actor         TEXT   NOT NULL,
                action        TEXT   NOT NULL,
                target        TEXT   NOT NULL,
                project       TEXT   NULL,
                details       TEXT   NOT NULL,
                previous_hash TEXT   NOT NULL,
                hash          TEXT   NOT NULL
            );
            CREATE TABLE IF NOT EXISTS mgmt_audit_head (
                id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                seq  BIGINT  NOT NULL,
                hash TEXT    NOT NULL
            );
            CREATE OR REPLACE FUNCTION mgmt_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
            CREATE OR REPLACE TRIGGER mgmt_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON mgmt_audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION mgmt_audit_log_append_only();
            CREATE INDEX IF NOT EXISTS mgmt_audit_log_actor ON mgmt_audit_log(actor);
            CREATE INDEX IF NOT EXISTS mgmt_audit_log_project ON mgmt_audit_log(project);
            """),
    ];

    public static Task ApplyAsync(SafeHavenDatabase database, CancellationToken cancellationToken) =>
        SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken);
}
