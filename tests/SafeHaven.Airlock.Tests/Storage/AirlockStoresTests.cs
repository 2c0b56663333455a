using Dapper;
using Microsoft.Data.Sqlite;
using SafeHaven.Airlock.Scanning;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Tests.Workflow;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Identity;
using SafeHaven.Tests.Support;

namespace SafeHaven.Airlock.Tests.Storage;

/// <summary>
/// The submission store, scan claims and the adoption of a former <c>DATA/airlock.db</c>, over a real database of each
/// provider (the subclasses below). Two handles on one database stand for two replicas.
/// </summary>
public abstract class AirlockStoresTests(DatabaseProvider provider) : TestDatabase(provider)
{
    private readonly ManualTime _time = new(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly TempDirectory _legacy = new();

    private static CancellationToken Ct => TestContext.Token;

    private Task<AirlockDatabase> AirlockAsync(SafeHavenDatabase? database = null, string? legacyFile = null) =>
        AirlockDatabase.OpenAsync(database ?? Database, legacyFile, Ct);

    private async Task<Submission> SubmissionAsync(AirlockDatabase database, string id, SubmissionState state, string project = "proj")
    {
        var volume = await new DatabaseVolumeStore(database, _time).CreateAsync($"{project}/wp", "v-" + id, Ct);
        var now = _time.GetUtcNow();
        var submission = new Submission(id, project, "wp", SubmissionKind.SoftwareIngress, 2, state, volume.Id, "res", null, null, "opened", null, now, now);
        await new SubmissionStore(database, _time).CreateAsync(submission, Ct);
        return submission;
    }

    [Fact]
    public async Task Submissions_round_trip_list_by_project_and_state_and_transition_by_compare_and_set()
    {
        var database = await AirlockAsync();
        var store = new SubmissionStore(database, _time);
        var a = await SubmissionAsync(database, "a", SubmissionState.Draft);
        _time.Advance(TimeSpan.FromSeconds(1));
        await SubmissionAsync(database, "b", SubmissionState.Submitted, project: "other");

        Assert.Equal(a, await store.GetAsync("a", Ct));
        Assert.Null(await store.GetAsync("nope", Ct));
        Assert.Equal(["a", "b"], (await store.ListAsync(null, Ct)).Select(s => s.Id));
        Assert.Equal(["b"], (await store.ListAsync("other", Ct)).Select(s => s.Id));
        Assert.Equal(["b"], (await store.ListInStatesAsync([SubmissionState.Submitted, SubmissionState.Scanning], Ct)).Select(s => s.Id));
        Assert.Empty(await store.ListInStatesAsync([], Ct));

        // A second replica's store over the same database: only one of two racing transitions from Draft wins.
        var replica = new SubmissionStore(await AirlockAsync(OpenReplica()), _time);
        Assert.True(await store.TransitionAsync("a", SubmissionState.Draft, SubmissionState.Submitted, "transfer complete", Ct));
        Assert.False(await replica.TransitionAsync("a", SubmissionState.Draft, SubmissionState.Cancelled, "too late", Ct));
        Assert.Equal((SubmissionState.Submitted, "transfer complete"), ((await replica.GetAsync("a", Ct))!.State, (await replica.GetAsync("a", Ct))!.StateReason));

        var signOff = new SignOff("a", Role.Referee, "ref", ReviewDecision.Approve, "fine", _time.GetUtcNow());
        Assert.True(await store.AddSignOffAsync(signOff, Ct));
        Assert.False(await replica.AddSignOffAsync(signOff with { Reviewer = "other" }, Ct));
        Assert.Equal([signOff], await replica.ListSignOffsAsync("a", Ct));
        await store.SetHashConfirmedAsync("a", "inv", Ct);
        Assert.Equal("inv", (await replica.GetAsync("a", Ct))!.HashConfirmedBy);
    }

    [Fact]
    public async Task A_claim_is_held_by_one_worker_until_its_lease_lapses_then_taken_over()
    {
        var database = await AirlockAsync();
        await SubmissionAsync(database, "s1", SubmissionState.Submitted);
        var first = new ScanClaims(database, _time);
        var second = new ScanClaims(await AirlockAsync(OpenReplica()), _time);

        var claim = await first.ClaimNextAsync("node-a/run-1", TimeSpan.FromSeconds(60), Ct);
        Assert.Equal("s1", claim!.SubmissionId);
        Assert.Null(await second.ClaimNextAsync("node-b/run-1", TimeSpan.FromSeconds(60), Ct));
        Assert.Equal(new ScanQueue(1, 0, _time.GetUtcNow()), await second.QueueAsync(Ct));

        _time.Advance(TimeSpan.FromSeconds(61));
        var taken = await second.ClaimNextAsync("node-b/run-1", TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(("s1", "node-b/run-1"), (taken!.SubmissionId, taken.Owner));
        Assert.False(await first.RenewAsync(claim, TimeSpan.FromSeconds(60), Ct));
        Assert.True(await second.RenewAsync(taken, TimeSpan.FromSeconds(60), Ct));

        // A restart of node-b drops the claims of its earlier run only.
        Assert.Equal(0, await first.ReleaseNodeAsync("node-b", "node-b/run-1", Ct));
        Assert.Equal(1, await first.ReleaseNodeAsync("node-b", "node-b/run-2", Ct));
        Assert.Null(await first.GetAsync("s1", Ct));
    }

    /// <summary>
    /// The airlock.db an earlier version kept beside safehaven.db: its schema exactly as that version created it, rows in
    /// every table, all of them still in its write-ahead log: the files are copied while the old appliance still has the
    /// database open, as a machine that lost power leaves them.
    /// </summary>
    internal static (string Path, string DepositToken) WriteLegacyFile(string directory)
    {
        var live = Path.Combine(directory, "live", "airlock.db");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(live)!);
        var salt = new byte[16];
        var secret = new string('s', 43);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = live, Pooling = false }.ToString());
        connection.Open();
        connection.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA wal_autocheckpoint = 0;
            CREATE TABLE airlock_volumes (id TEXT NOT NULL PRIMARY KEY, work_package TEXT NOT NULL, name TEXT NOT NULL, mode TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (work_package, name));
            CREATE TABLE airlock_volume_files (volume_id TEXT NOT NULL REFERENCES airlock_volumes (id), path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, added_at INTEGER NOT NULL, PRIMARY KEY (volume_id, path));
            CREATE TABLE airlock_uploads (id TEXT NOT NULL PRIMARY KEY, volume_id TEXT NOT NULL REFERENCES airlock_volumes (id), path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, chunk_size INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL);
            CREATE UNIQUE INDEX airlock_uploads_open_path ON airlock_uploads (volume_id, path) WHERE state = 'open';
            CREATE TABLE airlock_upload_chunks (upload_id TEXT NOT NULL REFERENCES airlock_uploads (id), idx INTEGER NOT NULL, sha256 TEXT NOT NULL, length INTEGER NOT NULL, PRIMARY KEY (upload_id, idx));
            CREATE TABLE airlock_submissions (id TEXT NOT NULL PRIMARY KEY, project TEXT NOT NULL, work_package TEXT NOT NULL, kind TEXT NOT NULL, tier INTEGER NOT NULL, state TEXT NOT NULL, volume_id TEXT NOT NULL REFERENCES airlock_volumes (id), created_by TEXT NOT NULL, depositor TEXT, script TEXT, state_reason TEXT, hash_confirmed_by TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
            CREATE TABLE airlock_signoffs (submission_id TEXT NOT NULL REFERENCES airlock_submissions (id), role TEXT NOT NULL, reviewer TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (submission_id, role));
            CREATE TABLE airlock_tokens (id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, submission_id TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL, expires_at INTEGER NOT NULL, allowed_range TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL, ended_at INTEGER);
            CREATE TABLE airlock_scan_claims (submission_id TEXT NOT NULL PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL, claimed_at INTEGER NOT NULL);
            INSERT INTO airlock_volumes VALUES ('vol1', 'proj/wp', 'software-ingress-sub1', 'External', 1772359200000);
            INSERT INTO airlock_volume_files VALUES ('vol1', 'tool.bin', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 5000, 1772359201000);
            INSERT INTO airlock_uploads VALUES ('up1', 'vol1', 'data/big.bin', 200000, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 65536, 'open', 1772359202000);
            INSERT INTO airlock_upload_chunks VALUES ('up1', 0, 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', 65536);
            INSERT INTO airlock_submissions VALUES ('sub1', 'proj', 'wp', 'SoftwareIngress', 2, 'Draft', 'vol1', 'res', NULL, NULL, 'opened', NULL, 1772359200000, 1772359200000);
            INSERT INTO airlock_signoffs VALUES ('sub1', 'Referee', 'ref', 'Approve', 'fine', 1772359203000);
            INSERT INTO airlock_scan_claims VALUES ('sub1', 'node-a/run-1', 1772359260000, 1772359200000);
            """);
        connection.Execute(
            "INSERT INTO airlock_tokens VALUES ('0123456789ab', 'Deposit', 'sub1', @salt, @hash, 4102444800000, NULL, 1772359200000, 'res', NULL)",
            new { salt, hash = SafeHaven.Management.Identity.SaltedSecret.Hash(salt, secret) });
        var path = Path.Combine(directory, "airlock.db");
        File.Copy(live, path);
        File.Copy(live + "-wal", path + "-wal");
        Assert.True(new FileInfo(path + "-wal").Length > 0);
        return (path, $"shd_0123456789ab_{secret}");
    }

    [Fact]
    public async Task A_former_airlock_db_is_adopted_once_with_every_row_and_renamed()
    {
        var (legacy, token) = WriteLegacyFile(_legacy.Path);

        var database = await AirlockAsync(legacyFile: legacy);

        Assert.False(File.Exists(legacy));
        Assert.False(File.Exists(legacy + "-wal"));
        Assert.True(File.Exists(legacy + ".migrated"));
        var volumes = new DatabaseVolumeStore(database, _time);
        Assert.Equal(VolumeMode.External, (await volumes.GetAsync("vol1", Ct))!.Mode);
        var file = Assert.Single((await volumes.GetManifestAsync("vol1", Ct))!.Files);
        Assert.Equal(("tool.bin", 5000L), (file.Path, file.Size));
        var uploads = new DatabaseUploadSessionStore(database);
        Assert.Equal(UploadState.Open, (await uploads.GetAsync("up1", Ct))!.State);
        Assert.Equal([0L], (await uploads.ListChunksAsync("up1", Ct)).Select(c => c.Index));
        var submissions = new SubmissionStore(database, _time);
        Assert.Equal(SubmissionState.Draft, (await submissions.GetAsync("sub1", Ct))!.State);
        Assert.Equal("ref", Assert.Single(await submissions.ListSignOffsAsync("sub1", Ct)).Reviewer);
        Assert.Equal("up1", await submissions.FindOpenUploadAsync("vol1", "data/big.bin", Ct));
        Assert.Equal("node-a/run-1", (await new ScanClaims(database, _time).GetAsync("sub1", Ct))!.Owner);
        // The salted hash came across byte for byte: the token issued by the old version still verifies.
        Assert.Equal("sub1", (await new AirlockTokens(database, _time).VerifyAsync(AirlockTokenKind.Deposit, token, null, Ct)).SubmissionId);

        // A second start finds nothing to adopt and changes nothing.
        await AirlockAsync(OpenReplica(), legacy);
        Assert.Single((await volumes.GetManifestAsync("vol1", Ct))!.Files);
        await using var connection = await Database.OpenAsync(Ct);
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM airlock_adopted_files"));
    }

    [Fact]
    public async Task An_adoption_that_fails_copies_nothing_and_keeps_the_old_file()
    {
        var (legacy, _) = WriteLegacyFile(_legacy.Path);
        var database = await AirlockAsync();
        // A row the old file also has: the copy stops at the clash, in the middle of the tables.
        await using (var connection = await Database.OpenAsync(Ct))
        {
            await connection.ExecuteAsync("INSERT INTO airlock_volumes (id, work_package, name, mode, created_at) VALUES ('other', 'p/w', 'n', 'External', 0)");
            await connection.ExecuteAsync("INSERT INTO airlock_submissions (id, project, work_package, kind, tier, state, volume_id, created_by, created_at, updated_at) VALUES ('sub1', 'p', 'w', 'Egress', 2, 'Draft', 'other', 'x', 0, 0)");
        }

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => AirlockAsync(OpenReplica(), legacy));

        Assert.True(File.Exists(legacy));
        Assert.False(File.Exists(legacy + ".migrated"));
        Assert.Null(await new DatabaseVolumeStore(database, _time).GetAsync("vol1", Ct));
        await using var check = await Database.OpenAsync(Ct);
        Assert.Equal(0L, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM airlock_adopted_files"));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _legacy.Dispose();
    }
}

public sealed class SqliteAirlockStoresTests() : AirlockStoresTests(DatabaseProvider.Sqlite);

public sealed class PostgresAirlockStoresTests() : AirlockStoresTests(DatabaseProvider.Postgres);
