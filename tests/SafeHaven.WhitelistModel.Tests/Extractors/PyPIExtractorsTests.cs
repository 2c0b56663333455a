using SafeHaven.WhitelistModel.Extractors;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Extractors;

public sealed class PyPIJsonExtractorTests
{
    // Trimmed from the real PyPI JSON API document of "six" (same keys and nesting).
    private const string SixJson = """
    {
      "info": {
        "author": "Benjamin Peterson",
        "author_email": "benjamin@python.org",
        "classifiers": ["Programming Language :: Python :: 3"],
        "description": "Six is a Python 2 and 3 compatibility library.",
        "download_url": "",
        "home_page": "https://github.com/benjaminp/six",
        "license": "MIT",
        "maintainer": "",
        "maintainer_email": "",
        "name": "six",
        "project_urls": { "Homepage": "https://github.com/benjaminp/six" },
        "requires_dist": null,
        "requires_python": ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*",
        "summary": "Python 2 and 3 compatibility utilities",
        "version": "1.16.0",
        "yanked": false
      },
      "last_serial": 1,
      "releases": {
        "0.9.0": [ { "filename": "six-0.9.0.tar.gz", "upload_time": "2010-06-28T04:41:29", "upload_time_iso_8601": "2010-06-28T04:41:29.567012Z", "yanked": false } ],
        "1.15.0": [ { "filename": "six-1.15.0-py2.py3-none-any.whl", "upload_time_iso_8601": "2020-05-21T07:08:53.117462Z", "yanked": false },
                    { "filename": "six-1.15.0.tar.gz", "upload_time_iso_8601": "2020-05-21T07:08:50.112016Z", "yanked": false } ],
        "1.16.0": [ { "filename": "six-1.16.0-py2.py3-none-any.whl", "upload_time_iso_8601": "2021-05-05T14:18:17.406000Z", "yanked": false } ]
      },
      "urls": [],
      "vulnerabilities": []
    }
    """;

    [Fact]
    public void Reads_name_versions_dates_links_and_licence()
    {
        var r = PyPIJsonExtractor.Extract(SixJson);

        Assert.Equal("six", r.Name);
        Assert.Equal(Ecosystem.PyPI, r.Ecosystem);
        Assert.Equal("1.16.0", r.LatestVersion);
        Assert.Equal(3, r.ReleaseCount);
        Assert.Equal(new DateTime(2010, 6, 28, 4, 41, 29), TruncateToSecond(r.FirstRelease!.Value));
        Assert.Equal(2021, r.LatestRelease!.Value.Year);
        Assert.Equal(new DateTime(2020, 5, 21, 7, 8, 50), TruncateToSecond(r.Versions.Single(v => v.Version == "1.15.0").UploadedAt!.Value));
        Assert.True(r.HasSourceRepository);
        Assert.Equal("https://github.com/benjaminp/six", r.SourceRepository);
        Assert.Equal("MIT", r.License);
        Assert.Equal("Python 2 and 3 compatibility utilities", r.Summary);
        Assert.Equal(1, r.MaintainerCount);
        Assert.Equal(0, r.KnownAdvisories);
        Assert.Null(r.DependencyCount); // requires_dist null: unknown, not zero
        Assert.False(r.PopularityKnown);
    }

    private static DateTime TruncateToSecond(DateTimeOffset d) =>
        new(d.UtcDateTime.Year, d.UtcDateTime.Month, d.UtcDateTime.Day, d.UtcDateTime.Hour, d.UtcDateTime.Minute, d.UtcDateTime.Second);

    [Fact]
    public void Counts_dependencies_without_extras_and_advisories()
    {
        var json = """
        {"info":{"name":"requests","version":"2.31.0","summary":"Python HTTP for Humans.","project_urls":{"Source":"https://github.com/psf/requests","Documentation":"https://requests.readthedocs.io"},
          "requires_dist":["charset-normalizer (<4,>=2)","idna (<4,>=2.5)","urllib3 (<3,>=1.21.1)","certifi (>=2017.4.17)","PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'"],
          "license":"Apache 2.0","author":"Kenneth Reitz","author_email":"me@kennethreitz.org"},
         "releases":{"2.31.0":[{"filename":"requests-2.31.0.tar.gz","upload_time_iso_8601":"2023-05-22T15:12:44Z"}]},
         "vulnerabilities":[{"id":"GHSA-9wx4-h78v-vm56","aliases":["CVE-2024-35195"]}]}
        """;
        var r = PyPIJsonExtractor.Extract(json);
        Assert.Equal(4, r.DependencyCount);
        Assert.Equal(1, r.KnownAdvisories);
        Assert.Equal("https://github.com/psf/requests", r.SourceRepository);
    }

    [Fact]
    public void Rejects_a_document_without_info_name()
    {
        Assert.Throws<FormatException>(() => PyPIJsonExtractor.Extract("{\"releases\":{}}"));
        Assert.Throws<FormatException>(() => PyPIJsonExtractor.Extract("not json"));
    }
}

public sealed class PyPISimpleExtractorTests
{
    // PEP 691 JSON project page as served by PyPI (API 1.1, PEP 700 upload-time).
    private const string Page = """
    {
      "meta": {"api-version": "1.1", "_last-serial": 20000000},
      "name": "attrs",
      "versions": ["23.1.0", "23.2.0", "24.1.0"],
      "files": [
        {"filename": "attrs-23.1.0-py3-none-any.whl", "url": "https://files.example/attrs-23.1.0-py3-none-any.whl", "hashes": {"sha256": "aa"}, "requires-python": ">=3.7", "core-metadata": {"sha256": "bb"}, "size": 61160, "upload-time": "2023-04-16T10:06:31.000000Z", "yanked": false},
        {"filename": "attrs-23.1.0.tar.gz", "url": "https://files.example/attrs-23.1.0.tar.gz", "hashes": {"sha256": "cc"}, "size": 616922, "upload-time": "2023-04-16T10:06:29.000000Z", "yanked": false},
        {"filename": "attrs-23.2.0.tar.gz", "url": "https://files.example/attrs-23.2.0.tar.gz", "hashes": {"sha256": "dd"}, "size": 780820, "upload-time": "2023-12-31T06:30:32.000000Z", "yanked": "broken metadata"},
        {"filename": "attrs-24.1.0-py3-none-any.whl", "url": "https://files.example/attrs-24.1.0-py3-none-any.whl", "hashes": {"sha256": "ee"}, "size": 63061, "upload-time": "2024-08-03T08:07:20.000000Z", "yanked": false}
      ]
    }
    """;

    [Fact]
    public void Reads_versions_with_earliest_upload_time_per_version()
    {
        var r = PyPISimpleExtractor.Extract(Page);
        Assert.Equal("attrs", r.Name);
        Assert.Equal(3, r.ReleaseCount);
        Assert.Equal("24.1.0", r.LatestVersion);
        Assert.Equal(new DateTimeOffset(2023, 4, 16, 10, 6, 29, TimeSpan.Zero), r.FirstRelease);
        Assert.Equal(new DateTimeOffset(2024, 8, 3, 8, 7, 20, TimeSpan.Zero), r.LatestRelease);
        Assert.True(r.Versions.Single(v => v.Version == "23.2.0").Yanked);
        Assert.Null(r.Summary); // the simple API has no summary: unknown
        Assert.Null(r.HasSourceRepository);
    }

    [Theory]
    [InlineData("python_dateutil-2.9.0.post0-py2.py3-none-any.whl", "python-dateutil", "2.9.0.post0")]
    [InlineData("python-dateutil-2.8.2.tar.gz", "python-dateutil", "2.8.2")]
    [InlineData("zope.interface-6.0.zip", "zope-interface", "6.0")]
    [InlineData("setuptools-0.6c11-py2.7.egg", "setuptools", "0.6c11")]
    [InlineData("README.txt", "x", null)]
    public void Reads_the_version_from_a_distribution_filename(string filename, string project, string? expected) =>
        Assert.Equal(expected, PyPISimpleExtractor.VersionFromFilename(filename, project));
}

public sealed class PyPICoreMetadataParserTests
{
    // A real-shaped METADATA file (Metadata-Version 2.1, as in the wheel of "packaging").
    private const string Metadata = "Metadata-Version: 2.1\r\nName: packaging\r\nVersion: 24.1\r\nSummary: Core utilities for Python packages\r\nAuthor-email: Donald Stufft <donald@stufft.io>\r\nRequires-Python: >=3.8\r\nDescription-Content-Type: text/x-rst\r\nClassifier: License :: OSI Approved :: Apache Software License\r\nProject-URL: Documentation, https://packaging.pypa.io/\r\nProject-URL: Source, https://github.com/pypa/packaging\r\nRequires-Dist: pytest ; extra == \"test\"\r\n\r\npackaging\r\n=========\r\n\r\nReusable core utilities.\r\n";

    [Fact]
    public void Reads_headers_links_and_description()
    {
        var r = PyPICoreMetadataParser.Extract(Metadata);
        Assert.Equal("packaging", r.Name);
        Assert.Equal("24.1", r.LatestVersion);
        Assert.Equal("Core utilities for Python packages", r.Summary);
        Assert.Equal("https://github.com/pypa/packaging", r.SourceRepository);
        Assert.Equal(0, r.DependencyCount);
        Assert.Equal(1, r.MaintainerCount);
        Assert.StartsWith("packaging", r.Description, StringComparison.Ordinal);
        Assert.Null(r.License);
        Assert.Null(r.ReleaseCount);
    }

    [Fact]
    public void A_missing_summary_is_known_to_be_empty_and_no_link_means_no_source()
    {
        var r = PyPICoreMetadataParser.Extract("Metadata-Version: 2.1\nName: reqeusts\nVersion: 1.0.0\nHome-page: https://example.org\nRequires-Dist: requests\n");
        Assert.Equal(string.Empty, r.Summary);
        Assert.False(r.HasSourceRepository);
        Assert.Equal(1, r.DependencyCount);
        Assert.Null(r.MaintainerCount);
    }
}
