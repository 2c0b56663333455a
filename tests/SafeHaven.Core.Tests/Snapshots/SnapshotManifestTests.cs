using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.Core.Tests.Snapshots;

public sealed class SnapshotManifestTests
{
    private static readonly string DigestA = new('a', 64);
    private static readonly string DigestB = new('b', 64);

    private static SnapshotManifest Sample(params SnapshotEntry[] entries) => new(
        1, "pypi", new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.Zero), 3, null, "sync", entries);

    [Fact]
    public void Canonical_json_orders_entries_and_is_the_id()
    {
        var html = new SnapshotEntry("simple/", "text/html", DigestA, 10, SnapshotEntryKind.Document);
        var json = new SnapshotEntry("simple/", "application/vnd.pypi.simple.v1+json", DigestB, 12, SnapshotEntryKind.Document);
        var wheel = new SnapshotEntry("packages/six/six-1.16.0-py2.py3-none-any.whl", "application/octet-stream", DigestB, 11053, SnapshotEntryKind.Artifact);

        var one = Sample(html, wheel, json).ToCanonicalJson();
        var other = Sample(wheel, json, html).ToCanonicalJson();

        Assert.Equal(one, other);
        Assert.False(one.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }));
        var text = Encoding.UTF8.GetString(one);
        Assert.Equal(
            "{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[" +
            $"{{\"path\":\"packages/six/six-1.16.0-py2.py3-none-any.whl\",\"mediaType\":\"application/octet-stream\",\"sha256\":\"{DigestB}\",\"size\":11053,\"kind\":\"artifact\",\"rebase\":false}}," +
            $"{{\"path\":\"simple/\",\"mediaType\":\"application/vnd.pypi.simple.v1+json\",\"sha256\":\"{DigestB}\",\"size\":12,\"kind\":\"document\",\"rebase\":false}}," +
            $"{{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"{DigestA}\",\"size\":10,\"kind\":\"document\",\"rebase\":false}}]}}",
            text);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(one)), Sample(json, html, wheel).ComputeId());
    }

    [Fact]
    public void Parse_reads_back_what_was_written()
    {
        var manifest = Sample(
            new SnapshotEntry("v3/index.json", "application/json", DigestA, 5, SnapshotEntryKind.Document, Rebase: true),
            new SnapshotEntry("v3/flatcontainer/x/1.0.0/x.1.0.0.nupkg", "application/octet-stream", DigestB, 7, SnapshotEntryKind.Artifact)) with
        { Ecosystem = "nuget", Parent = DigestA, Origin = "import" };

        var parsed = SnapshotManifest.Parse(manifest.ToCanonicalJson());

        Assert.Equal(manifest.ComputeId(), parsed.ComputeId());
        Assert.Equal("nuget", parsed.Ecosystem);
        Assert.Equal(DigestA, parsed.Parent);
        Assert.Equal("import", parsed.Origin);
        Assert.Contains(parsed.Entries, e => e.Rebase && e.Path == "v3/index.json");
        Assert.Equal(manifest.CreatedAt, parsed.CreatedAt);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"formatVersion\":2,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[]}", "formatVersion 2")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\"}", "no member 'entries'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[],\"extra\":1}", "unknown member 'extra'")]
    [InlineData("{\"formatVersion\":1,\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[]}", "repeats the member 'formatVersion'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"maven\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[]}", "ecosystem 'maven'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00.5Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[]}", "whole seconds")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"copied\",\"entries\":[]}", "origin 'copied'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":\"abc\",\"origin\":\"sync\",\"entries\":[]}", "parent 'abc'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[{\"path\":\"/simple/\",\"mediaType\":\"text/html\",\"sha256\":\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\",\"size\":1,\"kind\":\"document\",\"rebase\":false}]}", "path '/simple/'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[{\"path\":\"simple/../x\",\"mediaType\":\"text/html\",\"sha256\":\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\",\"size\":1,\"kind\":\"document\",\"rebase\":false}]}", "path 'simple/../x'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + "\",\"size\":1,\"kind\":\"document\",\"rebase\":false}]}", "not 64 lower-case hex")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\",\"size\":-1,\"kind\":\"document\",\"rebase\":false}]}", "negative size")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\",\"size\":1,\"kind\":\"index\",\"rebase\":false}]}", "kind 'index'")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[" +
        "{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":1,\"kind\":\"document\",\"rebase\":false}," +
        "{\"path\":\"simple/\",\"mediaType\":\"text/html\",\"sha256\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"size\":1,\"kind\":\"document\",\"rebase\":false}]}", "twice")]
    [InlineData("{\"formatVersion\":1,\"ecosystem\":\"pypi\",\"createdAt\":\"2026-11-30T02:00:00Z\",\"tier\":3,\"parent\":null,\"origin\":\"sync\",\"entries\":[]} {}", "after its JSON object")]
    public void Parse_refuses_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<InvalidDataException>(() => SnapshotManifest.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_manifest_has_no_canonical_form()
    {
        var manifest = Sample() with { CreatedAt = new DateTimeOffset(2026, 11, 30, 2, 0, 0, 500, TimeSpan.Zero) };
        Assert.Throws<InvalidDataException>(() => manifest.ToCanonicalJson());
        Assert.Throws<InvalidDataException>(() => (Sample() with { CreatedAt = new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.FromHours(1)) }).ComputeId());
    }
}
