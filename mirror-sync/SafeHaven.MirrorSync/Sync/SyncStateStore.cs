using Dapper;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.MirrorSync.Sync;

/// <summary>
/// One ecosystem's sync as every replica sees it: the run in progress (since when, on which replica, its live counts
/// and the last time it reported) and the last outcomes. While a run is in progress the counts are what it has captured
/// so far; otherwise those of the snapshot it last published.
/// </summary>
public sealed record SyncState(
    string Ecosystem, DateTimeOffset? RunningSince, string? RunningOn, DateTimeOffset? Heartbeat, string? Trigger,
    long Documents, long Artifacts, long Bytes,
    DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? LastError, double? LastDurationSeconds)
{
    /// <summary>An ecosystem that never synced.</summary>
    public static SyncState None(string ecosystem) => new(ecosystem, null, null, null, null, 0, 0, 0, null, null, null, null);

    /// <summary>A run is in progress and its replica reported within <see cref="SyncStateStore.StaleAfter"/> of <paramref name="now"/>.</summary>
    public bool IsRunning(DateTimeOffset now) => RunningSince is not null && !IsAbandoned(now);

    /// <summary>A run started but its replica stopped reporting (it died or lost the database): no snapshot came of it.</summary>
    public bool IsAbandoned(DateTimeOffset now) => RunningSince is not null && (Heartbeat ?? RunningSince) < now - SyncStateStore.StaleAfter;
}

/// <summary>
/// The shared sync state of every ecosystem, in the appliance's metadata database (table <c>sync_state</c>; SQLite on
/// one machine, PostgreSQL shared by replicas). A run is claimed by one replica at a time (<see cref="TryStartAsync"/>);
/// the replica running it writes its counts and a heartbeat every <see cref="ProgressInterval"/>; a run whose heartbeat
/// is older than <see cref="StaleAfter"/> is taken for abandoned and may be claimed again.
/// </summary>
public sealed class SyncStateStore
{
    public const string Area = "sync-state";

    /// <summary>How often the replica running a sync writes its counts and heartbeat.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    /// <summary>A run that has not reported for this long is abandoned (its replica died or lost the database).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "sync state shared by replicas",
            """
            CREATE TABLE sync_state (
                ecosystem TEXT NOT NULL PRIMARY KEY,
                running_since INTEGER, running_on TEXT, heartbeat INTEGER, trigger_name TEXT,
                documents INTEGER NOT NULL DEFAULT 0, artifacts INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
                last_success INTEGER, last_failure INTEGER, last_error TEXT, last_duration_ms INTEGER)
            """,
            """
            CREATE TABLE sync_state (
                ecosystem TEXT NOT NULL PRIMARY KEY,
                running_since BIGINT, running_on TEXT, heartbeat BIGINT, trigger_name TEXT,
                documents BIGINT NOT NULL DEFAULT 0, artifacts BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,
                last_success BIGINT, last_failure BIGINT, last_error TEXT, last_duration_ms BIGINT)
            """),
    ];

    private readonly SafeHavenDatabase _database;

    private SyncStateStore(SafeHavenDatabase database) => _database = database;

    /// <summary>The store over <paramref name="database"/>, its table created or upgraded first.</summary>
    public static async Task<SyncStateStore> OpenAsync(SafeHavenDatabase database, CancellationToken cancellationToken)
    {
        await SchemaMigrations.ApplyAsync(database, Area, Migrations, cancellationToken).ConfigureAwait(false);
        return new SyncStateStore(database);
    }

    /// <summary>
    /// Claims a run of <paramref name="ecosystem"/> for <paramref name="replica"/>: true unless another run is in
    /// progress and still reporting (on any replica). The counts start again from zero; the last outcomes stay.
    /// </summary>
    public Task<bool> TryStartAsync(string ecosystem, string trigger, string replica, DateTimeOffset now, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) => await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            """
            INSERT INTO sync_state (ecosystem, running_since, running_on, heartbeat, trigger_name, documents, artifacts, bytes)
            VALUES (@ecosystem, @now, @replica, @now, @trigger, 0, 0, 0)
            ON CONFLICT (ecosystem) DO UPDATE SET running_since = excluded.running_since, running_on = excluded.running_on,
                heartbeat = excluded.heartbeat, trigger_name = excluded.trigger_name, documents = 0, artifacts = 0, bytes = 0
            WHERE sync_state.running_since IS NULL OR sync_state.heartbeat < @stale
            RETURNING ecosystem
            """,
            new { ecosystem, now = now.ToUnixTimeMilliseconds(), replica, trigger, stale = (now - StaleAfter).ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) is not null, cancellationToken);

    /// <summary>The run's counts so far and a heartbeat; ignored unless <paramref name="replica"/> holds the run.</summary>
    public Task ReportProgressAsync(string ecosystem, string replica, long documents, long artifacts, long bytes, DateTimeOffset now, CancellationToken cancellationToken) =>
        _database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_state SET documents = @documents, artifacts = @artifacts, bytes = @bytes, heartbeat = @now
            WHERE ecosystem = @ecosystem AND running_on = @replica AND running_since IS NOT NULL
            """,
            new { ecosystem, replica, documents, artifacts, bytes, now = now.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>The run <paramref name="replica"/> holds published <paramref name="published"/>.</summary>
    public Task SucceedAsync(string ecosystem, string replica, DateTimeOffset now, SnapshotRecord published, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(published);
        return _database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_state SET last_duration_ms = @now - running_since, running_since = NULL, running_on = NULL, heartbeat = @now,
                last_success = @now, documents = @documents, artifacts = @artifacts, bytes = @bytes
            WHERE ecosystem = @ecosystem AND running_on = @replica AND running_since IS NOT NULL
            """,
            new { ecosystem, replica, now = now.ToUnixTimeMilliseconds(), documents = (long)published.Documents, artifacts = (long)published.Artifacts, bytes = published.Bytes },
            transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>The run <paramref name="replica"/> holds failed: nothing was published.</summary>
    public Task FailAsync(string ecosystem, string replica, DateTimeOffset now, string error, CancellationToken cancellationToken) =>
        _database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_state SET last_duration_ms = @now - running_since, running_since = NULL, running_on = NULL, heartbeat = @now,
                last_failure = @now, last_error = @error
            WHERE ecosystem = @ecosystem AND running_on = @replica AND running_since IS NOT NULL
            """,
            new { ecosystem, replica, now = now.ToUnixTimeMilliseconds(), error }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    /// <summary>What every replica reports of <paramref name="ecosystem"/>'s sync.</summary>
    public async Task<SyncState> GetAsync(string ecosystem, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT ecosystem, running_since AS RunningSince, running_on AS RunningOn, heartbeat, trigger_name AS TriggerName,
                documents, artifacts, bytes, last_success AS LastSuccess, last_failure AS LastFailure, last_error AS LastError,
                last_duration_ms AS LastDurationMs
            FROM sync_state WHERE ecosystem = @ecosystem
            """,
            new { ecosystem }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToState() ?? SyncState.None(ecosystem);
    }

    private static DateTimeOffset? Instant(long? milliseconds) => milliseconds is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    private sealed class Row
    {
        public string Ecosystem { get; set; } = "";
        public long? RunningSince { get; set; }
        public string? RunningOn { get; set; }
        public long? Heartbeat { get; set; }
        public string? TriggerName { get; set; }
        public long Documents { get; set; }
        public long Artifacts { get; set; }
        public long Bytes { get; set; }
        public long? LastSuccess { get; set; }
        public long? LastFailure { get; set; }
        public string? LastError { get; set; }
        public long? LastDurationMs { get; set; }

        public SyncState ToState() => new(Ecosystem, Instant(RunningSince), RunningOn, Instant(Heartbeat), TriggerName, Documents, Artifacts, Bytes,
            Instant(LastSuccess), Instant(LastFailure), LastError, LastDurationMs / 1000.0);
    }
}
