using System.Net;
using System.Text.Json.Nodes;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>Checks every conda test makes of a solve through the appliance.</summary>
public static class CondaAssert
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The solve succeeded, with exactly <paramref name="expected"/> (<c>name version</c>, sorted).</summary>
    public static void Solved(CondaApplianceFixture fixture, Rattler.SolveResult solved, params string[] expected) =>
        Assert.True(solved.Succeeded && solved.Solution.SequenceEqual(expected),
            $"expected [{string.Join(", ", expected)}], rattler solved [{string.Join(", ", solved.Solution)}] (exit {solved.Process.ExitCode}):\n{solved.Process.Output}\nappliance log:\n{fixture.Appliance.Log}");

    /// <summary>
    /// Every solved record points into the appliance's channel (not upstream), carries the sha256 and size of the real
    /// upstream file, and downloading its <c>url</c> gives exactly those bytes.
    /// </summary>
    public static async Task DownloadsIntactAsync(CondaApplianceFixture fixture, string channel, Rattler.SolveResult solved)
    {
        foreach (var record in solved.Records)
        {
            Assert.Equal(fixture.ChannelFileUrl(channel, $"{record.Subdir}/{record.Filename}").ToString(), record.Url);
            var (sha256, size) = fixture.Channel(channel).Indexed(record.Subdir!, record.Filename);
            Assert.Equal((sha256, size), (record.Sha256, record.Size));
            var download = await Rattler.DownloadAsync(record);
            Assert.Equal(new CondaDownload(HttpStatusCode.OK, sha256, size), download);
        }
    }

    /// <summary>The appliance's <c>repodata.json</c> of one subdir, parsed.</summary>
    public static async Task<JsonObject> RepodataAsync(CondaApplianceFixture fixture, string channel, string subdir) =>
        JsonNode.Parse(await Http.GetStringAsync(fixture.ChannelFileUrl(channel, $"{subdir}/repodata.json")))!.AsObject();

    /// <summary>Every record of a repodata (both <c>packages</c> and <c>packages.conda</c>), by file name.</summary>
    public static IReadOnlyDictionary<string, JsonObject> Records(JsonObject repodata) =>
        new[] { "packages", "packages.conda" }
            .SelectMany(key => repodata[key]?.AsObject() ?? [])
            .ToDictionary(p => p.Key, p => p.Value!.AsObject(), StringComparer.Ordinal);
}
