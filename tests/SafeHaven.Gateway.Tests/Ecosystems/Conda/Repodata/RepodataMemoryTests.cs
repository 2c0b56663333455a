using System.Diagnostics;
using System.Text;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Tests.Support;
using Xunit.Abstractions;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda.Repodata;

/// <summary>
/// A generated <c>repodata.json</c> of 200,000 records (conda-forge's <c>linux-64</c> has several hundred thousand; each
/// record here carries the fields real ones do: depends, constrains, license, md5, sha256, size, timestamp), written to
/// disk at test time, read as the mirror reads an upstream index and rendered as it publishes one. The managed heap
/// holds the compact records, never the file: its peak growth stays well under the file's size.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class RepodataMemoryTests(ITestOutputHelper output)
{
    private const int Records = 200_000;

    [Fact]
    public async Task A_200k_record_index_is_read_and_rendered_in_bounded_memory()
    {
        var path = Path.Combine(Path.GetTempPath(), "safehaven-repodata-" + Guid.NewGuid().ToString("N") + ".json");
        var rendered = path + ".out";
        try
        {
            await WriteAsync(path);
            var bytes = new FileInfo(path).Length;

            var clock = Stopwatch.StartNew();
            var (repodata, readCost) = await HeapMeasurement.MeasureAsync(() =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
                return RepodataReader.Read(stream, CancellationToken.None);
            });
            var readTime = clock.Elapsed;
            Assert.Equal(Records, repodata.Records.Count);
            output.WriteLine($"repodata.json {bytes / 1048576.0:0.0} MiB, {Records} records: read in {readTime.TotalSeconds:0.0} s, {readCost}");
            Assert.True(readCost.PeakGrowth < bytes / 2, $"reading grew the heap by {readCost.PeakGrowth} bytes for a {bytes}-byte file");
            // What stays is the compact records (about 200 bytes each here), whatever each record's JSON holds.
            Assert.True(readCost.Retained < 256L * Records, $"the records hold {readCost.Retained / Records} bytes each");

            clock.Restart();
            var (_, renderCost) = await HeapMeasurement.MeasureAsync(() =>
            {
                using var file = File.OpenHandle(path);
                using var outputStream = File.Create(rendered);
                RepodataWriter.WriteAsync(outputStream, "linux-64", file, repodata.Records, repodata.Removed, CancellationToken.None).GetAwaiter().GetResult();
                return outputStream.Length;
            });
            output.WriteLine($"rendered {new FileInfo(rendered).Length / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.0} s: {renderCost}");
            Assert.True(renderCost.PeakGrowth < 64L * 1024 * 1024, $"rendering grew the heap by {renderCost.PeakGrowth} bytes");
            Assert.True(new FileInfo(rendered).Length > bytes / 2);
            GC.KeepAlive(repodata);
        }
        finally
        {
            File.Delete(path);
            File.Delete(rendered);
        }
    }

    private static async Task WriteAsync(string path)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
        await writer.WriteAsync("{\"info\":{\"subdir\":\"linux-64\"},\"packages\":{");
        for (var i = 0; i < Records; i++)
        {
            if (i == Records / 2)
            {
                await writer.WriteAsync("},\"packages.conda\":{");
            }
            else if (i > 0)
            {
                await writer.WriteAsync(',');
            }
            var name = "pkg" + (i % 20_000);
            var version = $"{i % 7}.{i % 13}.{i / 20_000}";
            var build = $"py312h{i:x8}_{i % 3}";
            var extension = i < Records / 2 ? ".tar.bz2" : ".conda";
            await writer.WriteAsync($$"""
                "{{name}}-{{version}}-{{build}}{{extension}}":{"build":"{{build}}","build_number":{{i % 3}},"constrains":["pkg{{(i + 1) % 20_000}} >=1.0"],"depends":["libgcc >=13","libstdcxx >=13","python >=3.12,<3.13.0a0","python_abi 3.12.* *_cp312","pkg{{(i + 7) % 20_000}} >=0.{{i % 5}}","__glibc >=2.17,<3.0.a0"],"license":"BSD-3-Clause","license_family":"BSD","md5":"{{i:x32}}","name":"{{name}}","sha256":"{{i:x64}}","size":{{1000 + i}},"subdir":"linux-64","timestamp":{{1700000000000L + i}},"version":"{{version}}"}
                """);
        }
        await writer.WriteAsync("},\"removed\":[],\"repodata_version\":1}");
    }
}
