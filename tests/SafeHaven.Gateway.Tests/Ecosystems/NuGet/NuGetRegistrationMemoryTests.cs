using System.Text;
using SafeHaven.Gateway.Ecosystems.NuGet;
using SafeHaven.Gateway.Tests.Support;
using Xunit.Abstractions;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

/// <summary>
/// A NuGet registration page of 120 MiB (20,000 leaves with inline catalog entries, each carrying 6 KiB of a member the
/// mirror does not use, as long release notes or vulnerability lists make real ones long), built on disk at test time
/// and parsed from the file: the heap holds the parsed leaves, not the page.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class NuGetRegistrationMemoryTests(ITestOutputHelper output)
{
    private const int Leaves = 20_000;

    [Fact]
    public async Task A_registration_page_of_over_a_hundred_megabytes_is_parsed_as_a_stream_in_bounded_memory()
    {
        var path = Path.Combine(Path.GetTempPath(), "safehaven-bigregistration-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            await WritePageAsync(path);
            var pageBytes = new FileInfo(path).Length;
            Assert.True(pageBytes > 100L * 1024 * 1024, $"the page is only {pageBytes} bytes");
            var url = new Uri("https://upstream.example/v3/registration/big.package/page/0.json");

            var (page, cost) = await HeapMeasurement.MeasureAsync(() =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
                return NuGetUpstreamParser.ParseRegistrationPage(stream, url, "big.package");
            });

            Assert.Equal(Leaves - 1, page.Items.Count); // one leaf speaks for another package and is dropped
            Assert.Equal("1.0.19999", page.Items[^1].Version);
            Assert.Equal("https://upstream.example/v3/flatcontainer/big.package/1.0.0/big.package.1.0.0.nupkg", page.Items[0].PackageContent);
            output.WriteLine($"page {pageBytes / 1048576.0:0.0} MiB, {Leaves} leaves: {cost}");
            Assert.True(cost.PeakGrowth < pageBytes / 2, $"the managed heap grew by {cost.PeakGrowth} bytes parsing a page of {pageBytes} bytes");
            Assert.True(cost.Retained < pageBytes / 4, $"the parsed page holds {cost.Retained} bytes of a {pageBytes}-byte page");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task WritePageAsync(string path)
    {
        var padding = new string('v', 6 * 1024);
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteAsync("""{"@id":"https://upstream.example/v3/registration/big.package/page/0.json","count":20000,"items":[""");
        for (var i = 0; i < Leaves; i++)
        {
            if (i > 0)
            {
                await writer.WriteAsync(',');
            }
            var id = i == 1 ? "Other.Package" : "Big.Package";
            await writer.WriteAsync($$"""
                {"@id":"https://upstream.example/v3/registration/big.package/1.0.{{i}}.json","catalogEntry":{"@id":"https://upstream.example/v3/catalog0/data/1.0.{{i}}.json",
                "id":"{{id}}","version":"1.0.{{i}}","published":"2024-01-01T00:00:00+00:00","listed":true,"packageHash":"{{new string('A', 86)}}==","packageHashAlgorithm":"SHA512",
                "dependencyGroups":[{"targetFramework":"net8.0","dependencies":[{"id":"Some.Dependency","range":"[1.0.0, )"}]}],"description":"A package.",
                "releaseNotes":"{{padding}}"},"packageContent":"https://upstream.example/v3/flatcontainer/big.package/1.0.{{i}}/big.package.1.0.{{i}}.nupkg"}
                """);
        }
        await writer.WriteAsync("]}");
    }
}
