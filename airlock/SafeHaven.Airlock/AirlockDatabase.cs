using SafeHaven.Core.Storage;
using Dapper;
using Microsoft.Data.Sqlite;

namespace SafeHaven.Airlock;

/// <summary>The airlock's embedded SQLite file (WAL): volumes, their files, upload sessions and received chunks.</summary>
public sealed class AirlockDatabase
{
    private readonly string _connectionString;

    public AirlockDatabase(string connectionString)
    {
        SQLitePCL.Batteries_V2.Init();
        _connectionString = connectionString;
        using var connection = Open();
        connection.Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS airlock_volumes (
                id            TEXT    NOT NULL PRIMARY KEY,
                work_package  TEXT    NOT NULL,
                name          TEXT    NOT NULL,
                mode          TEXT    NOT NULL,
                created_at    INTEGER NOT NULL,
                UNIQUE (work_package, name)
            );
            CREATE TABLE IF NOT EXISTS airlock_volume_files (
                volume_id     TEXT    NOT NULL REFERENCES airlock_volumes (id),
                path          TEXT    NOT NULL,
                sha256        TEXT    NOT NULL,
                size          INTEGER NOT NULL,
                added_at      INTEGER NOT NULL,
                PRIMARY KEY (volume_id, path)
            );
            CREATE TABLE IF NOT EXISTS airlock_uploads (
                id            TEXT    NOT NULL PRIMARY KEY,
                volume_id     TEXT    NOT NULL REFERENCES airlock_volumes (id),
                path          TEXT    NOT NULL,
                size          INTEGER NOT NULL,
                sha256        TEXT    NOT NULL,
                chunk_size    INTEGER NOT NULL,
                state         TEXT    NOT NULL,
                created_at    INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX IF NOT EXISTS airlock_uploads_open_path ON airlock_uploads (volume_id, path) WHERE state = 'open';
            CREATE TABLE IF NOT EXISTS airlock_upload_chunks (
                upload_id     TEXT    NOT NULL REFERENCES airlock_uploads (id),
                idx           INTEGER NOT NULL,
                sha256        TEXT    NOT NULL,
                length        INTEGER NOT NULL,
                PRIMARY KEY (upload_id, idx)
            );
            CREATE INDEX IF NOT EXISTS airlock_upload_chunks_sha256 ON airlock_upload_chunks (sha256);
            """);
    }

    public static AirlockDatabase ForFile(string path)
    {
        return new AirlockDatabase(SqliteFiles.ConnectionStringFor(path));
    }

    internal SqliteConnection Open()
    {
        return SqliteFiles.Open(_connectionString, foreignKeys: true);
    }
}

/// <summary>An airlock operation that conflicts with the current state (a path already taken, a sealed volume).</summary>
public sealed class AirlockConflictException(string message) : Exception(message);
