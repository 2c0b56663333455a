using System.Net;
using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Tests.Support;
using SafeHaven.Gateway.Upstreams;
using Xunit.Abstractions;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

/// <summary>
/// A PEP 691 project page of 120 MiB (20,000 files, each with a 6 KiB field the mirror does not use, as PEP 740's
/// provenance and other additions would make a real page long), built on disk at test time and parsed from the file
/// as the mirror parses an upstream page it spooled. Memory follows the files parsed, not the page: the managed heap
/// never grows by more than half the page's size (reading the page into memory, as before, took it twice over).
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class SimpleIndexParserMemoryTests(ITestOutputHelper output)
{
    private const int Files = 20_000;
    private const int PaddingBytes = 6 * 1024;

    [Fact]
    public async Task A_page_of_over_a_hundred_megabytes_is_parsed_as_a_stream_in_bounded_memory()
    {
        var path = Path.Combine(Path.GetTempPath(), "safehaven-bigpage-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            await WritePageAsync(path);
            var pageBytes = new FileInfo(path).Length;
            Assert.True(pageBytes > 100L * 1024 * 1024, $"the page is only {pageBytes} bytes");

            using var document = UpstreamDocument.Spooled(HttpStatusCode.OK,
                new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.DeleteOnClose),
                "application/vnd.pypi.simple.v1+json", null, new Uri("https://upstream.example/simple/bigproject/"));

            var (project, cost) = await HeapMeasurement.MeasureAsync(() => SimpleIndexParser.ParseProject(document, "bigproject"));

            Assert.Equal(Files, project.Files.Count);
            Assert.Equal("bigproject-1.19999-py3-none-any.whl", project.Files[^1].Filename);
            Assert.Equal(new string('a', 64), project.Files[0].Sha256);
            Assert.Equal("https://files.upstream.example/packages/bigproject-1.0-py3-none-any.whl", project.Files[0].Url);
            output.WriteLine($"page {pageBytes / 1048576.0:0.0} MiB, {Files} files: {cost}");
            Assert.True(cost.PeakGrowth < pageBytes / 2, $"the managed heap grew by {cost.PeakGrowth} bytes parsing a page of {pageBytes} bytes");
            Assert.True(cost.Retained < pageBytes / 4, $"the parsed page holds {cost.Retained} bytes of a {pageBytes}-byte page");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Writes the page one file entry at a time (the test itself never holds it either).</summary>
    private static async Task WritePageAsync(string path)
    {
        var padding = new string('p', PaddingBytes);
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteAsync("""{"meta":{"api-version":"1.1","_last-serial":1},"name":"bigproject","versions":[],"files":[""");
        for (var i = 0; i < Files; i++)
        {
            if (i > 0)
            {
                await writer.WriteAsync(',');
            }
            await writer.WriteAsync($$"""
                {"filename":"bigproject-1.{{i}}-py3-none-any.whl","url":"https://files.upstream.example/packages/bigproject-1.{{i}}-py3-none-any.whl",
                "hashes":{"sha256":"{{new string('a', 64)}}","blake2b_256":"{{new string('b', 64)}}"},"requires-python":">=3.8",
                "core-metadata":{"sha256":"{{new string('c', 64)}}"},"yanked":false,"size":12345,"upload-time":"2024-01-01T00:00:00.000000Z",
                "provenance":"https://upstream.example/integrity/{{padding}}"}
                """);
        }
        await writer.WriteAsync("]}");
    }
}
