using SafeHaven.WhitelistModel.Extractors;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Extractors;

public sealed class CranExtractorTests
{
    // The DESCRIPTION of a CRAN package as installed (fields and continuation lines as R writes them).
    private const string Description = """
    Package: abind
    Version: 1.4-5
    Date: 2016-06-19
    Title: Combine Multidimensional Arrays
    Authors@R: c(person("Tony", "Plate", email = "tplate@acm.org", role = c("aut", "cre")),
        person("Richard", "Heiberger", role = c("aut")))
    Maintainer: Tony Plate <tplate@acm.org>
    Description: Combine multidimensional arrays into a single array.
            This is a generalization of 'cbind' and 'rbind'.
    Depends: R (>= 1.5.0)
    Imports: methods, utils
    License: LGPL (>= 2)
    NeedsCompilation: no
    Author: Tony Plate [aut, cre], Richard Heiberger [aut]
    Repository: CRAN
    Date/Publication: 2016-07-21 19:18:05 UTC
    """;

    [Fact]
    public void Reads_a_description_file()
    {
        var r = CranExtractor.ExtractDescription(Description);
        Assert.Equal("abind", r.Name);
        Assert.Equal(Ecosystem.Cran, r.Ecosystem);
        Assert.Equal("1.4-5", r.LatestVersion);
        Assert.Equal("Combine Multidimensional Arrays", r.Summary);
        Assert.Contains("generalization", r.Description, StringComparison.Ordinal);
        Assert.Equal(2, r.DependencyCount); // methods, utils; R itself is not a package
        Assert.Equal(2, r.MaintainerCount);
        Assert.Equal("LGPL (>= 2)", r.License);
        Assert.Equal(new DateTimeOffset(2016, 7, 21, 19, 18, 5, TimeSpan.Zero), r.LatestRelease);
        Assert.False(r.HasSourceRepository);
    }

    [Fact]
    public void Reads_every_stanza_of_packages_and_leaves_missing_fields_unknown()
    {
        const string packages = """
        Package: A3
        Version: 1.0.0
        Depends: R (>= 2.15.0), xtable, pbapply
        Suggests: randomForest, e1071
        License: GPL (>= 2)
        MD5sum: 027ebdd8affce8f0effaecfcd5f5ade2
        NeedsCompilation: no

        Package: abc
        Version: 2.2.1
        Depends: R (>= 2.10), abc.data, nnet, quantreg, MASS, locfit
        License: GPL (>= 3)
        NeedsCompilation: no
        """;
        var records = CranExtractor.ExtractPackages(packages);
        Assert.Equal(["A3", "abc"], records.Select(r => r.Name));
        Assert.Equal(2, records[0].DependencyCount);
        Assert.Equal(5, records[1].DependencyCount);
        Assert.Null(records[0].Summary);
        Assert.Null(records[0].HasSourceRepository);
        Assert.Null(records[0].LatestRelease);
    }

    [Fact]
    public void Finds_a_source_repository_in_url_or_bug_reports()
    {
        var r = CranExtractor.ExtractDescription("Package: dplyr\nVersion: 1.1.4\nTitle: A Grammar of Data Manipulation\nURL: https://dplyr.tidyverse.org, https://github.com/tidyverse/dplyr\nBugReports: https://github.com/tidyverse/dplyr/issues\nImports: cli (>= 3.4.0), generics, glue (>= 1.3.2)\nLinkingTo: cpp11\n");
        Assert.Equal("https://github.com/tidyverse/dplyr", r.SourceRepository);
        Assert.Equal(4, r.DependencyCount);
    }
}

public sealed class NuGetRegistrationExtractorTests
{
    // A registration index with inlined pages, as RegistrationsBaseUrl/3.6.0 serves it (trimmed).
    private const string Index = """
    {
      "@id": "https://nuget.example/v3/registration5-gz-semver2/newtonsoft.json/index.json",
      "count": 1,
      "items": [ {
        "@id": "https://nuget.example/v3/registration5-gz-semver2/newtonsoft.json/index.json#page/3.5.8/13.0.3",
        "count": 3, "lower": "3.5.8", "upper": "13.0.3",
        "items": [
          { "@id": "...", "catalogEntry": { "@id": "...", "id": "Newtonsoft.Json", "version": "3.5.8", "authors": "James Newton-King",
              "description": "Json.NET is a popular high-performance JSON framework for .NET", "listed": true,
              "published": "2011-01-08T22:12:57.713+00:00", "projectUrl": "https://www.newtonsoft.com/json", "dependencyGroups": [] } },
          { "@id": "...", "catalogEntry": { "@id": "...", "id": "Newtonsoft.Json", "version": "13.0.2", "authors": "James Newton-King",
              "listed": false, "published": "1900-01-01T00:00:00+00:00", "description": "Json.NET" } },
          { "@id": "...", "catalogEntry": { "@id": "...", "id": "Newtonsoft.Json", "version": "13.0.3", "authors": "James Newton-King",
              "description": "Json.NET is a popular high-performance JSON framework for .NET", "listed": true,
              "licenseExpression": "MIT", "projectUrl": "https://www.newtonsoft.com/json",
              "published": "2023-03-08T07:42:54.647+00:00",
              "dependencyGroups": [ { "targetFramework": ".NETFramework2.0" },
                                    { "targetFramework": ".NETStandard1.0", "dependencies": [
                                        { "id": "Microsoft.CSharp", "range": "[4.3.0, )" }, { "id": "NETStandard.Library", "range": "[1.6.1, )" } ] } ],
              "vulnerabilities": [ { "advisoryUrl": "https://github.com/advisories/GHSA-5crp-9r3c-p9vr", "severity": "2" } ] } }
        ] } ]
    }
    """;

    [Fact]
    public void Reads_versions_dates_dependencies_and_advisories()
    {
        var r = NuGetRegistrationExtractor.Extract(Index);
        Assert.Equal("Newtonsoft.Json", r.Name);
        Assert.Equal(Ecosystem.NuGet, r.Ecosystem);
        Assert.Equal("13.0.3", r.LatestVersion);
        Assert.Equal(3, r.ReleaseCount);
        Assert.Null(r.Versions.Single(v => v.Version == "13.0.2").UploadedAt); // unlisted placeholder date is not a date
        Assert.True(r.Versions.Single(v => v.Version == "13.0.2").Yanked);
        Assert.Equal(2011, r.FirstRelease!.Value.Year);
        Assert.Equal(2, r.DependencyCount);
        Assert.Equal(1, r.KnownAdvisories);
        Assert.Equal("MIT", r.License);
        Assert.False(r.HasSourceRepository); // project URL is a web site, not a code host
        Assert.Equal(1, r.MaintainerCount);
    }

    [Fact]
    public void Pages_that_are_not_inlined_leave_counts_unknown()
    {
        const string json = """
        {"count":2,"items":[
          {"@id":"p1","count":64,"lower":"1.0.0","upper":"9.0.0"},
          {"@id":"p2","count":1,"lower":"10.0.0","upper":"10.0.0","items":[{"catalogEntry":{"id":"Big","version":"10.0.0","published":"2024-01-02T00:00:00Z"}}]}]}
        """;
        var r = NuGetRegistrationExtractor.Extract(json);
        Assert.Null(r.ReleaseCount);
        Assert.Null(r.FirstRelease);
        Assert.Equal("10.0.0", r.LatestVersion);
    }
}

public sealed class CondaRepodataExtractorTests
{
    private const string Repodata = """
    {
      "info": {"subdir": "noarch"},
      "packages": {
        "six-1.15.0-py_0.tar.bz2": {"build": "py_0", "build_number": 0, "depends": ["python"], "license": "MIT", "md5": "x", "name": "six", "sha256": "y", "size": 13905, "subdir": "noarch", "timestamp": 1590000000000, "version": "1.15.0"},
        "six-1.16.0-pyhd3eb1b0_1.tar.bz2": {"build": "pyhd3eb1b0_1", "build_number": 1, "depends": ["python >=3.6"], "license": "MIT", "name": "six", "subdir": "noarch", "timestamp": 1642000000000, "version": "1.16.0"}
      },
      "packages.conda": {
        "six-1.16.0-pyhd3eb1b0_0.conda": {"build": "pyhd3eb1b0_0", "depends": ["python >=3.6"], "license": "MIT", "name": "six", "subdir": "noarch", "timestamp": 1620000000000, "version": "1.16.0"},
        "tzdata-2024a-h04d1e81_0.conda": {"build": "h04d1e81_0", "depends": [], "license": "LicenseRef-Public-Domain", "name": "tzdata", "subdir": "noarch", "timestamp": 1707000000, "version": "2024a"}
      }
    }
    """;

    [Fact]
    public void Groups_builds_by_package_with_millisecond_and_second_timestamps()
    {
        var records = CondaRepodataExtractor.ExtractAll(Repodata);
        Assert.Equal(["six", "tzdata"], records.Select(r => r.Name));
        var six = records[0];
        Assert.Equal(Ecosystem.Conda, six.Ecosystem);
        Assert.Equal("1.16.0", six.LatestVersion);
        Assert.Equal(2, six.Versions.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1620000000000), six.Versions.Single(v => v.Version == "1.16.0").UploadedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1620000000000), six.LatestRelease); // first upload of the latest version
        Assert.Null(six.FirstRelease); // one subdir is not the whole history
        Assert.Null(six.ReleaseCount);
        Assert.Equal("MIT", six.License);
        Assert.Equal(1, six.DependencyCount);
        Assert.Null(six.Summary);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1707000000), records[1].LatestRelease);
    }
}

public sealed class AptPackagesExtractorTests
{
    private const string Packages = """
    Package: python3-requests
    Source: requests
    Version: 2.28.1+dfsg-1
    Installed-Size: 233
    Maintainer: Debian Python Team <python-team@lists.example.org>
    Architecture: all
    Depends: python3-certifi, python3-charset-normalizer, python3-idna, python3-urllib3 (>= 1.21.1), python3:any
    Suggests: python3-cryptography, python3-idna (>= 2.5), python3-openssl, python3-socks
    Description: elegant and simple HTTP library for Python3, built for human beings
     Requests allow you to send HTTP/1.1 requests.
     .
     This package contains the Python 3 version of the library.
    Homepage: https://github.com/psf/requests
    Section: python
    Priority: optional
    Filename: pool/main/r/requests/python3-requests_2.28.1+dfsg-1_all.deb
    Size: 67472

    Package: zlib1g
    Version: 1:1.2.13.dfsg-1
    Maintainer: Mark Brown <broonie@example.org>
    Pre-Depends: libc6 (>= 2.14)
    Description: compression library - runtime
    Homepage: http://zlib.net/
    """;

    [Fact]
    public void Reads_summary_dependencies_and_homepage()
    {
        var records = AptPackagesExtractor.ExtractAll(Packages);
        var requests = records.Single(r => r.Name == "python3-requests");
        Assert.Equal(Ecosystem.Apt, requests.Ecosystem);
        Assert.Equal("2.28.1+dfsg-1", requests.LatestVersion);
        Assert.Equal("elegant and simple HTTP library for Python3, built for human beings", requests.Summary);
        Assert.Contains("Python 3 version", requests.Description, StringComparison.Ordinal);
        Assert.Equal(5, requests.DependencyCount);
        Assert.True(requests.HasSourceRepository);
        Assert.Null(requests.LatestRelease); // Packages carries no dates
        var zlib = records.Single(r => r.Name == "zlib1g");
        Assert.Equal(1, zlib.DependencyCount);
        Assert.False(zlib.HasSourceRepository);
        Assert.Equal(1, zlib.MaintainerCount);
    }

    [Fact]
    public void Uses_first_seen_dates_when_the_mirror_supplies_them()
    {
        var seen = new Dictionary<string, DateTimeOffset> { ["zlib1g=1:1.2.13.dfsg-1"] = new(2023, 1, 5, 0, 0, 0, TimeSpan.Zero) };
        var zlib = AptPackagesExtractor.ExtractAll(Packages, firstSeen: seen).Single(r => r.Name == "zlib1g");
        Assert.Equal(new DateTimeOffset(2023, 1, 5, 0, 0, 0, TimeSpan.Zero), zlib.LatestRelease);
    }
}
