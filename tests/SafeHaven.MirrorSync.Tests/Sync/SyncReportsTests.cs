using SafeHaven.Core.Advisories;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;
using SafeHaven.MirrorSync.Sync;

namespace SafeHaven.MirrorSync.Tests.Sync;

public sealed class SyncReportsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static TierPolicy Tier(int tier) => new(tier, TimeSpan.FromDays(7), TimeSpan.FromDays(42), AdvisoryIndex.Empty);

    private static SnapshotRecord Snapshot(double daysOld) => new(new string('a', 64), "cran", Now.AddDays(-daysOld), "sync", 2, 2, 100);

    [Fact]
    public void AtTier2AndAboveASnapshotOlderThanTheLagBoundDegrades()
    {
        var state = new EcosystemSyncState("cran");
        Assert.Empty(SyncReports.Problems("cran", Snapshot(41.9), state, Tier(2), Now));
        Assert.Equal(["cran: current snapshot aaaaaaaaaaaa is 43.0 days old, over the 42-day bound"], SyncReports.Problems("cran", Snapshot(43), state, Tier(2), Now));
        Assert.Single(SyncReports.Problems("cran", Snapshot(43), state, Tier(4), Now));
        // Tier 0-1 promise no staleness bound.
        Assert.Empty(SyncReports.Problems("cran", Snapshot(400), state, Tier(1), Now));
    }

    [Fact]
    public void AFailedLastRunDegradesUntilARunSucceedsAgain()
    {
        var state = new EcosystemSyncState("cran");
        state.Start(Now.AddMinutes(-2), "schedule");
        state.Fail(Now.AddMinutes(-1), "cran: upstream refused");
        Assert.Null(state.RunningSince);
        Assert.Equal(["cran: the last sync failed at 2026-12-01T11:59:00.0000000+00:00: cran: upstream refused; snapshot aaaaaaaaaaaa stays current"],
            SyncReports.Problems("cran", Snapshot(1), state, Tier(3), Now));

        state.Start(Now, "api");
        Assert.Equal(Now, state.RunningSince);
        state.Succeed(Now.AddSeconds(3), Snapshot(0));
        Assert.Empty(SyncReports.Problems("cran", Snapshot(0), state, Tier(3), Now));
        Assert.Equal((2L, 2L, 100L), (state.Documents, state.Artifacts, state.Bytes));
        Assert.Equal(TimeSpan.FromSeconds(3), state.LastDuration);
    }
}
