namespace SafeHaven.Gateway.Ecosystems.Cran.Dates;

/// <summary>
/// Upstream's <c>PACKAGES</c> with a date on every current version where one can be had, from the best source
/// (see <see cref="CranDateSource"/>), and the archive database for dating archived versions. Immutable: a new
/// <c>PACKAGES</c>, a new database or a newly learned date makes a new one.
/// </summary>
public sealed class CranDatedIndex(
    CranIndexState state, CranPackageDatabase? packageDatabase, CranArchiveDatabase? archiveDatabase, long generation,
    IReadOnlyDictionary<string, IReadOnlyList<CranPackage>> byName)
{
    public CranIndexState State { get; } = state;

    /// <summary><c>web/packages/packages.rds</c>, or null when upstream has none or it is unreadable.</summary>
    public CranPackageDatabase? PackageDatabase { get; } = packageDatabase;

    /// <summary><c>src/contrib/Meta/archive.rds</c>, or null when upstream has none or it is unreadable.</summary>
    public CranArchiveDatabase? ArchiveDatabase { get; } = archiveDatabase;

    /// <summary>The count of dates learned from tarballs' DESCRIPTION when this was built.</summary>
    public long Generation { get; } = generation;

    /// <summary>The current versions of each package, dated.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<CranPackage>> ByName { get; } = byName;
}
