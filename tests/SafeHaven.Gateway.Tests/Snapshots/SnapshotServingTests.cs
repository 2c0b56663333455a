using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

using SafeHaven.Tests.Support;

namespace SafeHaven.Gateway.Tests.Snapshots;

public sealed class SnapshotServingTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("safehaven-snapshot-serving-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    /// <summary>
    /// A snapshot-only NuGet mirror (no upstream: an import-only appliance) whose snapshot holds a service index with
    /// absolute URLs written against the rebase origin, as a NuGet capture stores them.
    /// </summary>
    [Fact]
    public async Task A_snapshot_only_mirror_answers_503_until_a_snapshot_exists_then_rebases_absolute_urls_to_the_request()
    {
        await using var host = await SnapshotHost.StartAsync(_data, new Dictionary<string, string> { ["Tier"] = "2", ["Mirrors:nuget:Enabled"] = "true" });
        using (var before = await host.Client.GetAsync("/nuget/v3/index.json"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
            Assert.Equal("application/problem+json", before.Content.Headers.ContentType!.MediaType);
        }

        // Large enough that the origin falls across the server's read boundaries several times.
        var index = new StringBuilder("{\"version\":\"3.0.0\",\"resources\":[");
        for (var i = 0; i < 4000; i++)
        {
            index.Append(i == 0 ? "" : ",").Append($"{{\"@id\":\"{SnapshotManifest.RebaseOrigin}/nuget/v3/r{i}/\",\"@type\":\"T{i}\"}}");
        }
        index.Append("]}");
        var blobs = host.Services.GetRequiredService<IBlobStore>();
        var bytes = Encoding.UTF8.GetBytes(index.ToString());
        var digest = await blobs.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var manifest = new SnapshotManifest(1, "nuget", new DateTimeOffset(2026, 11, 30, 2, 0, 0, TimeSpan.Zero), 2, null, "import",
            [new SnapshotEntry("v3/index.json", "application/json", digest.Hex, bytes.Length, SnapshotEntryKind.Document, Rebase: true)]);
        var record = await host.Services.GetRequiredService<SnapshotPublisher>().PublishAsync(manifest, CancellationToken.None);

        using var live = await host.Client.GetAsync("/nuget/v3/index.json");
        var liveText = await live.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(index.ToString().Replace(SnapshotManifest.RebaseOrigin + "/nuget/", host.BaseUrl + "nuget/", StringComparison.Ordinal), liveText);
        using var dated = await host.Client.GetAsync($"/nuget/@{record.Id[..8]}/v3/index.json");
        var datedText = await dated.Content.ReadAsStringAsync();
        Assert.Equal(index.ToString().Replace(SnapshotManifest.RebaseOrigin + "/nuget/", host.BaseUrl + $"nuget/@{record.Id[..8]}/", StringComparison.Ordinal), datedText);
        Assert.NotEqual(live.Headers.ETag, dated.Headers.ETag);
        Assert.NotEqual("\"" + digest.Hex + "\"", live.Headers.ETag!.Tag);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/nuget/v3/index.json");
        conditional.Headers.IfNoneMatch.Add(live.Headers.ETag);
        using var notModified = await host.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var missing = await host.Client.GetAsync("/nuget/v3/registration/x/index.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var post = await host.Client.PostAsync("/nuget/v3/index.json", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }
}
