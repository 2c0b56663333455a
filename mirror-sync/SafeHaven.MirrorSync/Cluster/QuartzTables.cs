using Quartz;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.MirrorSync.Cluster;

/// <summary>
/// The tables of Quartz.NET's ADO job store on PostgreSQL, applied as the "quartz" migration area. The statements are
/// Quartz's own PostgreSQL schema for the Quartz version this build runs, read from the Quartz assembly (the script
/// its job store would run with <c>SchemaProvisioning.CreateIfMissing</c>: <c>CREATE ... IF NOT EXISTS</c> only, never a
/// drop). Quartz's <c>database/tables/tables_postgres.sql</c> is not used: it drops an existing schema first, and the
/// copies of it published for older 4.x releases lack tables and columns 4.7 reads (its schema validation refuses them).
/// A later Quartz that changes its schema needs a version-2 migration here with its <c>database/migrations</c> scripts.
/// </summary>
public static class QuartzTables
{
    public const string Area = "quartz";

    /// <summary>Quartz's default table prefix (unquoted, so PostgreSQL folds Quartz's <c>QRTZ_</c> names to these).</summary>
    public const string TablePrefix = "qrtz_";

    private const string SchemaResource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    /// <summary>PostgreSQL only: with SQLite the appliance keeps Quartz's in-memory store (one machine, nothing to share).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "quartz 4.7 ado job store", "-- Quartz keeps its in-memory store with SQLite", ReadQuartzSchema()),
    ];

    private static string ReadQuartzSchema()
    {
        using var stream = typeof(IScheduler).Assembly.GetManifestResourceStream(SchemaResource)
            ?? throw new InvalidOperationException($"The Quartz assembly carries no {SchemaResource}: this Quartz version's PostgreSQL schema is unknown to SafeHaven.");
        using var reader = new StreamReader(stream);
        // {0} is the table prefix, {1} the same without a schema qualifier (index and constraint names).
        return reader.ReadToEnd().Replace("{0}", TablePrefix, StringComparison.Ordinal).Replace("{1}", TablePrefix, StringComparison.Ordinal);
    }
}
