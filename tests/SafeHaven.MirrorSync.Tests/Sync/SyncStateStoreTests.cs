using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage.Database;
using SafeHaven.MirrorSync.Sync;
using SafeHaven.Tests.Support;

namespace SafeHaven.MirrorSync.Tests.Sync;

public sealed class SqliteSyncStateStoreTests() : SyncStateStoreTests(DatabaseProvider.Sqlite);

public sealed class PostgresSyncStateStoreTests() : SyncStateStoreTests(DatabaseProvider.Postgres);

/// <summary>
/// The sync state two replicas share, against each real engine: each replica opens its own handle on the one database
/// (<see cref="TestDatabase.OpenReplica"/>), as two machines would.
/// </summary>
public abstract class SyncStateStoreTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task One_run_at_a_time_across_replicas_and_its_live_counts_and_outcome_are_seen_by_both()
    {
        var a = await SyncStateStore.OpenAsync(Database, CancellationToken.None);
        var b = await SyncStateStore.OpenAsync(OpenReplica(), CancellationToken.None);

        Assert.Equal(SyncState.None("pypi"), await b.GetAsync("pypi", CancellationToken.None));
        Assert.True(await a.TryStartAsync("pypi", "schedule", "replica-a", Now, CancellationToken.None));
        // While A's run reports, B can neither start one nor write into A's.
        Assert.False(await b.TryStartAsync("pypi", "api", "replica-b", Now.AddSeconds(5), CancellationToken.None));
        await b.ReportProgressAsync("pypi", "replica-b", 99, 99, 99, Now.AddSeconds(5), CancellationToken.None);
        await a.ReportProgressAsync("pypi", "replica-a", 3, 1, 4096, Now.AddSeconds(6), CancellationToken.None);
        // Another ecosystem is independent.
        Assert.True(await b.TryStartAsync("cran", "api", "replica-b", Now.AddSeconds(6), CancellationToken.None));

        var seenByB = await b.GetAsync("pypi", CancellationToken.None);
        Assert.True(seenByB.IsRunning(Now.AddSeconds(7)));
        Assert.Equal(("replica-a", "schedule", 3L, 1L, 4096L), (seenByB.RunningOn, seenByB.Trigger, seenByB.Documents, seenByB.Artifacts, seenByB.Bytes));
        Assert.Equal(Now.AddSeconds(6), seenByB.Heartbeat);

        var published = new SnapshotRecord(new string('b', 64), "pypi", Now.AddSeconds(20), "sync", 10, 2, 123_456);
        await a.SucceedAsync("pypi", "replica-a", Now.AddSeconds(20), published, CancellationToken.None);
        var done = await b.GetAsync("pypi", CancellationToken.None);
        Assert.False(done.IsRunning(Now.AddSeconds(21)));
        Assert.Equal((Now.AddSeconds(20), 20.0, 10L, 2L, 123_456L), (done.LastSuccess!.Value, done.LastDurationSeconds!.Value, done.Documents, done.Artifacts, done.Bytes));
        Assert.Null(done.RunningSince);

        // The next run starts from zero and its failure is recorded beside the last success.
        Assert.True(await b.TryStartAsync("pypi", "api", "replica-b", Now.AddSeconds(30), CancellationToken.None));
        Assert.Equal(0L, (await a.GetAsync("pypi", CancellationToken.None)).Documents);
        await b.FailAsync("pypi", "replica-b", Now.AddSeconds(31), "pypi: upstream answered 503", CancellationToken.None);
        var failed = await a.GetAsync("pypi", CancellationToken.None);
        Assert.Equal((Now.AddSeconds(20), Now.AddSeconds(31), "pypi: upstream answered 503", "api"),
            (failed.LastSuccess!.Value, failed.LastFailure!.Value, failed.LastError, failed.Trigger));
    }

    [Fact]
    public async Task A_run_whose_replica_stopped_reporting_is_abandoned_and_another_replica_may_start_one()
    {
        var a = await SyncStateStore.OpenAsync(Database, CancellationToken.None);
        var b = await SyncStateStore.OpenAsync(OpenReplica(), CancellationToken.None);
        Assert.True(await a.TryStartAsync("apt", "schedule", "replica-a", Now, CancellationToken.None));

        var later = Now + SyncStateStore.StaleAfter + TimeSpan.FromSeconds(1);
        Assert.True((await b.GetAsync("apt", CancellationToken.None)).IsAbandoned(later));
        Assert.True(await b.TryStartAsync("apt", "api", "replica-b", later, CancellationToken.None));

        // The dead replica, should it come back, can no longer touch the run B now holds.
        await a.SucceedAsync("apt", "replica-a", later, new SnapshotRecord(new string('c', 64), "apt", later, "sync", 1, 1, 1), CancellationToken.None);
        var state = await b.GetAsync("apt", CancellationToken.None);
        Assert.Equal(("replica-b", (DateTimeOffset?)null), (state.RunningOn, state.LastSuccess));
        Assert.True(state.IsRunning(later));
    }
}
