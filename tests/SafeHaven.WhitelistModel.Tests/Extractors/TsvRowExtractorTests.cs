using SafeHaven.WhitelistModel.Extractors;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Extractors;

public sealed class TsvRowExtractorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<PackageMetadataRecord> Read(string tsv) =>
        TsvRowExtractor.ExtractAll(TsvTable.Parse(new StringReader(tsv)), Ecosystem.PyPI, Now);

    [Fact]
    public void Reads_the_recognised_columns_and_ignores_others()
    {
        var rows = Read("name\tversion\tversions\tfirst_release\tlast_release\trelease_count\tdownload_rank\thas_source_repo\tsummary\textra\n"
            + "numpy\t2.1.0\t1.0,2.0.0\t2006-12\t2024-08-18\t120\t9\ttrue\tFundamental package\tignored\n"
            + "reqeusts\t\t1.0.0,0.0.1\t\t\t\t\t\t\tx\n");
        var numpy = rows[0];
        Assert.Equal("2.1.0", numpy.LatestVersion);
        Assert.Equal(3, numpy.Versions.Count);
        Assert.Equal(new DateTimeOffset(2006, 12, 1, 0, 0, 0, TimeSpan.Zero), numpy.FirstRelease);
        Assert.Equal(new DateTimeOffset(2024, 8, 18, 0, 0, 0, TimeSpan.Zero), numpy.LatestRelease);
        Assert.Equal(120, numpy.ReleaseCount);
        Assert.Equal(9, numpy.DownloadRank);
        Assert.True(numpy.PopularityKnown);
        Assert.True(numpy.HasSourceRepository);
        Assert.Equal("Fundamental package", numpy.Summary);
        Assert.Equal(Now, numpy.ObservedAt);

        var typo = rows[1];
        Assert.Equal("1.0.0", typo.LatestVersion);
        Assert.Null(typo.DownloadRank); // blank rank: not among the most downloaded
        Assert.True(typo.PopularityKnown);
        Assert.Null(typo.HasSourceRepository); // blank: unknown
        Assert.Equal(string.Empty, typo.Summary); // column present, cell blank: known to be empty
        Assert.Null(typo.FirstRelease);
    }

    [Fact]
    public void Absent_columns_are_unknown()
    {
        var r = Read("name\nsomething\n").Single();
        Assert.False(r.PopularityKnown);
        Assert.Null(r.Summary);
        Assert.Null(r.LatestVersion);
    }

    [Fact]
    public void Missing_name_column_and_bad_cells_give_precise_messages()
    {
        var noName = Assert.Throws<FormatException>(() => Read("package\tversion\nx\t1\n"));
        Assert.Contains("'name'", noName.Message, StringComparison.Ordinal);
        var badRank = Assert.Throws<FormatException>(() => Read("name\tdownload_rank\nx\tfirst\n"));
        Assert.Contains("line 2", badRank.Message, StringComparison.Ordinal);
        Assert.Contains("download_rank", badRank.Message, StringComparison.Ordinal);
        var badDate = Assert.Throws<FormatException>(() => Read("name\tfirst_release\nx\t12/01/2020\n"));
        Assert.Contains("first_release", badDate.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Read(string.Empty));
    }
}
