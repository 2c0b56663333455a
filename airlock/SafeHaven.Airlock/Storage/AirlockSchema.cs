using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Airlock.Storage;

/// <summary>
/// The airlock's tables (area <c>airlock</c> of <see cref="SchemaMigrations"/>), in the appliance's one metadata
/// database beside the management tables and the audit log. Version 1 is the schema the separate
/// <c>DATA/airlock.db</c> had (so the adopted rows fit unchanged), plus the record of that adoption. Times are unix
/// milliseconds, hence <c>BIGINT</c> on PostgreSQL.
/// </summary>
public static class AirlockSchema
{
    public const string Area = "airlock";

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS airlock_volumes (
            id            TEXT    NOT NULL PRIMARY KEY,
            work_package  TEXT    NOT NULL,
            name          TEXT    NOT NULL,
            mode          TEXT    NOT NULL,
            created_at    {int}   NOT NULL,
            UNIQUE (work_package, name)
        );
        CREATE TABLE IF NOT EXISTS airlock_volume_files (
            volume_id     TEXT    NOT NULL REFERENCES airlock_volumes (id),
            path          TEXT    NOT NULL,
            sha256        TEXT    NOT NULL,
            size          {int}   NOT NULL,
            added_at      {int}   NOT NULL,
            PRIMARY KEY (volume_id, path)
        );
        CREATE TABLE IF NOT EXISTS airlock_uploads (
            id            TEXT    NOT NULL PRIMARY KEY,
            volume_id     TEXT    NOT NULL REFERENCES airlock_volumes (id),
            path          TEXT    NOT NULL,
            size          {int}   NOT NULL,
            sha256        TEXT    NOT NULL,
            chunk_size    {int}   NOT NULL,
            state         TEXT    NOT NULL,
            created_at    {int}   NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS airlock_uploads_open_path ON airlock_uploads (volume_id, path) WHERE state = 'open';
        CREATE TABLE IF NOT EXISTS airlock_upload_chunks (
            upload_id     TEXT    NOT NULL REFERENCES airlock_uploads (id),
            idx           {int}   NOT NULL,
            sha256        TEXT    NOT NULL,
            length        {int}   NOT NULL,
            PRIMARY KEY (upload_id, idx)
        );
        CREATE INDEX IF NOT EXISTS airlock_upload_chunks_sha256 ON airlock_upload_chunks (sha256);
        CREATE TABLE IF NOT EXISTS airlock_submissions (
            id                TEXT    NOT NULL PRIMARY KEY,
            project           TEXT    NOT NULL,
            work_package      TEXT    NOT NULL,
            kind              TEXT    NOT NULL,
            tier              {int}   NOT NULL,
            state             TEXT    NOT NULL,
            volume_id         TEXT    NOT NULL REFERENCES airlock_volumes (id),
            created_by        TEXT    NOT NULL,
            depositor         TEXT,
            script            TEXT,
            state_reason      TEXT,
            hash_confirmed_by TEXT,
            created_at        {int}   NOT NULL,
            updated_at        {int}   NOT NULL
        );
        CREATE TABLE IF NOT EXISTS airlock_signoffs (
            submission_id     TEXT    NOT NULL REFERENCES airlock_submissions (id),
            role              TEXT    NOT NULL,
            reviewer          TEXT    NOT NULL,
            decision          TEXT    NOT NULL,
            reason            TEXT    NOT NULL,
            at                {int}   NOT NULL,
            PRIMARY KEY (submission_id, role)
        );
        CREATE TABLE IF NOT EXISTS airlock_tokens (
            id            TEXT    NOT NULL PRIMARY KEY,
            kind          TEXT    NOT NULL,
            submission_id TEXT    NOT NULL,
            salt          {blob}  NOT NULL,
            hash          {blob}  NOT NULL,
            expires_at    {int}   NOT NULL,
            allowed_range TEXT,
            created_at    {int}   NOT NULL,
            created_by    TEXT    NOT NULL,
            ended_at      {int}
        );
        CREATE INDEX IF NOT EXISTS airlock_tokens_submission ON airlock_tokens (submission_id);
        CREATE TABLE IF NOT EXISTS airlock_scan_claims (
            submission_id TEXT    NOT NULL PRIMARY KEY,
            owner         TEXT    NOT NULL,
            lease_until   {int}   NOT NULL,
            claimed_at    {int}   NOT NULL
        );
        CREATE TABLE IF NOT EXISTS airlock_adopted_files (
            source        TEXT    NOT NULL PRIMARY KEY,
            adopted_at    {int}   NOT NULL
        );
        """;

    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "airlock tables",
            Tables.Replace("{int}", "INTEGER", StringComparison.Ordinal).Replace("{blob}", "BLOB ", StringComparison.Ordinal),
            Tables.Replace("{int}", "BIGINT ", StringComparison.Ordinal).Replace("{blob}", "BYTEA", StringComparison.Ordinal)),
    ];

    /// <summary>The tables of the former <c>DATA/airlock.db</c>, parents before children, with their columns.</summary>
    internal static IReadOnlyList<(string Table, string Columns)> AdoptedTables { get; } =
    [
        ("airlock_volumes", "id, work_package, name, mode, created_at"),
        ("airlock_volume_files", "volume_id, path, sha256, size, added_at"),
        ("airlock_uploads", "id, volume_id, path, size, sha256, chunk_size, state, created_at"),
        ("airlock_upload_chunks", "upload_id, idx, sha256, length"),
        ("airlock_submissions", "id, project, work_package, kind, tier, state, volume_id, created_by, depositor, script, state_reason, hash_confirmed_by, created_at, updated_at"),
        ("airlock_signoffs", "submission_id, role, reviewer, decision, reason, at"),
        ("airlock_tokens", "id, kind, submission_id, salt, hash, expires_at, allowed_range, created_at, created_by, ended_at"),
        ("airlock_scan_claims", "submission_id, owner, lease_until, claimed_at"),
    ];
}
