using System.Text;
using System.Text.Json;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda.Repodata;

public sealed class RepodataReaderTests
{
    private static CondaRepodata Read(string json) => RepodataReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), CancellationToken.None);

    [Fact]
    public void Fields_places_and_sections_are_read_and_each_record_can_be_read_back_from_its_place()
    {
        var sha = new string('A', 64);
        var json = $$$"""
            {"info": {"subdir": "linux-64", "base_url": "../files/", "platform": "linux"},
             "signatures": {"x": {"y": [1, 2, {"z": "packages"}]}},
             "packages": {
               "a-1.0-0.tar.bz2": {"name": "a", "version": "1.0", "build": "0", "build_number": 3, "sha256": "{{{sha}}}", "size": 10,
                                   "timestamp": 1556000000, "depends": ["b >=1", "__glibc >=2.17"], "constrains": ["c <2"], "nested": {"name": "not-a"}},
               "bad-1.0-0.tar.bz2": {"version": "1.0", "build": "0"},
               "c-2.0-0.tar.bz2": null
             },
             "packages.conda": {"b-1.0-0.conda": {"name": "b", "version": "1.0", "build": "0", "sha256": "nothex", "timestamp": 1700000000000.0}},
             "removed": ["old-1.0-0.tar.bz2"],
             "repodata_version": 2}
            """;
        var repodata = Read(json);

        Assert.Equal("linux-64", repodata.Subdir);
        Assert.Equal("../files/", repodata.BaseUrl);
        Assert.Equal(2, repodata.RepodataVersion);
        Assert.Equal(["old-1.0-0.tar.bz2"], repodata.Removed);
        Assert.Equal(2, repodata.Unreadable);
        Assert.Equal(2, repodata.Records.Count);
        var a = repodata.Records[0];
        Assert.Equal(("a-1.0-0.tar.bz2", "a", "1.0", "0", 3, 10L, false), (a.Filename, a.Name, a.Version, a.Build, a.BuildNumber, a.Size!.Value, a.IsConda));
        Assert.Equal(sha.ToLowerInvariant(), a.Sha256);
        Assert.Equal(1556000000000, a.UploadedMs); // seconds read as seconds
        var b = repodata.Records[1];
        Assert.True(b.IsConda);
        Assert.Null(b.Sha256); // not 64 hex digits: treated as absent
        Assert.Equal(1700000000000, b.UploadedMs);

        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, json);
            using var file = File.OpenHandle(path);
            var dependencies = RepodataReader.ReadDependencies(file, a);
            Assert.Equal(["b >=1", "__glibc >=2.17"], dependencies.Depends);
            Assert.Equal(["c <2"], dependencies.Constrains);
            using var record = RepodataReader.ReadRecord(file, b);
            Assert.Equal("b", record.RootElement.GetProperty("name").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Records_crossing_buffer_refills_and_long_tokens_are_read_whole()
    {
        var builder = new StringBuilder("{\"packages\":{");
        const int count = 3000;
        for (var i = 0; i < count; i++)
        {
            // Every 500th record carries a 200 KB field: a token far longer than the reader's first buffer.
            var padding = i % 500 == 0 ? new string('x', 200_000) : "";
            builder.Append(i == 0 ? "" : ",").Append($$"""
                "p{{i}}-1.{{i}}-0.tar.bz2":{"name":"p{{i}}","version":"1.{{i}}","build":"0","sha256":"{{i:x64}}","pad":"{{padding}}","depends":["q >={{i}}"]}
                """);
        }
        builder.Append("}}");
        var json = builder.ToString();
        var repodata = Read(json);

        Assert.Equal(count, repodata.Records.Count);
        var bytes = Encoding.UTF8.GetBytes(json);
        foreach (var record in repodata.Records)
        {
            using var document = JsonDocument.Parse(bytes.AsMemory((int)record.Offset, record.Length));
            Assert.Equal(record.Name, document.RootElement.GetProperty("name").GetString());
        }
        Assert.Equal($"{2999:x64}", repodata.Records[^1].Sha256);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"packages\": {\"a\": {\"name\": \"a\"")]
    [InlineData("not json")]
    [InlineData("")]
    public void What_is_not_a_repodata_object_is_refused(string json) =>
        Assert.Throws<InvalidDataException>(() => Read(json));

    [Theory]
    [InlineData(1556000000L, 1556000000000L)] // seconds (old records)
    [InlineData(1700000000000L, 1700000000000L)] // milliseconds
    [InlineData(253402300798L, 253402300798000L)] // the last second value
    [InlineData(253402300799L, 253402300799L)] // from here on, milliseconds
    [InlineData(0L, null)]
    public void Timestamps_below_the_bound_are_seconds(long timestamp, long? expected) =>
        Assert.Equal(expected, new CondaRecord { Filename = "f", Name = "n", Version = "1", Build = "0", Timestamp = timestamp }.UploadedMs);
}
