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
        var state = SyncState.None("cran");
        Assert.Empty(SyncReports.Problems("cran", Snapshot(41.9), state, Tier(2), Now));
        Assert.Equal(["cran: current snapshot aaaaaaaaaaaa is 43.0 days old, over the 42-day bound"], SyncReports.Problems("cran", Snapshot(43), state, Tier(2), Now));
        Assert.Single(SyncReports.Problems("cran", Snapshot(43), state, Tier(4), Now));
        // Tier 0-1 promise no staleness bound.
        Assert.Empty(SyncReports.Problems("cran", Snapshot(400), state, Tier(1), Now));
    }

    [Fact]
    public void AFailedLastRunDegradesUntilARunSucceedsAgain()
    {
        var failed = SyncState.None("cran") with { LastFailure = Now.AddMinutes(-1), LastError = "cran: upstream refused" };
        Assert.Equal(["cran: the last sync failed at 2026-12-01T11:59:00.0000000+00:00: cran: upstream refused; snapshot aaaaaaaaaaaa stays current"],
            SyncReports.Problems("cran", Snapshot(1), failed, Tier(3), Now));

        var succeeded = failed with { LastSuccess = Now };
        Assert.Empty(SyncReports.Problems("cran", Snapshot(0), succeeded, Tier(3), Now));
    }

    [Fact]
    public void ARunWhoseReplicaStoppedReportingIsAbandonedAndDegrades()
    {
        var running = SyncState.None("cran") with { RunningSince = Now.AddMinutes(-5), RunningOn = "replica-a:41", Heartbeat = Now.AddSeconds(-10) };
        Assert.True(running.IsRunning(Now));
        Assert.Empty(SyncReports.Problems("cran", Snapshot(1), running, Tier(3), Now));

        var abandoned = running with { Heartbeat = Now - SyncStateStore.StaleAfter - TimeSpan.FromSeconds(1) };
        Assert.False(abandoned.IsRunning(Now));
        Assert.True(abandoned.IsAbandoned(Now));
        var problem = Assert.Single(SyncReports.Problems("cran", Snapshot(1), abandoned, Tier(3), Now));
        Assert.StartsWith("cran: the sync started at 2026-12-01T11:55:00.0000000+00:00 on replica-a:41 stopped reporting", problem, StringComparison.Ordinal);
    }
}
