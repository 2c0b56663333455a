using Microsoft.Data.Sqlite;
using Npgsql;

namespace SafeHaven.Core.Storage.Database;

/// <summary>
/// The few places the two dialects differ. Everything else is written once in portable SQL (Dapper, <c>@parameters</c>,
/// <c>INSERT ... ON CONFLICT ... DO UPDATE/NOTHING</c>, <c>RETURNING</c>, <c>LIMIT</c>, integers for times (unix ms) and
/// booleans, <c>TEXT</c>, bytes).
/// </summary>
public sealed class SqlDialect
{
    // SQLite's result codes for a constraint failure (SQLITE_CONSTRAINT) and its UNIQUE / PRIMARY KEY variants.
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    public static readonly SqlDialect Sqlite = new(DatabaseProvider.Sqlite);
    public static readonly SqlDialect Postgres = new(DatabaseProvider.Postgres);

    private SqlDialect(DatabaseProvider provider) => Provider = provider;

    public DatabaseProvider Provider { get; }

    /// <summary>A column definition for a 64-bit key the database assigns.</summary>
    public string AutoIncrementPrimaryKey => Provider == DatabaseProvider.Sqlite
        ? "INTEGER PRIMARY KEY AUTOINCREMENT"
        : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";

    /// <summary>The column type for bytes.</summary>
    public string Blob => Provider == DatabaseProvider.Sqlite ? "BLOB" : "BYTEA";

    /// <summary>
    /// A statement that makes the current write transaction the only one holding <c>@name</c> until it ends (bind
    /// <c>name</c> as a parameter); null for SQLite, where <c>BEGIN IMMEDIATE</c> already admits one writer at a time.
    /// </summary>
    public string? LockSql(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Provider == DatabaseProvider.Sqlite ? null : "SELECT pg_advisory_xact_lock(hashtext(@name))";
    }

    /// <summary>Whether <paramref name="e"/> is a UNIQUE or PRIMARY KEY violation of this provider.</summary>
    public bool IsUniqueViolation(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode == SqliteConstraint
            && s.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
