using System.Text;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Cran;
using SafeHaven.Gateway.Ecosystems.Cran.Dates;
using SafeHaven.Gateway.Ecosystems.Cran.Rds;
using SafeHaven.Gateway.Tests.Ecosystems.Cran.Rds;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.Cran.Dates;

/// <summary>CRAN's packages.rds and archive.rds shapes, as R writes them (see <see cref="RFiles"/>).</summary>
public sealed class CranDateDatabasesTests(RFiles files) : IClassFixture<RFiles>
{
    private static readonly DateTimeOffset Now = new(2024, 2, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(RdsReaderTests.Variants), MemberType = typeof(RdsReaderTests))]
    public void Packages_rds_gives_the_date_of_exactly_the_listed_version(string variant)
    {
        var database = CranPackageDatabase.FromR(RdsReader.Read(files.Read($"packages{variant}.rds")));

        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 20, 3, TimeSpan.Zero), database.DateOf("alpha", "1.0"));
        Assert.Equal(new DateTimeOffset(2023, 12, 1, 8, 0, 0, TimeSpan.Zero), database.DateOf("beta", "2.0-1"));
        Assert.Null(database.DateOf("alpha", "0.9")); // another version: not this one's date
        Assert.Null(database.DateOf("gamma", "0.3")); // NA date
        Assert.Equal(2, CranPackageDatabase.Deserialize(database.Serialize()).Count);
    }

    [Fact]
    public void A_package_given_in_several_rows_keeps_each_versions_date_and_the_later_of_two_for_one_version()
    {
        var database = CranPackageDatabase.FromR(RdsReader.Read(files.Read("packages_dup.rds")));

        Assert.Equal(new DateTimeOffset(2023, 12, 2, 8, 0, 0, TimeSpan.Zero), database.DateOf("beta", "2.0-1"));
        Assert.Equal(new DateTimeOffset(2023, 1, 1, 0, 0, 0, TimeSpan.Zero), database.DateOf("beta", "1.9"));
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 10, 20, 3, TimeSpan.Zero), database.DateOf("alpha", "1.0"));
    }

    [Theory]
    [MemberData(nameof(RdsReaderTests.Variants), MemberType = typeof(RdsReaderTests))]
    public void Archive_rds_gives_each_archived_tarballs_file_time(string variant)
    {
        var database = CranArchiveDatabase.FromR(RdsReader.Read(files.Read($"archive{variant}.rds")));

        Assert.Equal(RFiles.ArchivedMtime, database.DateOf("alpha", "0.9"));
        Assert.Equal(RFiles.ArchivedMtime, database.DateOf("beta", "1.0"));
        Assert.Null(database.DateOf("alpha", "1.0"));
        Assert.Equal(RFiles.ArchivedMtime, CranArchiveDatabase.Deserialize(database.Serialize()).DateOf("alpha", "0.8"));
    }

    [Fact]
    public void A_database_of_the_wrong_shape_is_a_format_error_not_a_crash()
    {
        var codec = CranDatabaseCodec<CranPackageDatabase>.Packages;
        static UpstreamDocument Document(byte[] content) => new(System.Net.HttpStatusCode.OK, content, null, null, new Uri("http://upstream.example/"));
        using var archive = Document(files.Read("archive_v3_gz.rds"));
        Assert.Contains("not what CRAN writes there", Assert.Throws<UpstreamFormatException>(() => codec.Parse(CranMirror.PackageDatabaseKey, archive, Now)).Message, StringComparison.Ordinal);
        using var garbage = Document("<html>oops</html>"u8.ToArray());
        Assert.Contains("not a readable R serialisation", Assert.Throws<UpstreamFormatException>(() => codec.Parse(CranMirror.PackageDatabaseKey, garbage, Now)).Message, StringComparison.Ordinal);
        Assert.Throws<UpstreamFormatException>(() => CranDatabaseCodec<CranArchiveDatabase>.Archive.Parse(CranMirror.ArchiveDatabaseKey, Document(files.Read("packages_v2.rds")), Now));
    }

    [Fact]
    public void A_version_dated_only_by_first_seen_is_held_as_undated_and_an_older_dated_archived_version_stands_in()
    {
        var policy = new TierPolicy(2, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty);
        var current = new CranPackage(Dcf.Parse("Package: a\nVersion: 2.0\nMD5sum: 0123456789abcdef0123456789abcdef\n")[0], archived: false)
            .WithDate(Now.AddDays(-1), CranDateSource.FirstSeen);
        var archived = new CranPackage(Dcf.Parse("Package: a\nVersion: 1.0\n")[0], archived: true, md5: "00112233445566778899aabbccddeeff")
            .WithDate(Now.AddDays(-30), CranDateSource.ArchiveDatabase);

        var decision = CranChoice.Decide(current, policy, Now);
        Assert.Equal(VersionDecision.NoUploadDate, decision.Code);
        Assert.Contains("first saw it", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(Now.AddDays(6), decision.ChangesAt);
        Assert.True(CranChoice.NeedsArchive([current], policy, Now));

        var choice = CranChoice.Choose("a", [current], [archived], policy, Now);
        Assert.Same(archived, choice.Chosen);
        Assert.Contains("Path: Archive/a", Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(Dcf.Render([CranView.IndexRecord(archived)]))), StringComparison.Ordinal);

        var none = CranChoice.Choose("a", [current], [], policy, Now);
        Assert.StartsWith("every version of 'a' is undated upstream and held by this appliance's first-seen clock until", none.Reason, StringComparison.Ordinal);
    }
}
