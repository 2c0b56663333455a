using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Core.Storage.Database;

/// <summary>
/// The appliance's one metadata database (<c>SafeHaven:Database:Provider</c> = <c>sqlite</c> | <c>postgres</c>, plus
/// <c>ConnectionString</c>). SQLite: <c>DATA/safehaven.db</c> unless a connection string is given, in WAL mode, with a busy
/// timeout and foreign keys on. PostgreSQL: one pooled Npgsql data source shared by every store.
/// </summary>
public sealed class SafeHavenDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>How long a SQLite connection waits for another writer before failing.</summary>
    private const int SqliteBusyTimeoutMilliseconds = 5000;

    private readonly string? _sqliteConnectionString;
    private readonly NpgsqlDataSource? _dataSource;

    private SafeHavenDatabase(string sqliteConnectionString)
    {
        SQLitePCL.Batteries_V2.Init();
        Provider = DatabaseProvider.Sqlite;
        Dialect = SqlDialect.Sqlite;
        _sqliteConnectionString = sqliteConnectionString;
        using var connection = Open();
        using var wal = connection.CreateCommand();
        // A persistent property of the file: readers never wait for the writer.
        wal.CommandText = "PRAGMA journal_mode = WAL;";
        wal.ExecuteNonQuery();
    }

    private SafeHavenDatabase(NpgsqlDataSource dataSource)
    {
        Provider = DatabaseProvider.Postgres;
        Dialect = SqlDialect.Postgres;
        _dataSource = dataSource;
    }

    public DatabaseProvider Provider { get; }

    public SqlDialect Dialect { get; }

    /// <summary>The database the <c>SafeHaven:Database</c> section names.</summary>
    /// <exception cref="OptionsValidationException">An unknown provider, or PostgreSQL without a connection string.</exception>
    public static SafeHavenDatabase Create(SafeHavenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var database = options.Database;
        return ParseProvider(database.Provider) switch
        {
            DatabaseProvider.Sqlite => string.IsNullOrWhiteSpace(database.ConnectionString)
                ? ForSqliteFile(options.ResolveDataPath("safehaven.db"))
                : new SafeHavenDatabase(database.ConnectionString),
            _ => string.IsNullOrWhiteSpace(database.ConnectionString)
                ? throw Invalid(nameof(DatabaseOptions.ConnectionString),
                    "SafeHaven:Database:ConnectionString is required with SafeHaven:Database:Provider=postgres " +
                    "(an Npgsql connection string, e.g. Host=db.example;Database=safehaven;Username=safehaven;Password=...).")
                : ForPostgres(database.ConnectionString),
        };
    }

    /// <summary>The provider a <c>SafeHaven:Database:Provider</c> value names.</summary>
    /// <exception cref="OptionsValidationException">The value names no provider.</exception>
    public static DatabaseProvider ParseProvider(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" => DatabaseProvider.Postgres,
        _ => throw Invalid(nameof(DatabaseOptions.Provider),
            $"SafeHaven:Database:Provider '{value}' is not a database provider (supported: sqlite, postgres)."),
    };

    /// <summary>Whether <paramref name="database"/> names PostgreSQL (several replicas may share it).</summary>
    /// <exception cref="OptionsValidationException">The provider names no provider.</exception>
    public static bool IsPostgres(DatabaseOptions database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return ParseProvider(database.Provider) == DatabaseProvider.Postgres;
    }

    /// <summary>A SQLite database in <paramref name="path"/>, creating its folder.</summary>
    public static SafeHavenDatabase ForSqliteFile(string path)
    {
        return new SafeHavenDatabase(SqliteFiles.ConnectionStringFor(path));
    }

    /// <summary>A PostgreSQL database reached with an Npgsql connection string.</summary>
    public static SafeHavenDatabase ForPostgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new SafeHavenDatabase(NpgsqlDataSource.Create(connectionString));
    }

    /// <summary>An open connection; the caller disposes it.</summary>
    public DbConnection Open()
    {
        if (_dataSource is not null)
        {
            return _dataSource.OpenConnection();
        }
        return SqliteFiles.Open(_sqliteConnectionString!, foreignKeys: true, SqliteBusyTimeoutMilliseconds);
    }

    /// <summary>An open connection; the caller disposes it.</summary>
    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return Open();
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits it; an exception rolls everything back.
    /// SQLite: <c>BEGIN IMMEDIATE</c> (one writer at a time). PostgreSQL: READ COMMITTED; work that needs one writer at a
    /// time runs <see cref="SqlDialect.LockSql"/> first.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection is SqliteConnection sqlite
            // Microsoft.Data.Sqlite begins a non-deferred transaction with BEGIN IMMEDIATE: the write lock is taken at
            // once, so two writers never both read and then fail to upgrade.
            ? sqlite.BeginTransaction(deferred: false)
            : await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction (see <see cref="WriteAsync{T}"/>).</summary>
    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return WriteAsync<bool>(async (connection, transaction) =>
        {
            await work(connection, transaction).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _dataSource?.Dispose();
    }

    private static OptionsValidationException Invalid(string name, string message) =>
        new(name, typeof(DatabaseOptions), [message]);
}
