using System.Text;
using SafeHaven.Gateway.Ecosystems.Cran;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.Cran;

public sealed class CranIndexTests
{
    // The shape tools::write_PACKAGES writes (and CRAN serves), continuation lines included.
    private const string Packages = """
        Package: shapp
        Version: 1.0-2
        Depends: R (>= 3.5), methods
        Imports: shbase (>= 1.5),
                stats, shutil
        LinkingTo: shlink
        Suggests: shother
        License: MIT + file LICENSE
        MD5sum: 0123456789abcdef0123456789abcdef
        NeedsCompilation: no
        Date/Publication: 2024-03-01 10:20:30 UTC

        Package: shbase
        Version: 2.0
        License: GPL-2
        MD5sum: fedcba9876543210fedcba9876543210
        NeedsCompilation: no

        """;

    [Fact]
    public void Parses_PACKAGES_with_continuation_lines_and_round_trips()
    {
        var records = CranIndexParser.ParsePackages(Encoding.UTF8.GetBytes(Packages));
        Assert.Equal(2, records.Count);
        Assert.Equal("shbase (>= 1.5),\n        stats, shutil", records[0]["Imports"]);
        Assert.Equal(records.Select(r => r.Fields), Dcf.Parse(Dcf.Render(records)).Select(r => r.Fields));
    }

    [Fact]
    public void Reads_PACKAGES_gz()
    {
        var gz = CranIndexParser.Gzip(Encoding.UTF8.GetBytes(Packages));
        Assert.Equal(2, CranIndexParser.ParsePackages(gz).Count);
    }

    [Fact]
    public void Reads_a_PACKAGES_gz_spooled_to_disk_as_a_stream()
    {
        // 20,000 records, as an upstream PACKAGES.gz spooled to disk by the appliance is parsed: from the file.
        var text = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            text.Append($"Package: pkg{i}\nVersion: 1.{i}\nImports: stats,\n        utils\nMD5sum: {new string('a', 32)}\n\n");
        }
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, CranIndexParser.Gzip(Encoding.UTF8.GetBytes(text.ToString())));
        using var document = UpstreamDocument.Spooled(System.Net.HttpStatusCode.OK,
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.DeleteOnClose),
            "application/x-gzip", null, new Uri("http://upstream.example/src/contrib/PACKAGES.gz"));

        var records = CranIndexParser.ParsePackages(document);

        Assert.Equal(20_000, records.Count);
        Assert.Equal("pkg19999", records[^1]["Package"]);
        Assert.Equal("stats,\n        utils", records[0]["Imports"]);
    }

    [Theory]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("")]
    [InlineData("Version: 1.0\nLicense: MIT\n")]
    public void Rejects_garbage(string content) =>
        Assert.Throws<UpstreamFormatException>(() => CranIndexParser.ParsePackages(Encoding.UTF8.GetBytes(content)));

    [Fact]
    public void Rejects_truncated_gzip() =>
        Assert.Throws<UpstreamFormatException>(() => CranIndexParser.ParsePackages(CranIndexParser.Gzip(Encoding.UTF8.GetBytes(Packages))[..20]));

    [Fact]
    public void Derives_the_facts_the_policy_needs()
    {
        var state = new CranIndexState(CranIndexParser.ParsePackages(Encoding.UTF8.GetBytes(Packages)), DateTimeOffset.UnixEpoch);
        var app = state.ByName["shapp"].Single();
        Assert.Equal("shapp_1.0-2.tar.gz", app.FileName);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 20, 30, TimeSpan.Zero), app.Published);
        // R, methods and stats come with R; Suggests is not followed.
        Assert.Equal(["shbase (>= 1.5)", "shutil", "shlink"], app.Dependencies.Select(d => d.ToString()));
        Assert.Null(state.ByName["shbase"].Single().Published);
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("R (>= 4.0)", new[] { "R|>=|4.0" })]
    [InlineData("Rcpp (>= 1.0.10),\n    BH,  data.table(>=1.14.2)", new[] { "Rcpp|>=|1.0.10", "BH||", "data.table|>=|1.14.2" })]
    [InlineData("xyz (== 0.1-3), abc (!= 2)", new[] { "xyz|==|0.1-3", "abc|!=|2" })]
    public void Parses_dependency_fields(string field, string[] expected) =>
        Assert.Equal(expected, CranDependencies.Parse(field).Select(d => $"{d.Name}|{d.Operator}|{d.Bound}"));

    [Theory]
    [InlineData("Rcpp (>= abc)")]
    [InlineData("Rcpp (~> 1.0)")]
    [InlineData("1bad")]
    public void Rejects_invalid_dependencies(string field) => Assert.Throws<FormatException>(() => CranDependencies.Parse(field));

    [Fact]
    public void Parses_an_archive_listing_and_ignores_other_links()
    {
        const string Html = """
            <html><body><pre><a href="../">Parent Directory</a>
            <a href="shalpha_1.0.tar.gz">shalpha_1.0.tar.gz</a>  2020-01-01 10:00  1.2K
            <a href="shalpha_1.0-3.tar.gz">shalpha_1.0-3.tar.gz</a>
            <a href="shalphabet_9.0.tar.gz">other package</a>
            <a href="https://elsewhere.example/shalpha_5.0.tar.gz">off-site</a>
            <a href="shalpha_1.1.zip">binary</a>
            </pre></body></html>
            """;
        var listing = CranIndexParser.ParseArchiveListing("shalpha", Encoding.UTF8.GetBytes(Html), "text/html");
        Assert.Equal(["1.0", "1.0-3"], listing.Versions);
        Assert.Equal(listing.Versions, CranIndexParser.DeserializeListing("shalpha", CranIndexParser.SerializeListing(listing)).Versions);
        Assert.Throws<UpstreamFormatException>(() => CranIndexParser.ParseArchiveListing("shalpha", "{}"u8.ToArray(), "application/json"));
    }

    [Theory]
    [InlineData("2024-03-01 10:20:30 UTC", "2024-03-01T10:20:30Z")]
    [InlineData("2012-10-29 08:59:12", "2012-10-29T08:59:12Z")]
    [InlineData("not a date", null)]
    public void Parses_publication_dates(string text, string? expected) =>
        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), CranDates.Parse(text));
}
