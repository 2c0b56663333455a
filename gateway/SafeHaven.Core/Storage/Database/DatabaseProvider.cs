namespace SafeHaven.Core.Storage.Database;

/// <summary>The engine holding the appliance's metadata (<c>SafeHaven:Database:Provider</c>).</summary>
public enum DatabaseProvider
{
    /// <summary>One embedded SQLite file (the default): one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server shared by every replica.</summary>
    Postgres,
}
