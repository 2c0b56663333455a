using Dapper;
using SafeHaven.Airlock.Storage;

namespace SafeHaven.Airlock.Scanning;

/// <summary>The inspection queue: submissions waiting (<c>submitted</c>), being inspected, and the oldest wait.</summary>
public sealed record ScanQueue(int Waiting, int Scanning, DateTimeOffset? OldestWaitingSince);

/// <summary>A worker's hold on one submission's inspection until <see cref="LeaseUntil"/> (renewed while it runs).</summary>
public sealed record ScanClaim(string SubmissionId, string Owner, DateTimeOffset LeaseUntil);

/// <summary>
/// Who is inspecting what, in the airlock's database rather than in memory: a worker claims a pending submission
/// (submitted, or scanning with no live claim) with a lease and renews it while it inspects. A worker that dies
/// stops renewing and its claim lapses, so another worker (another replica, or this appliance after a restart) takes
/// the submission over. Claiming is one compare-and-set statement, safe between processes and replicas sharing the database.
/// </summary>
public sealed class ScanClaims
{
    private readonly AirlockDatabase _database;
    private readonly TimeProvider _time;

    public ScanClaims(AirlockDatabase database, TimeProvider? time = null)
    {
        _database = database;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Claims the oldest pending submission (state <c>Submitted</c>, or <c>Scanning</c> whose claim is absent or lapsed)
    /// for <paramref name="owner"/>; null when there is none.
    /// </summary>
    public async Task<ScanClaim?> ClaimNextAsync(string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var candidates = (await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT s.id FROM airlock_submissions s LEFT JOIN airlock_scan_claims c ON c.submission_id = s.id
            WHERE s.state IN ('Submitted', 'Scanning') AND (c.submission_id IS NULL OR c.lease_until < @now)
            ORDER BY s.updated_at, s.id LIMIT 50
            """, new { now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        foreach (var id in candidates)
        {
            var until = now + lease;
            var claimed = await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO airlock_scan_claims (submission_id, owner, lease_until, claimed_at) VALUES (@id, @owner, @until, @now)
                ON CONFLICT (submission_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, claimed_at = excluded.claimed_at
                WHERE airlock_scan_claims.lease_until < @now
                """, new { id, owner, until = until.ToUnixTimeMilliseconds(), now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (claimed == 1)
            {
                return new ScanClaim(id, owner, until);
            }
        }
        return null;
    }

    /// <summary>Extends the lease; false when the claim is no longer this owner's (it lapsed and was taken over).</summary>
    public async Task<bool> RenewAsync(ScanClaim claim, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_scan_claims SET lease_until = @until WHERE submission_id = @id AND owner = @owner",
            new { id = claim.SubmissionId, owner = claim.Owner, until = (_time.GetUtcNow() + lease).ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
    }

    /// <summary>Drops the claim if it is still this owner's.</summary>
    public async Task ReleaseAsync(ScanClaim claim, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM airlock_scan_claims WHERE submission_id = @id AND owner = @owner",
            new { id = claim.SubmissionId, owner = claim.Owner }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Drops whatever claim a submission has (its inspection ended, by a verdict or by the watchdog).</summary>
    public async Task ForgetAsync(string submissionId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM airlock_scan_claims WHERE submission_id = @submissionId", new { submissionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Drops the claims earlier runs of this node left behind (owners <c>{node}/...</c> other than
    /// <paramref name="current"/>): one node runs one appliance process, so they are stale, and their submissions
    /// resume at once instead of after the lease.
    /// </summary>
    public async Task<int> ReleaseNodeAsync(string node, string current, CancellationToken cancellationToken)
    {
        var prefix = node + "/";
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM airlock_scan_claims WHERE substr(owner, 1, length(@prefix)) = @prefix AND owner <> @current",
            new { prefix, current }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>How many submissions wait for inspection, how many are being inspected, and since when the oldest waits.</summary>
    public async Task<ScanQueue> QueueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleAsync<QueueRow>(new CommandDefinition("""
            SELECT COUNT(CASE WHEN state = 'Submitted' THEN 1 END) AS Waiting, COUNT(CASE WHEN state = 'Scanning' THEN 1 END) AS Scanning,
                   MIN(CASE WHEN state = 'Submitted' THEN updated_at END) AS OldestWaiting
            FROM airlock_submissions WHERE state IN ('Submitted', 'Scanning')
            """, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new ScanQueue((int)row.Waiting, (int)row.Scanning, row.OldestWaiting is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null);
    }

    public async Task<ScanClaim?> GetAsync(string submissionId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<ClaimRow>(new CommandDefinition(
            "SELECT owner AS Owner, lease_until AS LeaseUntil FROM airlock_scan_claims WHERE submission_id = @submissionId",
            new { submissionId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null ? null : new ScanClaim(submissionId, row.Owner, DateTimeOffset.FromUnixTimeMilliseconds(row.LeaseUntil));
    }

    private sealed class QueueRow
    {
        public long Waiting { get; set; }
        public long Scanning { get; set; }
        public long? OldestWaiting { get; set; }
    }

    private sealed class ClaimRow
    {
        public string Owner { get; set; } = "";
        public long LeaseUntil { get; set; }
    }
}
