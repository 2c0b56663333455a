using System.Data.Common;
using Microsoft.Data.Sqlite;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Airlock.Storage;

/// <summary>
/// The airlock's tables in the appliance's one metadata database (<see cref="SafeHavenDatabase"/>: SQLite
/// <c>DATA/safehaven.db</c>, or the PostgreSQL every replica shares), the same database as the audit log, so a
/// submission's state change and its audit entry commit in one transaction.
/// </summary>
public sealed class AirlockDatabase
{
    private AirlockDatabase(SafeHavenDatabase database)
    {
        Database = database;
    }

    public SafeHavenDatabase Database { get; }

    public SqlDialect Dialect => Database.Dialect;

    /// <summary>
    /// Brings the airlock's tables to this build's version, then adopts <paramref name="legacyFile"/> (the former
    /// separate <c>DATA/airlock.db</c>) if it exists: see <see cref="LegacyAirlockFile"/>.
    /// </summary>
    public static async Task<AirlockDatabase> OpenAsync(SafeHavenDatabase database, string? legacyFile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        await SchemaMigrations.ApplyAsync(database, AirlockSchema.Area, AirlockSchema.Migrations, cancellationToken).ConfigureAwait(false);
        var airlock = new AirlockDatabase(database);
        if (legacyFile is not null)
        {
            await LegacyAirlockFile.AdoptAsync(airlock, legacyFile, cancellationToken).ConfigureAwait(false);
        }
        return airlock;
    }

    /// <summary>The airlock tables in a SQLite file of their own (tests and tools).</summary>
    public static AirlockDatabase ForFile(string path) =>
        OpenAsync(SafeHavenDatabase.ForSqliteFile(path), null, CancellationToken.None).GetAwaiter().GetResult();

    internal ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => Database.OpenAsync(cancellationToken);

    internal Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        Database.WriteAsync(work, cancellationToken);

    /// <summary>
    /// A UNIQUE, PRIMARY KEY or FOREIGN KEY violation (the row clashes with one already there, or its parent is gone),
    /// on either provider.
    /// </summary>
    internal bool IsConstraintViolation(Exception e) => Dialect.IsUniqueViolation(e) || e switch
    {
        SqliteException s => s.SqliteErrorCode == 19,
        DbException d => d.SqlState is "23503" or "23505",
        _ => false,
    };
}
