namespace SafeHaven.Tests.Support;

/// <summary>The airlock's SQLite pool keeps database files open on the mount; close them so it can be unmounted.</summary>
internal sealed partial class TmpfsMount
{
    static partial void BeforeUnmount() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}
