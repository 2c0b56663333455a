using Dapper;
using Microsoft.Data.Sqlite;

namespace SafeHaven.Core.Storage;

/// <summary>How every embedded SQLite store of the appliance opens its file: one place for the connection settings.</summary>
public static class SqliteFiles
{
    /// <summary>The connection string for a database file, creating its folder.</summary>
    public static string ConnectionStringFor(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private }.ToString();
    }

    /// <summary>An open connection that waits for other writers instead of failing at once.</summary>
    public static SqliteConnection Open(string connectionString, bool foreignKeys = false, int busyTimeoutMilliseconds = 5000)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        connection.Execute($"PRAGMA busy_timeout = {busyTimeoutMilliseconds};" + (foreignKeys ? " PRAGMA foreign_keys = ON;" : ""));
        return connection;
    }
}
