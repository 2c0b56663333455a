using System.Net;

namespace SafeHaven.EndToEnd.Tests.Conda;

/// <summary>Real rattler against a Tier 2 appliance: uploads younger than 7 days, by the record's own timestamp, are held back.</summary>
public sealed class CondaQuarantineTests(CondaQuarantineFixture fixture) : IClassFixture<CondaQuarantineFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Tier2_holds_back_builds_uploaded_2_days_ago_and_solves_to_the_older_ones()
    {
        // greet 2.0 and libgreet 2.1 (2 days old) are held; greet 1.0 takes the newest libgreet out of quarantine.
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("conda-forge"), "greet");

        CondaAssert.Solved(fixture, solved, "greet 1.0", "libgreet 2.0");
        await CondaAssert.DownloadsIntactAsync(fixture, "conda-forge", solved);
        using var held = await Http.GetAsync(fixture.ChannelFileUrl("conda-forge", "noarch/greet-2.0-pyh0_0.conda"));
        Assert.Equal(HttpStatusCode.NotFound, held.StatusCode);
        var noarch = CondaAssert.Records(await CondaAssert.RepodataAsync(fixture, "conda-forge", "noarch"));
        Assert.Equal(["greet-1.0-pyh0_0.conda"], noarch.Keys);
    }

    [Fact]
    public async Task Second_timestamps_are_read_as_seconds_and_a_record_without_one_is_dated_by_first_sight()
    {
        // oldtool 1.1's timestamp is in seconds, 2 days ago (read as milliseconds it would be 1970 and pass); 1.2 has
        // none, so the appliance dates it when it first saw it: now.
        var solved = await Rattler.SolveAsync(fixture.ChannelUrl("main"), "oldtool");

        CondaAssert.Solved(fixture, solved, "oldtool 1.0");
        await CondaAssert.DownloadsIntactAsync(fixture, "main", solved);
        var exact = await Rattler.SolveAsync(fixture.ChannelUrl("main"), "oldtool 1.1");
        Assert.False(exact.Succeeded, exact.Process.Output);
        Assert.Contains("No candidates were found for oldtool", exact.Process.StandardError, StringComparison.Ordinal);
    }
}
