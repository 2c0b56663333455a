using System.Data.Common;
using Dapper;
using SafeHaven.Airlock.Storage;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Submissions;

/// <summary>One airlock submission: a volume of its own, moving through <see cref="SubmissionStateMachine"/>.</summary>
public sealed record Submission(
    string Id, string Project, string WorkPackage, SubmissionKind Kind, int Tier, SubmissionState State, string VolumeId,
    string CreatedBy, string? Depositor, string? Script, string? StateReason, string? HashConfirmedBy,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public enum ReviewDecision
{
    Approve,
    Reject,
}

/// <summary>A reviewer's recorded decision, in one of the roles the sign-off table requires.</summary>
public sealed record SignOff(string SubmissionId, Role Role, string Reviewer, ReviewDecision Decision, string Reason, DateTimeOffset At);

/// <summary>Submissions and sign-offs in the airlock tables of the appliance's database. State changes are compare-and-set.</summary>
public sealed class SubmissionStore
{
    private const string Columns = "id AS Id, project AS Project, work_package AS WorkPackage, kind AS Kind, tier AS Tier, state AS State, volume_id AS VolumeId, created_by AS CreatedBy, depositor AS Depositor, script AS Script, state_reason AS StateReason, hash_confirmed_by AS HashConfirmedBy, created_at AS CreatedAt, updated_at AS UpdatedAt";

    private readonly AirlockDatabase _database;
    private readonly TimeProvider _time;

    public SubmissionStore(AirlockDatabase database, TimeProvider? time = null)
    {
        _database = database;
        _time = time ?? TimeProvider.System;
    }

    public AirlockDatabase Database => _database;

    public async Task CreateAsync(Submission submission, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await CreateAsync(connection, null, submission, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records a new submission inside the caller's transaction.</summary>
    public async Task CreateAsync(DbConnection connection, DbTransaction? transaction, Submission submission, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO airlock_submissions (id, project, work_package, kind, tier, state, volume_id, created_by, depositor, script, state_reason, hash_confirmed_by, created_at, updated_at)
            VALUES (@Id, @Project, @WorkPackage, @Kind, @Tier, @State, @VolumeId, @CreatedBy, @Depositor, @Script, @StateReason, NULL, @CreatedAt, @CreatedAt)
            """, new
        {
            submission.Id, submission.Project, submission.WorkPackage, Kind = submission.Kind.ToString(), submission.Tier,
            State = submission.State.ToString(), submission.VolumeId, submission.CreatedBy, submission.Depositor, submission.Script,
            submission.StateReason, CreatedAt = submission.CreatedAt.ToUnixTimeMilliseconds(),
        }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<Submission?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM airlock_submissions WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToSubmission();
    }

    public async Task<IReadOnlyList<Submission>> ListAsync(string? project, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM airlock_submissions{(project is null ? "" : " WHERE project = @project")} ORDER BY created_at, id",
            new { project }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToSubmission()).ToList();
    }

    public async Task<IReadOnlyList<Submission>> ListInStatesAsync(IReadOnlyCollection<SubmissionState> states, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        // One parameter per state: Dapper would pass a list to Npgsql as one array parameter, which IN does not take.
        var parameters = new DynamicParameters();
        var names = states.Select((state, i) =>
        {
            parameters.Add("s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), state.ToString());
            return "@s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }).ToList();
        if (names.Count == 0)
        {
            return [];
        }
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM airlock_submissions WHERE state IN ({string.Join(", ", names)}) ORDER BY created_at, id",
            parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => r.ToSubmission()).ToList();
    }

    /// <summary>Moves the submission from <paramref name="from"/> to <paramref name="to"/>; false when it was no longer in <paramref name="from"/>.</summary>
    public async Task<bool> TransitionAsync(string id, SubmissionState from, SubmissionState to, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await TransitionAsync(connection, null, id, from, to, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="TransitionAsync(string, SubmissionState, SubmissionState, string, CancellationToken)"/> inside the caller's
    /// transaction (its audit entry commits with it). On PostgreSQL the row stays locked until that transaction ends, so
    /// a concurrent transition on another replica waits and then finds the state changed.
    /// </summary>
    public async Task<bool> TransitionAsync(
        DbConnection connection, DbTransaction? transaction, string id, SubmissionState from, SubmissionState to, string reason, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_submissions SET state = @to, state_reason = @reason, updated_at = @now WHERE id = @id AND state = @from",
            new { id, from = from.ToString(), to = to.ToString(), reason, now = _time.GetUtcNow().ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;

    public async Task SetHashConfirmedAsync(string id, string by, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await SetHashConfirmedAsync(connection, null, id, by, cancellationToken).ConfigureAwait(false);
    }

    public async Task SetHashConfirmedAsync(DbConnection connection, DbTransaction? transaction, string id, string by, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE airlock_submissions SET hash_confirmed_by = @by, updated_at = @now WHERE id = @id",
            new { id, by, now = _time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);

    /// <summary>Records a sign-off; false when that role has already decided.</summary>
    public async Task<bool> AddSignOffAsync(SignOff signOff, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await AddSignOffAsync(connection, null, signOff, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a sign-off inside the caller's transaction; false when that role has already decided (no error is raised,
    /// so the transaction stays usable on PostgreSQL).
    /// </summary>
    public async Task<bool> AddSignOffAsync(DbConnection connection, DbTransaction? transaction, SignOff signOff, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO airlock_signoffs (submission_id, role, reviewer, decision, reason, at) VALUES (@SubmissionId, @Role, @Reviewer, @Decision, @Reason, @At) ON CONFLICT (submission_id, role) DO NOTHING",
            new { signOff.SubmissionId, Role = signOff.Role.ToString(), signOff.Reviewer, Decision = signOff.Decision.ToString(), signOff.Reason, At = signOff.At.ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;

    public async Task<IReadOnlyList<SignOff>> ListSignOffsAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<SignOffRow>(new CommandDefinition(
            "SELECT submission_id AS SubmissionId, role AS Role, reviewer AS Reviewer, decision AS Decision, reason AS Reason, at AS At FROM airlock_signoffs WHERE submission_id = @id ORDER BY at",
            new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new SignOff(r.SubmissionId, Enum.Parse<Role>(r.Role), r.Reviewer, Enum.Parse<ReviewDecision>(r.Decision), r.Reason,
            DateTimeOffset.FromUnixTimeMilliseconds(r.At))).ToList();
    }

    /// <summary>The open upload of <paramref name="path"/> in a volume, if any (a depositor resuming after a restart).</summary>
    public async Task<string?> FindOpenUploadAsync(string volumeId, string path, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT id FROM airlock_uploads WHERE volume_id = @volumeId AND path = @path AND state = 'open'",
            new { volumeId, path }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Ids of open uploads into a volume (a submit must not leave half-uploaded files behind).</summary>
    public async Task<IReadOnlyList<string>> ListOpenUploadsAsync(string volumeId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM airlock_uploads WHERE volume_id = @volumeId AND state = 'open'",
            new { volumeId }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string Project { get; set; } = "";
        public string WorkPackage { get; set; } = "";
        public string Kind { get; set; } = "";
        public long Tier { get; set; }
        public string State { get; set; } = "";
        public string VolumeId { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public string? Depositor { get; set; }
        public string? Script { get; set; }
        public string? StateReason { get; set; }
        public string? HashConfirmedBy { get; set; }
        public long CreatedAt { get; set; }
        public long UpdatedAt { get; set; }

        public Submission ToSubmission() => new(Id, Project, WorkPackage, Enum.Parse<SubmissionKind>(Kind), (int)Tier, Enum.Parse<SubmissionState>(State),
            VolumeId, CreatedBy, Depositor, Script, StateReason, HashConfirmedBy,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt));
    }

    private sealed class SignOffRow
    {
        public string SubmissionId { get; set; } = "";
        public string Role { get; set; } = "";
        public string Reviewer { get; set; } = "";
        public string Decision { get; set; } = "";
        public string Reason { get; set; } = "";
        public long At { get; set; }
    }
}
