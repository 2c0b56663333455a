using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class CoreMetadataReaderTests
{
    /// <summary>The METADATA of requests 2.31.0 as setuptools wrote it (description shortened).</summary>
    private const string RequestsMetadata = """
        Metadata-Version: 2.1
        Name: requests
        Version: 2.31.0
        Summary: Python HTTP for Humans.
        Home-page: https://requests.readthedocs.io
        Author: Kenneth Reitz
        Author-email: me@kennethreitz.org
        License: Apache 2.0
        Project-URL: Documentation, https://requests.readthedocs.io
        Project-URL: Source, https://github.com/psf/requests
        Classifier: Development Status :: 5 - Production/Stable
        Classifier: License :: OSI Approved :: Apache Software License
        Requires-Python: >=3.7
        Description-Content-Type: text/markdown
        License-File: LICENSE
        Requires-Dist: charset-normalizer (<4,>=2)
        Requires-Dist: idna (<4,>=2.5)
        Requires-Dist: urllib3 (<3,>=1.21.1)
        Requires-Dist: certifi (>=2017.4.17)
        Provides-Extra: security
        Provides-Extra: socks
        Requires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'
        Provides-Extra: use_chardet_on_py3
        Requires-Dist: chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'

        # Requests

        **Requests** is a simple, yet elegant, HTTP library.

        Requires-Dist: not-a-header-this-is-the-description
        """;

    private static readonly string[] RequestsRequirements =
    [
        "charset-normalizer (<4,>=2)",
        "idna (<4,>=2.5)",
        "urllib3 (<3,>=1.21.1)",
        "certifi (>=2017.4.17)",
        "PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'",
        "chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'",
    ];

    /// <summary>PKG-INFO of an sdist built by a PEP 643-aware backend (metadata 2.2+, with Dynamic).</summary>
    private static string PkgInfo(string metadataVersion, params string[] dynamic) =>
        $"Metadata-Version: {metadataVersion}\nName: tinyproj\nVersion: 0.1.0\n"
        + string.Concat(dynamic.Select(d => $"Dynamic: {d}\n"))
        + "Requires-Dist: numpy>=1.22\nRequires-Dist: pywin32>=306; sys_platform == \"win32\"\n\nA tiny project.\n";

    [Fact]
    public void ParsesTheHeaders()
    {
        var metadata = CoreMetadataReader.Parse(RequestsMetadata);

        Assert.Equal("requests", metadata.Name);
        Assert.Equal("2.31.0", metadata.Version);
        Assert.Equal("2.1", metadata.MetadataVersion);
        Assert.Equal(RequestsRequirements, metadata.RequiresDist);
        Assert.Empty(metadata.Dynamic);
    }

    [Fact]
    public void StopsAtTheBody()
    {
        var metadata = CoreMetadataReader.Parse(RequestsMetadata);

        Assert.DoesNotContain(metadata.RequiresDist, r => r.Contains("not-a-header", StringComparison.Ordinal));
    }

    [Fact]
    public void CrLfLineEndings()
    {
        var metadata = CoreMetadataReader.Parse(RequestsMetadata.ReplaceLineEndings("\r\n"));

        Assert.Equal(RequestsRequirements, metadata.RequiresDist);
        Assert.Equal("2.31.0", metadata.Version);
    }

    [Fact]
    public void ContinuationLinesAreFolded()
    {
        const string text = "Metadata-Version: 2.1\n"
            + "Name: folded\n"
            + "Version: 1.0\n"
            + "License: Copyright (c) 2024 Someone\n"
            + "        All rights reserved.\n"
            + "Requires-Dist: pywin32>=306;\n"
            + "\tsys_platform == \"win32\"\n"
            + "Requires-Dist: numpy\n"
            + "\n"
            + "body\n";

        var metadata = CoreMetadataReader.Parse(text);

        Assert.Equal(["pywin32>=306; sys_platform == \"win32\"", "numpy"], metadata.RequiresDist);
    }

    [Fact]
    public void HeaderNamesAreCaseInsensitive()
    {
        var metadata = CoreMetadataReader.Parse("metadata-version: 2.3\nNAME: x\nversion: 1\nrequires-dist: a\nREQUIRES-DIST: b\ndynamic: Requires-Dist\n");

        Assert.Equal("2.3", metadata.MetadataVersion);
        Assert.Equal("x", metadata.Name);
        Assert.Equal(["a", "b"], metadata.RequiresDist);
        Assert.Equal(["Requires-Dist"], metadata.Dynamic);
    }

    [Fact]
    public void ValuesMayContainColons()
    {
        var metadata = CoreMetadataReader.Parse("Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: pkg @ https://example.org/pkg-1.0.whl\n");

        Assert.Equal(["pkg @ https://example.org/pkg-1.0.whl"], metadata.RequiresDist);
    }

    [Fact]
    public void EmptyOrHeaderlessTextGivesNothing()
    {
        var empty = CoreMetadataReader.Parse("");
        var prose = CoreMetadataReader.Parse("just some words\nno headers here\n");

        Assert.Null(empty.Name);
        Assert.Empty(empty.RequiresDist);
        Assert.Null(prose.Version);
        Assert.Empty(prose.RequiresDist);
    }

    // PEP 643: sdist metadata is reliable only from metadata 2.2, and only for fields not listed as Dynamic.
    [Theory]
    [InlineData("2.1", new string[0], false)]
    [InlineData("1.2", new string[0], false)]
    [InlineData("2.2", new string[0], true)]
    [InlineData("2.3", new string[0], true)]
    [InlineData("2.4", new[] { "License-Expression" }, true)]
    [InlineData("2.10", new string[0], true)]
    [InlineData("2.2", new[] { "Requires-Dist" }, false)]
    [InlineData("2.4", new[] { "Summary", "requires-dist" }, false)]
    [InlineData("garbage", new string[0], false)]
    public void SdistDependenciesAreStaticOnlyUnderPep643(string metadataVersion, string[] dynamic, bool expected)
    {
        var metadata = CoreMetadataReader.Parse(PkgInfo(metadataVersion, dynamic));

        Assert.Equal(expected, metadata.DependenciesAreStatic(fromSdist: true));
        // A wheel's metadata is always what gets installed.
        Assert.True(metadata.DependenciesAreStatic(fromSdist: false));
    }

    [Fact]
    public void NoMetadataVersionIsNotStaticForAnSdist()
    {
        var metadata = CoreMetadataReader.Parse("Name: x\nVersion: 1\nRequires-Dist: a\n");

        Assert.False(metadata.DependenciesAreStatic(fromSdist: true));
        Assert.True(metadata.DependenciesAreStatic(fromSdist: false));
    }

    [Fact]
    public async Task ReadsMetadataFromAWheel()
    {
        using var wheel = BuildZip(
            ("requests/__init__.py", "# requests\n"),
            ("requests/METADATA", "Name: decoy\n"),                        // not in a .dist-info folder
            ("requests-2.31.0.dist-info/LICENSE", "Apache 2.0"),
            ("requests-2.31.0.dist-info/METADATA", RequestsMetadata),
            ("requests-2.31.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.40.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
            ("requests-2.31.0.dist-info/RECORD", ""));

        var metadata = await CoreMetadataReader.ReadFromWheelAsync(wheel, CancellationToken.None);

        Assert.NotNull(metadata);
        Assert.Equal("requests", metadata.Name);
        Assert.Equal(RequestsRequirements, metadata.RequiresDist);
    }

    [Fact]
    public async Task AWheelWithoutDistInfoMetadataGivesNull()
    {
        using var wheel = BuildZip(
            ("requests/__init__.py", ""),
            ("vendored/x-1.0.dist-info/METADATA", "Name: nested\n"));      // nested: not the wheel's own

        Assert.Null(await CoreMetadataReader.ReadFromWheelAsync(wheel, CancellationToken.None));
    }

    [Fact]
    public async Task ANonZipWheelThrows()
    {
        using var notAZip = new MemoryStream(Encoding.UTF8.GetBytes("<html>503 Service Unavailable</html>"));

        await Assert.ThrowsAnyAsync<InvalidDataException>(() => CoreMetadataReader.ReadFromWheelAsync(notAZip, CancellationToken.None));
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax, "tinyproj-0.1.0/")]
    [InlineData(TarEntryFormat.Gnu, "tinyproj-0.1.0/")]
    [InlineData(TarEntryFormat.Ustar, "tinyproj-0.1.0/")]
    [InlineData(TarEntryFormat.Pax, "./tinyproj-0.1.0/")]
    public async Task ReadsPkgInfoFromATarGzSdist(TarEntryFormat format, string prefix)
    {
        using var sdist = BuildTarGz(format,
            (prefix + "src/tinyproj.egg-info/PKG-INFO", "Metadata-Version: 2.1\nName: decoy\nVersion: 9\n"),
            (prefix + "pyproject.toml", "[project]\nname = \"tinyproj\"\n"),
            (prefix + "PKG-INFO", PkgInfo("2.2")),
            (prefix + "setup.cfg", ""));

        var metadata = await CoreMetadataReader.ReadFromSdistAsync(sdist, "tinyproj-0.1.0.tar.gz", CancellationToken.None);

        Assert.NotNull(metadata);
        Assert.Equal("tinyproj", metadata.Name);
        Assert.Equal("2.2", metadata.MetadataVersion);
        Assert.Equal(["numpy>=1.22", "pywin32>=306; sys_platform == \"win32\""], metadata.RequiresDist);
        Assert.True(metadata.DependenciesAreStatic(fromSdist: true));
    }

    [Fact]
    public async Task ATgzSdistIsReadToo()
    {
        using var sdist = BuildTarGz(TarEntryFormat.Pax, ("tinyproj-0.1.0/PKG-INFO", PkgInfo("2.1")));

        var metadata = await CoreMetadataReader.ReadFromSdistAsync(sdist, "tinyproj-0.1.0.tgz", CancellationToken.None);

        Assert.NotNull(metadata);
        Assert.False(metadata.DependenciesAreStatic(fromSdist: true));
    }

    [Fact]
    public async Task ReadsPkgInfoFromAZipSdist()
    {
        using var sdist = BuildZip(
            ("tinyproj-0.1.0/tinyproj.egg-info/PKG-INFO", "Name: decoy\n"),
            ("tinyproj-0.1.0/PKG-INFO", PkgInfo("2.2", "Requires-Dist")));

        var metadata = await CoreMetadataReader.ReadFromSdistAsync(sdist, "tinyproj-0.1.0.zip", CancellationToken.None);

        Assert.NotNull(metadata);
        Assert.Equal("tinyproj", metadata.Name);
        Assert.False(metadata.DependenciesAreStatic(fromSdist: true));
    }

    [Fact]
    public async Task AnSdistWithoutTopLevelPkgInfoGivesNull()
    {
        using var tar = BuildTarGz(TarEntryFormat.Pax,
            ("PKG-INFO", PkgInfo("2.2")),                                    // not inside the project folder
            ("tinyproj-0.1.0/tinyproj.egg-info/PKG-INFO", PkgInfo("2.2")));
        using var zip = BuildZip(("tinyproj-0.1.0/setup.py", ""));

        Assert.Null(await CoreMetadataReader.ReadFromSdistAsync(tar, "tinyproj-0.1.0.tar.gz", CancellationToken.None));
        Assert.Null(await CoreMetadataReader.ReadFromSdistAsync(zip, "tinyproj-0.1.0.zip", CancellationToken.None));
    }

    [Fact]
    public async Task ASymlinkNamedPkgInfoIsNotFollowed()
    {
        var buffer = new MemoryStream();
        await using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "tinyproj-0.1.0/PKG-INFO") { LinkName = "/etc/passwd" });
        }
        buffer.Position = 0;

        Assert.Null(await CoreMetadataReader.ReadFromSdistAsync(buffer, "tinyproj-0.1.0.tar.gz", CancellationToken.None));
    }

    [Theory]
    [InlineData("tinyproj-0.1.0.tar.bz2")]
    [InlineData("tinyproj-0.1.0.tar.xz")]
    [InlineData("tinyproj-0.1.0-py3-none-any.whl")]
    public async Task OtherArchiveKindsGiveNull(string filename)
    {
        using var sdist = BuildTarGz(TarEntryFormat.Pax, ("tinyproj-0.1.0/PKG-INFO", PkgInfo("2.2")));

        Assert.Null(await CoreMetadataReader.ReadFromSdistAsync(sdist, filename, CancellationToken.None));
    }

    [Fact]
    public async Task OversizedMetadataIsRefused()
    {
        var huge = "Metadata-Version: 2.1\nName: bomb\nVersion: 1\nSummary: " + new string('x', CoreMetadataReader.MaximumBytes) + "\n";
        using var wheel = BuildZip(("bomb-1.dist-info/METADATA", huge));

        await Assert.ThrowsAsync<InvalidDataException>(() => CoreMetadataReader.ReadFromWheelAsync(wheel, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsyncParsesAStream()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(RequestsMetadata));

        var metadata = await CoreMetadataReader.ReadAsync(stream, CancellationToken.None);

        Assert.Equal(RequestsRequirements, metadata.RequiresDist);
    }

    private static MemoryStream BuildZip(params (string Path, string Content)[] entries)
    {
        var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in entries)
            {
                using var stream = archive.CreateEntry(path).Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }
        buffer.Position = 0;
        return buffer;
    }

    private static MemoryStream BuildTarGz(TarEntryFormat format, params (string Path, string Content)[] entries)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, format))
        {
            foreach (var (path, content) in entries)
            {
                TarEntry entry = format switch
                {
                    TarEntryFormat.Pax => new PaxTarEntry(TarEntryType.RegularFile, path),
                    TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.RegularFile, path),
                    _ => new UstarTarEntry(TarEntryType.RegularFile, path),
                };
                entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
                writer.WriteEntry(entry);
            }
        }
        buffer.Position = 0;
        return buffer;
    }
}
