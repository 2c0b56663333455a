namespace SafeHaven.Core.Storage.Database;

/// <summary>
/// One step of an area's schema: <paramref name="Version"/> counts from 1 without gaps; <paramref name="Sqlite"/> and
/// <paramref name="Postgres"/> are the statements for each provider (several statements, separated by <c>;</c>, are allowed).
/// </summary>
public sealed record Migration(int Version, string Name, string Sqlite, string Postgres)
{
    /// <summary>A step whose SQL is the same for both providers.</summary>
    public static Migration Portable(int version, string name, string sql) => new(version, name, sql, sql);

    public string SqlFor(DatabaseProvider provider) => provider == DatabaseProvider.Sqlite ? Sqlite : Postgres;
}
