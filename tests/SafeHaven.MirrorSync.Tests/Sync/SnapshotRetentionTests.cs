using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.MirrorSync.Sync;

namespace SafeHaven.MirrorSync.Tests.Sync;

public sealed class SnapshotRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static SnapshotRecord Record(int daysAgo) =>
        new(daysAgo.ToString("x64"), "cran", Now.AddDays(-daysAgo), "sync", 1, 0, 10);

    [Fact]
    public void ForgetsOnlyWhatIsOlderThanRetentionBeyondTheNewestKeepAtLeast()
    {
        var newestFirst = new[] { 0, 1, 20, 31, 40, 50 }.Select(Record).ToList();
        var expired = SnapshotRetention.Expired(newestFirst, newestFirst[0].Id, new SnapshotOptions { RetentionDays = 30, KeepAtLeast = 3 }, Now);
        Assert.Equal([31, 40, 50], expired.Select(r => (int)(Now - r.CreatedAt).TotalDays));
    }

    [Fact]
    public void KeepAtLeastHoldsOldSnapshotsAndTheCurrentOneIsNeverForgotten()
    {
        var newestFirst = new[] { 100, 200, 300, 400 }.Select(Record).ToList();
        var keep2 = SnapshotRetention.Expired(newestFirst, newestFirst[0].Id, new SnapshotOptions { RetentionDays = 30, KeepAtLeast = 2 }, Now);
        Assert.Equal([300, 400], keep2.Select(r => (int)(Now - r.CreatedAt).TotalDays));

        // An imported older snapshot made current again: retention passes it over wherever it stands.
        var current = newestFirst[3].Id;
        var expired = SnapshotRetention.Expired(newestFirst, current, new SnapshotOptions { RetentionDays = 0, KeepAtLeast = 1 }, Now);
        Assert.DoesNotContain(expired, r => r.Id == current);
        Assert.Equal(2, expired.Count);
    }
}
