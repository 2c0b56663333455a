using Microsoft.Data.Sqlite;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Tests.Support;

/// <summary>
/// One test's own metadata database, SQLite (a file in a temporary folder) or PostgreSQL (a fresh database on
/// <see cref="PostgresServer"/>). <see cref="OpenReplica"/> opens another handle on it, as another appliance replica would.
/// A store test derives an abstract class from this and one concrete subclass per provider. One file, compiled into each
/// test project that needs it.
/// </summary>
public abstract class TestDatabase(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly List<SafeHavenDatabase> _opened = [];
    private string? _directory;
    private string? _location;
    private SafeHavenDatabase? _database;

    public DatabaseProvider Provider { get; } = provider;

    /// <summary>This test's database (the first replica's handle).</summary>
    protected SafeHavenDatabase Database => _database ?? throw new InvalidOperationException("Not initialised yet.");

    /// <summary>For SQLite, the folder holding the database file.</summary>
    protected string Directory => _directory ??= System.IO.Directory.CreateTempSubdirectory("safehaven-db-").FullName;

    /// <summary>A new handle on this test's database, with its own connections; disposed with the test.</summary>
    protected SafeHavenDatabase OpenReplica()
    {
        var database = Provider == DatabaseProvider.Sqlite
            ? SafeHavenDatabase.ForSqliteFile(_location!)
            : SafeHavenDatabase.ForPostgres(_location!);
        lock (_opened)
        {
            _opened.Add(database);
        }
        return database;
    }

    public virtual async Task InitializeAsync()
    {
        _location = Provider == DatabaseProvider.Sqlite
            ? Path.Combine(Directory, "safehaven.db")
            : await PostgresServer.CreateDatabaseAsync();
        _database = OpenReplica();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var database in _opened)
        {
            await database.DisposeAsync();
        }
        if (_directory is not null)
        {
            SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }
}
