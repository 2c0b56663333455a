using System.Data.Common;
using System.Net;
using Microsoft.Extensions.Logging;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Reviews;
using SafeHaven.Airlock.Scanning;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;

namespace SafeHaven.Airlock.Submissions;

public sealed record OpenSubmission(
    string Project, string WorkPackage, SubmissionKind Kind, string? Depositor = null, string? Script = null,
    TimeSpan? DepositWindow = null, string? AllowedRange = null);

public sealed record OpenedSubmission(Submission Submission, AirlockTokenRecord Token, string DepositToken);

public sealed record SubmissionDetails(
    Submission Submission, IReadOnlyList<Role> RequiredSignOffs, IReadOnlyList<SignOff> SignOffs, bool HashConfirmationRequired,
    VolumeManifest? Manifest, bool CanRead);

/// <summary>A deposit session, as its token sees it: where it goes, never what is already in it.</summary>
public sealed record DepositSession(AirlockTokenRecord Token, Submission Submission);

/// <summary>
/// The airlock workflow: opening submissions, token-authenticated deposits, inspection, sign-offs, release and
/// revocation, with every transition checked against <see cref="SubmissionStateMachine"/> and the roles of
/// <see cref="SignOffRules"/>, and written to the management audit log. Refusals are <see cref="AirlockWorkflowException"/>.
/// </summary>
public sealed partial class AirlockWorkflow(
    SubmissionStore submissions, IVolumeStore volumes, UploadService uploads, IUploadSessionStore uploadSessions,
    IBlobStore files, AirlockTokens tokens, AirlockInspector inspector, IAuditLog audit, IProjectStore projects,
    IUserStore users, AirlockAlerts alerts, ILogger<AirlockWorkflow> logger, TimeProvider? time = null, AirlockOptions? options = null,
    IScanTrigger? scanTrigger = null)
{
    private readonly AirlockStorageOptions _storage = options?.Storage ?? new AirlockStorageOptions();
    private readonly TimeSpan _scanTimeout = TimeSpan.FromSeconds(options?.ScanTimeoutSeconds ?? 3600);

    public const string DocumentVolumeName = "documents";
    public static readonly TimeSpan DefaultDepositWindow = TimeSpan.FromDays(3);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // ----- opening -----

    public async Task<OpenedSubmission> OpenAsync(Caller caller, OpenSubmission request, CancellationToken cancellationToken)
    {
        if (!Names.IsProjectName(request.Project) || !Names.IsProjectName(request.WorkPackage))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"Project and work package are names: {Names.ProjectRule}.");
        }
        if (!caller.CanSee(request.Project) || await projects.GetWorkPackageAsync(request.Project, request.WorkPackage, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new AirlockWorkflowException(AirlockError.NotFound, $"No work package '{request.Project}/{request.WorkPackage}'.");
        }
        RequireRole(caller, request.Project, SignOffRules.Openers[request.Kind], $"open a {SubmissionStates.Name(request.Kind)} submission");
        var tier = await TierOfAsync(request.Project, request.WorkPackage, cancellationToken).ConfigureAwait(false);
        string? script = null;
        string? depositor = null;
        switch (request.Kind)
        {
            case SubmissionKind.DataIngress:
                if (await AgreementAsync(request.Project, request.WorkPackage, cancellationToken).ConfigureAwait(false) is not { Files.Count: > 0 })
                {
                    throw new AirlockWorkflowException(AirlockError.MissingAgreement,
                        $"Work package '{request.Project}/{request.WorkPackage}' has no signed data-sharing agreement in its document volume; store it first.");
                }
                depositor = request.Depositor;
                if (!Names.IsUserName(depositor) || !(await users.ListProjectRolesAsync(request.Project, cancellationToken).ConfigureAwait(false))
                        .Any(r => r.User == depositor && r.Role == Role.DatasetProviderRepresentative))
                {
                    throw new AirlockWorkflowException(AirlockError.Invalid,
                        $"Data ingress names its depositor: a Dataset Provider Representative of project '{request.Project}' ('{depositor}' is not one).");
                }
                break;
            case SubmissionKind.Egress:
                script = NormalisePath(request.Script ?? throw new AirlockWorkflowException(AirlockError.Invalid,
                    "An egress submission names the script that produced its outputs (a required file of the submission)."));
                depositor = caller.Name;
                break;
            default:
                depositor = request.Depositor is { } d && Names.IsUserName(d) ? d : null;
                break;
        }

        var id = Guid.NewGuid().ToString("N");
        var volume = await volumes.CreateAsync($"{request.Project}/{request.WorkPackage}", $"{SubmissionStates.Name(request.Kind)}-{id}", cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var submission = new Submission(id, request.Project, request.WorkPackage, request.Kind, tier, SubmissionState.Draft, volume.Id,
            caller.Name, depositor, script, "opened", null, now, now);
        // The submission, its deposit token and the audit entry: one transaction.
        var (record, token) = await ChangeAsync(async (connection, transaction) =>
        {
            await submissions.CreateAsync(connection, transaction, submission, cancellationToken).ConfigureAwait(false);
            var issued = await tokens.IssueAsync(connection, transaction, AirlockTokenKind.Deposit, id, request.DepositWindow ?? DefaultDepositWindow,
                request.AllowedRange, caller.Name, cancellationToken).ConfigureAwait(false);
            return (issued, AuditRecord.Of(caller.Name, "airlock.submission.opened", Target(submission), submission.Project,
                ("kind", SubmissionStates.Name(submission.Kind)), ("tier", tier.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("depositor", depositor), ("script", script), ("volume", volume.Id), ("depositTokenId", issued.Record.Id),
                ("depositTokenExpires", issued.Record.ExpiresAt.ToString("O")), ("allowedRange", issued.Record.AllowedRange)));
        }, cancellationToken).ConfigureAwait(false);
        return new OpenedSubmission(submission, record, token);
    }

    // ----- data-sharing agreements -----

    /// <summary>Stores a signed data-sharing agreement in the work package's document volume (its Project Manager).</summary>
    public async Task<VolumeFile> StoreAgreementAsync(
        Caller caller, string project, string workPackage, string fileName, long size, BlobDigest sha256, Stream content, CancellationToken cancellationToken)
    {
        if (!caller.CanSee(project) || await projects.GetWorkPackageAsync(project, workPackage, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new AirlockWorkflowException(AirlockError.NotFound, $"No work package '{project}/{workPackage}'.");
        }
        RequireRole(caller, project, [Role.ProjectManager], "store a data-sharing agreement");
        var path = NormalisePath(fileName);
        var volume = await DocumentVolumeAsync(project, workPackage, create: true, cancellationToken).ConfigureAwait(false);
        UploadSession session;
        try
        {
            session = await uploads.BeginAsync(volume!.Id, path, size, sha256, UploadService.MinChunkSize, cancellationToken).ConfigureAwait(false);
        }
        catch (AirlockConflictException e)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, e.Message);
        }
        catch (ArgumentException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, e.Message);
        }
        catch (InsufficientStorageException e)
        {
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage, e.Message);
        }
        try
        {
            BlobDigest stored;
            await using (var writer = await files.BeginWriteAsync(cancellationToken).ConfigureAwait(false))
            {
                await CopyBoundedAsync(content, writer, size, cancellationToken).ConfigureAwait(false);
                try
                {
                    stored = await writer.CommitAsync(sha256, cancellationToken).ConfigureAwait(false);
                }
                catch (BlobDigestMismatchException e)
                {
                    throw new AirlockWorkflowException(AirlockError.HashMismatch, $"The agreement hashes to {e.Actual}, not the declared {e.Expected}; nothing was stored.");
                }
            }
            var file = new VolumeFile(path, stored, size, DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()));
            await uploadSessions.CompleteAsync(session.Id, file, cancellationToken).ConfigureAwait(false);
            await audit.AppendAsync(AuditRecord.Of(caller.Name, "airlock.agreement.stored", $"{project}/{workPackage}/{path}", project,
                ("sha256", stored.Hex), ("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("volume", volume.Id)), cancellationToken).ConfigureAwait(false);
            return file;
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            await uploadSessions.AbortAsync(session.Id, CancellationToken.None).ConfigureAwait(false);
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage, $"The disk is full: the agreement was not stored ({e.Message}).");
        }
        catch
        {
            await uploadSessions.AbortAsync(session.Id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<VolumeManifest?> AgreementAsync(string project, string workPackage, CancellationToken cancellationToken) =>
        await DocumentVolumeAsync(project, workPackage, create: false, cancellationToken).ConfigureAwait(false) is { } volume
            ? await volumes.GetManifestAsync(volume.Id, cancellationToken).ConfigureAwait(false)
            : null;

    private async Task<AirlockVolume?> DocumentVolumeAsync(string project, string workPackage, bool create, CancellationToken cancellationToken)
    {
        var key = $"{project}/{workPackage}";
        var existing = (await volumes.ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(v => v.WorkPackage == key && v.Name == DocumentVolumeName);
        if (existing is not null || !create)
        {
            return existing;
        }
        try
        {
            return await volumes.CreateAsync(key, DocumentVolumeName, cancellationToken).ConfigureAwait(false);
        }
        catch (AirlockConflictException)
        {
            return (await volumes.ListAsync(cancellationToken).ConfigureAwait(false)).First(v => v.WorkPackage == key && v.Name == DocumentVolumeName);
        }
    }

    // ----- deposits (deposit token, no account) -----

    public async Task<DepositSession> DepositSessionAsync(string? token, IPAddress? remote, CancellationToken cancellationToken)
    {
        var record = await tokens.VerifyAsync(AirlockTokenKind.Deposit, token, remote, cancellationToken).ConfigureAwait(false);
        var submission = await submissions.GetAsync(record.SubmissionId, cancellationToken).ConfigureAwait(false)
            ?? throw new AirlockWorkflowException(AirlockError.TokenInvalid, "Unknown token.");
        if (submission.State != SubmissionState.Draft)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, $"The submission is {SubmissionStates.Name(submission.State)}: it takes no more files.");
        }
        return new DepositSession(record, submission);
    }

    /// <summary>
    /// Where the deposit stands, for its depositor polling after marking the transfer complete: a deposit token, live
    /// or used up by that completion (not expired, and from its address range), reads its own submission's state and
    /// reason, and nothing else (no file list, no content).
    /// </summary>
    public async Task<Submission> DepositStatusAsync(string? token, IPAddress? remote, CancellationToken cancellationToken)
    {
        var record = await tokens.VerifyAsync(AirlockTokenKind.Deposit, token, remote, allowUsedUp: true, cancellationToken).ConfigureAwait(false);
        var submission = await submissions.GetAsync(record.SubmissionId, cancellationToken).ConfigureAwait(false)
            ?? throw new AirlockWorkflowException(AirlockError.TokenInvalid, "Unknown token.");
        return await ExpireIfDueAsync(submission, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts uploading one file, or (same path, size and SHA-256) resumes the upload already open for it.</summary>
    public async Task<UploadStatus> BeginUploadAsync(
        DepositSession session, string path, long size, BlobDigest sha256, int chunkSize, CancellationToken cancellationToken)
    {
        path = NormalisePath(path);
        if (await submissions.FindOpenUploadAsync(session.Submission.VolumeId, path, cancellationToken).ConfigureAwait(false) is { } openId)
        {
            var open = (await uploads.GetStatusAsync(openId, cancellationToken).ConfigureAwait(false))!;
            if (open.Session.Size == size && open.Session.Sha256 == sha256 && open.Session.ChunkSize == chunkSize)
            {
                return open;
            }
            throw new AirlockWorkflowException(AirlockError.Conflict, $"'{path}' is already being uploaded with another size, hash or chunk size.");
        }
        var manifest = await volumes.GetManifestAsync(session.Submission.VolumeId, cancellationToken).ConfigureAwait(false);
        var used = (manifest?.TotalSize ?? 0) + await uploadSessions.OpenDeclaredBytesAsync(session.Submission.VolumeId, cancellationToken).ConfigureAwait(false);
        if (size > _storage.MaxSubmissionBytes - used)
        {
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage,
                $"Quota exceeded: the submission holds or expects {used} bytes; {size} more would pass its quota of {_storage.MaxSubmissionBytes} bytes (SafeHaven:Airlock:Storage:MaxSubmissionBytes).");
        }
        try
        {
            var started = await uploads.BeginAsync(session.Submission.VolumeId, path, size, sha256, chunkSize, cancellationToken).ConfigureAwait(false);
            return (await uploads.GetStatusAsync(started.Id, cancellationToken).ConfigureAwait(false))!;
        }
        catch (AirlockConflictException e)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, e.Message + " Files are never overwritten.");
        }
        catch (ArgumentException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, e.Message);
        }
        catch (InsufficientStorageException e)
        {
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage, e.Message);
        }
    }

    public async Task<UploadStatus> UploadStatusAsync(DepositSession session, string uploadId, CancellationToken cancellationToken)
    {
        var status = await uploads.GetStatusAsync(uploadId, cancellationToken).ConfigureAwait(false);
        return status is not null && status.Session.VolumeId == session.Submission.VolumeId
            ? status
            : throw new AirlockWorkflowException(AirlockError.NotFound, $"No upload '{uploadId}' in this deposit.");
    }

    public async Task PutChunkAsync(DepositSession session, string uploadId, long index, Stream data, BlobDigest sha256, CancellationToken cancellationToken)
    {
        await UploadStatusAsync(session, uploadId, cancellationToken).ConfigureAwait(false);
        try
        {
            await uploads.PutChunkAsync(uploadId, index, data, sha256, cancellationToken).ConfigureAwait(false);
        }
        catch (UploadRejectedException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, e.Message);
        }
        catch (AirlockConflictException e)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, e.Message);
        }
        catch (InsufficientStorageException e)
        {
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage, e.Message);
        }
    }

    public async Task<VolumeFile> CompleteUploadAsync(DepositSession session, string uploadId, CancellationToken cancellationToken)
    {
        await UploadStatusAsync(session, uploadId, cancellationToken).ConfigureAwait(false);
        try
        {
            return await uploads.CompleteAsync(uploadId, cancellationToken).ConfigureAwait(false);
        }
        catch (UploadRejectedException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, e.Message);
        }
        catch (AirlockConflictException e)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, e.Message);
        }
        catch (InsufficientStorageException e)
        {
            throw new AirlockWorkflowException(AirlockError.InsufficientStorage, e.Message);
        }
    }

    /// <summary>The depositor abandons an open upload: it ends and its chunks are removed.</summary>
    public async Task AbortUploadAsync(DepositSession session, string uploadId, CancellationToken cancellationToken)
    {
        await UploadStatusAsync(session, uploadId, cancellationToken).ConfigureAwait(false);
        try
        {
            await uploads.AbortAsync(uploadId, cancellationToken).ConfigureAwait(false);
        }
        catch (AirlockConflictException e)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, e.Message);
        }
    }

    /// <summary>
    /// The depositor marks the transfer complete: the token is used up (it can still read its submission's state, nothing
    /// more), the volume is frozen for review, and the submission waits in <c>submitted</c> for the scan job, which is
    /// nudged at once. Returns without waiting for the inspection.
    /// </summary>
    public async Task<Submission> FinishDepositAsync(DepositSession session, CancellationToken cancellationToken)
    {
        var submission = session.Submission;
        SubmissionStateMachine.Next(submission.State, SubmissionTrigger.Submit);
        if ((await submissions.ListOpenUploadsAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false)).Count is var open and > 0)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, $"{open} upload(s) are not complete yet: finish them before marking the transfer complete.");
        }
        var manifest = (await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false))!;
        if (manifest.Files.Count == 0)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, "Nothing has been deposited.");
        }
        if (submission.Script is { } script && !manifest.Files.Any(f => f.Path == script))
        {
            throw new AirlockWorkflowException(AirlockError.MissingScript, $"The egress submission must include the script that produced it: '{script}' is missing.");
        }
        if (!await tokens.EndAsync(session.Token.Id, cancellationToken).ConfigureAwait(false))
        {
            throw new AirlockWorkflowException(AirlockError.TokenUsed, "This token was already used up.");
        }
        await tokens.EndAllAsync(submission.Id, AirlockTokenKind.Deposit, cancellationToken).ConfigureAwait(false);
        await volumes.SetModeAsync(submission.VolumeId, VolumeMode.Review, cancellationToken).ConfigureAwait(false);
        var actor = submission.Kind == SubmissionKind.Egress ? submission.Depositor! : $"deposit-token:{session.Token.Id}";
        await MoveAsync(submission, SubmissionTrigger.Submit, actor, "transfer marked complete", cancellationToken,
            ("files", manifest.Files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("volumeSha256", manifest.VolumeDigest.Hex), ("depositor", submission.Depositor)).ConfigureAwait(false);
        await PokeScannerAsync().ConfigureAwait(false);
        return await GetAsync(submission.Id, CancellationToken.None).ConfigureAwait(false);
    }

    // ----- inspection (run by the scan job, off the request path) -----

    /// <summary>The longest an inspection may take from entering <c>scanning</c> (<c>SafeHaven:Airlock:ScanTimeoutSeconds</c>).</summary>
    public TimeSpan ScanTimeout => _scanTimeout;

    private string TimedOut => $"inspection timed out after {_scanTimeout.TotalSeconds:0} s (SafeHaven:Airlock:ScanTimeoutSeconds); rescan to try again";

    /// <summary>
    /// Inspects a submission its caller (the scan job) has claimed: a <c>submitted</c> one enters <c>scanning</c>; a
    /// <c>scanning</c> one (its worker died, or the appliance restarted) resumes. The inspection ends in <c>in_review</c>
    /// (or approved, when no sign-off is required), <c>blocked</c>, or <c>failed</c>, at the latest when
    /// <see cref="ScanTimeout"/> has passed since it entered <c>scanning</c>. <paramref name="abandon"/> (the host
    /// stopping, the claim lost) stops it without a verdict: it stays in <c>scanning</c> for the next worker.
    /// </summary>
    public async Task<Submission> InspectAsync(string id, string worker, CancellationToken abandon)
    {
        var submission = await GetAsync(id, abandon).ConfigureAwait(false);
        if (submission.State == SubmissionState.Submitted)
        {
            submission = await MoveAsync(submission, SubmissionTrigger.StartScan, "airlock", "inspection started", abandon, ("worker", worker)).ConfigureAwait(false);
        }
        else if (submission.State == SubmissionState.Scanning)
        {
            await audit.AppendAsync(AuditRecord.Of("airlock", "airlock.submission.scan-resumed", Target(submission), submission.Project,
                ("worker", worker), ("scanningSince", submission.UpdatedAt.ToString("O"))), abandon).ConfigureAwait(false);
        }
        else
        {
            return submission;
        }
        var done = CancellationToken.None;
        var remaining = submission.UpdatedAt + _scanTimeout - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return await SettleAsync(submission, SubmissionTrigger.ScanFailed, TimedOut).ConfigureAwait(false);
        }
        var manifest = (await volumes.GetManifestAsync(submission.VolumeId, abandon).ConfigureAwait(false))!;
        InspectionReport report;
        using var timeout = new CancellationTokenSource(remaining);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, abandon);
        try
        {
            report = await inspector.InspectAsync(manifest.Files.Select(f => (f.Path, f.Sha256)), files, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return await SettleAsync(submission, SubmissionTrigger.ScanFailed, TimedOut).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogScanError(logger, submission.Id, e);
            return await SettleAsync(submission, SubmissionTrigger.ScanFailed, $"inspection could not finish: {e.Message}").ConfigureAwait(false);
        }
        abandon.ThrowIfCancellationRequested();
        if (timeout.IsCancellationRequested)
        {
            return await SettleAsync(submission, SubmissionTrigger.ScanFailed, TimedOut).ConfigureAwait(false);
        }
        var findings = report.Files.SelectMany(f => f.Findings).ToList();
        if (report.Verdict == InspectionVerdict.Blocked)
        {
            var reason = string.Join("; ", findings.Where(f => f.Verdict == InspectionVerdict.Blocked).Take(20).Select(f => $"{f.Path}: {f.Kind}: {f.Reason}"));
            return await SettleAsync(submission, SubmissionTrigger.ScanBlocked, $"blocked by inspection: {reason}").ConfigureAwait(false);
        }
        if (report.Verdict == InspectionVerdict.Failed)
        {
            var reason = string.Join("; ", findings.Take(20).Select(f => $"{f.Path}: {f.Reason}"));
            return await SettleAsync(submission, SubmissionTrigger.ScanFailed, $"inspection could not finish: {reason}").ConfigureAwait(false);
        }
        submission = await SettleAsync(submission, SubmissionTrigger.ScanPassed, $"inspection clean ({report.Files.Count} files)").ConfigureAwait(false);
        return await ApproveIfCompleteAsync(submission, done).ConfigureAwait(false);
    }

    /// <summary>
    /// The watchdog: every submission in <c>scanning</c> for longer than <see cref="ScanTimeout"/> moves to
    /// <c>failed</c> (rescannable) with the reason, whether or not a worker still holds it. Returns those it failed.
    /// </summary>
    public async Task<IReadOnlyList<string>> FailOverdueScansAsync(CancellationToken cancellationToken)
    {
        var failed = new List<string>();
        var now = _time.GetUtcNow();
        foreach (var submission in await submissions.ListInStatesAsync([SubmissionState.Scanning], cancellationToken).ConfigureAwait(false))
        {
            if (submission.UpdatedAt + _scanTimeout <= now
                && (await SettleAsync(submission, SubmissionTrigger.ScanFailed, TimedOut).ConfigureAwait(false)).State == SubmissionState.Failed)
            {
                failed.Add(submission.Id);
            }
        }
        return failed;
    }

    /// <summary>Records an inspection's outcome unless the submission moved meanwhile (the watchdog came first): then as it is.</summary>
    private async Task<Submission> SettleAsync(Submission submission, SubmissionTrigger trigger, string reason)
    {
        try
        {
            return await MoveAsync(submission, trigger, "airlock", reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AirlockWorkflowException e) when (e.Error == AirlockError.WrongState)
        {
            return await GetAsync(submission.Id, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Queues a failed inspection again (a scanner timeout is never final): the project's Project Manager or
    /// Investigator. The submission goes back to <c>submitted</c> and the scan job takes it from there.
    /// </summary>
    public async Task<Submission> RescanAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        RequireRole(caller, submission.Project, [Role.ProjectManager, Role.Investigator], "rescan a submission");
        submission = await MoveAsync(submission, SubmissionTrigger.Rescan, caller.Name, "rescan requested", cancellationToken).ConfigureAwait(false);
        await PokeScannerAsync().ConfigureAwait(false);
        return submission;
    }

    private async Task PokeScannerAsync()
    {
        if (scanTrigger is null)
        {
            return;
        }
        try
        {
            await scanTrigger.PokeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The scan job also polls: a failed nudge only delays the inspection until its next run.
            LogPokeFailed(logger, e);
        }
    }

    // ----- reviews -----

    /// <summary>The depositor confirms the SHA-256 of every file they sent; a mismatch blocks the submission and alerts.</summary>
    public async Task<Submission> ConfirmHashAsync(Caller caller, string id, IReadOnlyDictionary<string, string> sha256ByPath, CancellationToken cancellationToken)
    {
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (!SignOffRules.DepositorConfirmsHash.Contains(submission.Kind))
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, $"A {SubmissionStates.Name(submission.Kind)} submission needs no hash confirmation.");
        }
        if (caller.Name != submission.Depositor || !caller.Has(submission.Project, Role.DatasetProviderRepresentative))
        {
            throw new AirlockWorkflowException(AirlockError.WrongRole, "Only the submission's depositor (a Dataset Provider Representative of the project) confirms its hashes.");
        }
        if (submission.State != SubmissionState.InReview)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, $"Hashes are confirmed in review; the submission is {SubmissionStates.Name(submission.State)}.");
        }
        var manifest = (await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false))!;
        var problems = new List<string>();
        foreach (var file in manifest.Files)
        {
            if (!sha256ByPath.TryGetValue(file.Path, out var theirs))
            {
                problems.Add($"'{file.Path}' was received but the depositor lists no hash for it");
            }
            else if (!string.Equals(theirs, file.Sha256.Hex, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"'{file.Path}': the depositor's SHA-256 {theirs} differs from the appliance's {file.Sha256.Hex}");
            }
        }
        problems.AddRange(sha256ByPath.Keys.Where(p => !manifest.Files.Any(f => f.Path == p)).Select(p => $"'{p}' was never received"));
        if (problems.Count > 0)
        {
            var reason = "depositor's SHA-256 does not match: " + string.Join("; ", problems.Take(20));
            await MoveAsync(submission, SubmissionTrigger.HashMismatch, caller.Name, reason, cancellationToken).ConfigureAwait(false);
            await alerts.RaiseAsync("hash-mismatch", Target(submission), submission.Project, $"Data ingress {submission.Id} of {submission.Project}/{submission.WorkPackage}: {reason}", cancellationToken).ConfigureAwait(false);
            throw new AirlockWorkflowException(AirlockError.HashMismatch, reason + ". The submission is blocked; the Programme and Project Managers have been alerted.");
        }
        await ChangeAsync(async (connection, transaction) =>
        {
            await submissions.SetHashConfirmedAsync(connection, transaction, id, caller.Name, cancellationToken).ConfigureAwait(false);
            return (true, AuditRecord.Of(caller.Name, "airlock.submission.hash-confirmed", Target(submission), submission.Project,
                ("volumeSha256", manifest.VolumeDigest.Hex)));
        }, cancellationToken).ConfigureAwait(false);
        return await ApproveIfCompleteAsync(await GetAsync(id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records one reviewer's decision with its reason, in the first required role they hold that has not decided.</summary>
    public async Task<Submission> ReviewAsync(Caller caller, string id, ReviewDecision decision, string reason, CancellationToken cancellationToken)
    {
        if (!Names.IsText(reason))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"Every decision carries a reason ({Names.TextRule}).");
        }
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        var required = SignOffRules.RequiredFor(submission.Kind, submission.Tier);
        var held = required.Where(r => caller.Has(submission.Project, r)).ToList();
        if (held.Count == 0)
        {
            throw new AirlockWorkflowException(AirlockError.WrongRole, required.Count == 0
                ? $"A {SubmissionStates.Name(submission.Kind)} submission at tier {submission.Tier} needs no sign-off."
                : $"Sign-off here needs one of: {string.Join(", ", required)} of project '{submission.Project}'.");
        }
        if (caller.Name == submission.CreatedBy || caller.Name == submission.Depositor)
        {
            throw new AirlockWorkflowException(AirlockError.SelfReview, "A reviewer cannot review their own submission.");
        }
        if (submission.State != SubmissionState.InReview)
        {
            throw new AirlockWorkflowException(AirlockError.WrongState, $"Decisions are recorded in review; the submission is {SubmissionStates.Name(submission.State)}.");
        }
        var signOffs = await submissions.ListSignOffsAsync(id, cancellationToken).ConfigureAwait(false);
        var decided = signOffs.Select(s => s.Role).ToHashSet();
        if (signOffs.FirstOrDefault(s => s.Reviewer == caller.Name) is { } own && held.Any(r => !decided.Contains(r)))
        {
            throw new AirlockWorkflowException(AirlockError.SeparationOfDuties,
                $"You already signed off this submission as {own.Role}; each required sign-off must come from a different person.");
        }
        var role = held.Where(r => !decided.Contains(r)).Cast<Role?>().FirstOrDefault()
            ?? throw new AirlockWorkflowException(AirlockError.Conflict, $"Your role(s) {string.Join(", ", held)} have already signed off this submission.");
        var signOff = new SignOff(id, role, caller.Name, decision, reason, _time.GetUtcNow());
        var added = await ChangeAsync(async (connection, transaction) =>
            await submissions.AddSignOffAsync(connection, transaction, signOff, cancellationToken).ConfigureAwait(false)
                ? (true, AuditRecord.Of(caller.Name, $"airlock.review.{SubmissionStates.Name(decision)}", Target(submission), submission.Project,
                    ("role", role.ToString()), ("reason", reason)))
                : (false, null), cancellationToken).ConfigureAwait(false);
        if (!added)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, $"The {role} sign-off is already recorded.");
        }
        if (decision == ReviewDecision.Reject)
        {
            return await MoveAsync(submission, SubmissionTrigger.Reject, caller.Name, $"rejected by {role} {caller.Name}: {reason}", cancellationToken).ConfigureAwait(false);
        }
        return await ApproveIfCompleteAsync(submission, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What still stands between an in-review submission and approval (empty: nothing).</summary>
    public async Task<IReadOnlyList<string>> MissingForApprovalAsync(Submission submission, CancellationToken cancellationToken)
    {
        // One person counts for one sign-off only (their earliest), even if a store holds more.
        var signed = (await submissions.ListSignOffsAsync(submission.Id, cancellationToken).ConfigureAwait(false))
            .OrderBy(s => s.At).GroupBy(s => s.Reviewer, StringComparer.Ordinal).Select(g => g.First())
            .Where(s => s.Decision == ReviewDecision.Approve).Select(s => s.Role).ToHashSet();
        var missing = SignOffRules.RequiredFor(submission.Kind, submission.Tier).Where(r => !signed.Contains(r)).Select(r => $"{r} sign-off").ToList();
        if (SignOffRules.DepositorConfirmsHash.Contains(submission.Kind) && submission.HashConfirmedBy is null)
        {
            missing.Add("the depositor's SHA-256 confirmation");
        }
        return missing;
    }

    private async Task<Submission> ApproveIfCompleteAsync(Submission submission, CancellationToken cancellationToken)
    {
        if (submission.State != SubmissionState.InReview || (await MissingForApprovalAsync(submission, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            return submission;
        }
        var required = SignOffRules.RequiredFor(submission.Kind, submission.Tier);
        await volumes.SetModeAsync(submission.VolumeId, VolumeMode.Internal, cancellationToken).ConfigureAwait(false);
        return await MoveAsync(submission, SubmissionTrigger.Approve, "airlock", required.Count == 0
            ? $"no sign-off required for {SubmissionStates.Name(submission.Kind)} at tier {submission.Tier}"
            : $"all required sign-offs recorded ({string.Join(", ", required)})", cancellationToken).ConfigureAwait(false);
    }

    // ----- cancel, revoke, release -----

    public async Task<Submission> CancelAsync(Caller caller, string id, string reason, CancellationToken cancellationToken)
    {
        RequireReason(reason);
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (caller.Name != submission.CreatedBy && !caller.Has(submission.Project, Role.ProjectManager))
        {
            throw new AirlockWorkflowException(AirlockError.WrongRole, "Only whoever opened the submission, or the project's Project Manager, can cancel it.");
        }
        SubmissionStateMachine.Next(submission.State, SubmissionTrigger.Cancel);
        await tokens.EndAllAsync(id, AirlockTokenKind.Deposit, cancellationToken).ConfigureAwait(false);
        return await MoveAsync(submission, SubmissionTrigger.Cancel, caller.Name, reason, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Submission> RevokeAsync(Caller caller, string id, string reason, CancellationToken cancellationToken)
    {
        RequireReason(reason);
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        RequireRole(caller, submission.Project, SignOffRules.Releasers, "revoke an approved submission");
        SubmissionStateMachine.Next(submission.State, SubmissionTrigger.Revoke);
        var ended = await tokens.EndAllAsync(id, AirlockTokenKind.Release, cancellationToken).ConfigureAwait(false);
        return await MoveAsync(submission, SubmissionTrigger.Revoke, caller.Name, reason, cancellationToken,
            ("releaseTokensEnded", ended.ToString(System.Globalization.CultureInfo.InvariantCulture))).ConfigureAwait(false);
    }

    /// <summary>Releases an approved egress submission: a time-limited, read-only download token (optionally bound to a range).</summary>
    public async Task<(AirlockTokenRecord Record, string Token)> ReleaseAsync(
        Caller caller, string id, TimeSpan lifetime, string? allowedRange, string reason, CancellationToken cancellationToken)
    {
        RequireReason(reason);
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        RequireRole(caller, submission.Project, SignOffRules.Releasers, "release outputs");
        if (submission.Kind != SubmissionKind.Egress)
        {
            throw new AirlockWorkflowException(AirlockError.Conflict, "Only egress submissions are released outside.");
        }
        if (submission.State != SubmissionState.Approved)
        {
            throw new AirlockWorkflowException(submission.State == SubmissionState.InReview ? AirlockError.MissingSignOff : AirlockError.WrongState,
                $"Only approved outputs are released; the submission is {SubmissionStates.Name(submission.State)}"
                + (submission.State == SubmissionState.InReview ? $" (missing: {string.Join(", ", await MissingForApprovalAsync(submission, cancellationToken).ConfigureAwait(false))})." : "."));
        }
        return await ChangeAsync(async (connection, transaction) =>
        {
            var issued = await tokens.IssueAsync(connection, transaction, AirlockTokenKind.Release, id, lifetime, allowedRange, caller.Name, cancellationToken).ConfigureAwait(false);
            return (issued, AuditRecord.Of(caller.Name, "airlock.submission.released", Target(submission), submission.Project,
                ("reason", reason), ("releaseTokenId", issued.Record.Id), ("expires", issued.Record.ExpiresAt.ToString("O")), ("allowedRange", issued.Record.AllowedRange)));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The released submission a release token reads.</summary>
    public async Task<(Submission Submission, VolumeManifest Manifest, AirlockTokenRecord Token)> ReleasedAsync(string? token, IPAddress? remote, CancellationToken cancellationToken)
    {
        var record = await tokens.VerifyAsync(AirlockTokenKind.Release, token, remote, cancellationToken).ConfigureAwait(false);
        var submission = await GetAsync(record.SubmissionId, cancellationToken).ConfigureAwait(false);
        if (submission.State != SubmissionState.Approved)
        {
            throw new AirlockWorkflowException(AirlockError.TokenUsed, $"The release was withdrawn: the submission is {SubmissionStates.Name(submission.State)}.");
        }
        return (submission, (await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false))!, record);
    }

    // ----- reads -----

    public async Task<SubmissionDetails> DetailsAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var submission = await ExpireIfDueAsync(await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var canRead = CanRead(caller, submission);
        return new SubmissionDetails(submission, SignOffRules.RequiredFor(submission.Kind, submission.Tier),
            await submissions.ListSignOffsAsync(id, cancellationToken).ConfigureAwait(false),
            SignOffRules.DepositorConfirmsHash.Contains(submission.Kind),
            canRead ? await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false) : null, canRead);
    }

    public async Task<IReadOnlyList<Submission>> ListAsync(Caller caller, string? project, CancellationToken cancellationToken)
    {
        var all = await submissions.ListAsync(project, cancellationToken).ConfigureAwait(false);
        var visible = new List<Submission>();
        foreach (var submission in all.Where(s => caller.CanSee(s.Project)))
        {
            visible.Add(await ExpireIfDueAsync(submission, cancellationToken).ConfigureAwait(false));
        }
        return visible;
    }

    /// <summary>
    /// Opens a file for reading: in review only the required reviewers; once approved (internal, read-only) the
    /// project's members. Nobody reads a volume still taking deposits, the depositor included.
    /// </summary>
    public async Task<(VolumeFile File, Stream Content)> OpenFileAsync(Caller caller, string id, string path, CancellationToken cancellationToken)
    {
        var submission = await VisibleAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (!CanRead(caller, submission))
        {
            throw new AirlockWorkflowException(AirlockError.WrongRole, submission.State == SubmissionState.InReview
                ? $"In review, only the required reviewers ({string.Join(", ", SignOffRules.RequiredFor(submission.Kind, submission.Tier))}) can read the files."
                : $"Files of a {SubmissionStates.Name(submission.State)} submission are not readable by you.");
        }
        var manifest = (await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false))!;
        return await OpenAsync(manifest, path, cancellationToken).ConfigureAwait(false);
    }

    public async Task<(VolumeFile File, Stream Content)> OpenAsync(VolumeManifest manifest, string path, CancellationToken cancellationToken)
    {
        var file = manifest.Files.FirstOrDefault(f => f.Path == path)
            ?? throw new AirlockWorkflowException(AirlockError.NotFound, $"No file '{path}'.");
        var stream = await files.OpenReadAsync(file.Sha256, cancellationToken).ConfigureAwait(false)
            ?? throw new AirlockWorkflowException(AirlockError.NotFound, $"The content of '{path}' is missing from storage (the integrity job reports it).");
        return (file, stream);
    }

    public bool CanRead(Caller caller, Submission submission) => submission.State switch
    {
        SubmissionState.InReview => SignOffRules.RequiredFor(submission.Kind, submission.Tier).Any(r => caller.Has(submission.Project, r)),
        SubmissionState.Approved => caller.ProjectRoles.ContainsKey(submission.Project),
        _ => false,
    };

    public async Task<Submission> GetAsync(string id, CancellationToken cancellationToken) =>
        await submissions.GetAsync(id, cancellationToken).ConfigureAwait(false)
        ?? throw new AirlockWorkflowException(AirlockError.NotFound, $"No submission '{id}'.");

    // ----- helpers -----

    private async Task<Submission> VisibleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var submission = await submissions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return submission is not null && caller.CanSee(submission.Project)
            ? submission
            : throw new AirlockWorkflowException(AirlockError.NotFound, $"No submission '{id}'.");
    }

    /// <summary>A draft whose deposit tokens have all expired unused is <c>expired</c>.</summary>
    private async Task<Submission> ExpireIfDueAsync(Submission submission, CancellationToken cancellationToken)
    {
        if (submission.State != SubmissionState.Draft)
        {
            return submission;
        }
        var deposit = (await tokens.ListAsync(submission.Id, cancellationToken).ConfigureAwait(false)).Where(t => t.Kind == AirlockTokenKind.Deposit).ToList();
        var now = _time.GetUtcNow();
        if (deposit.Count == 0 || deposit.Any(t => t.EndedAt is null && t.ExpiresAt > now))
        {
            return submission;
        }
        try
        {
            return await MoveAsync(submission, SubmissionTrigger.Expire, "airlock", $"deposit window closed at {deposit.Max(t => t.ExpiresAt):O}", cancellationToken).ConfigureAwait(false);
        }
        catch (AirlockWorkflowException)
        {
            return await GetAsync(submission.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Submission> MoveAsync(
        Submission submission, SubmissionTrigger trigger, string actor, string reason, CancellationToken cancellationToken, params (string Key, string? Value)[] details)
    {
        var to = SubmissionStateMachine.Next(submission.State, trigger);
        // The state change and its audit entry are one step for this submission: the scan job moves submissions
        // concurrently with requests, and the log must list a submission's transitions in the order they happened.
        var gate = _moveGates[(int)((uint)StringComparer.Ordinal.GetHashCode(submission.Id) % (uint)_moveGates.Length)];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = AuditRecord.Of(actor, "airlock.submission." + SubmissionStates.Name(to), Target(submission), submission.Project,
                [("from", SubmissionStates.Name(submission.State)), ("trigger", SubmissionStates.Name(trigger)), ("reason", reason), .. details]);
            // One transaction: the transition is never visible without its audit entry, on either provider.
            var moved = await ChangeAsync(async (connection, transaction) =>
                await submissions.TransitionAsync(connection, transaction, submission.Id, submission.State, to, reason, cancellationToken).ConfigureAwait(false)
                    ? (true, record)
                    : (false, null), cancellationToken).ConfigureAwait(false);
            if (!moved)
            {
                var now = await GetAsync(submission.Id, cancellationToken).ConfigureAwait(false);
                throw new AirlockWorkflowException(AirlockError.WrongState, $"The submission moved to {SubmissionStates.Name(now.State)} meanwhile.");
            }
        }
        finally
        {
            gate.Release();
        }
        LogTransition(logger, submission.Id, SubmissionStates.Name(submission.State), SubmissionStates.Name(to), reason);
        return (await submissions.GetAsync(submission.Id, CancellationToken.None).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Runs <paramref name="change"/> on the airlock's tables and appends the audit entry it returns (if any) in the same
    /// transaction of the appliance's database: both commit, or neither.
    /// </summary>
    private Task<T> ChangeAsync<T>(Func<DbConnection, DbTransaction, Task<(T Result, AuditRecord? Audit)>> change, CancellationToken cancellationToken) =>
        submissions.Database.WriteAsync(async (connection, transaction) =>
        {
            var (result, record) = await change(connection, transaction).ConfigureAwait(false);
            if (record is not null)
            {
                await AuditInTransaction.AppendAsync(submissions.Database, connection, transaction, record, _time, cancellationToken).ConfigureAwait(false);
            }
            return result;
        }, cancellationToken);

    private readonly SemaphoreSlim[] _moveGates = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];

    private async Task<int> TierOfAsync(string project, string workPackage, CancellationToken cancellationToken)
    {
        var outcome = WorkPackageClassification.Decide(await projects.GetClassificationsAsync(project, workPackage, cancellationToken).ConfigureAwait(false));
        return outcome.AgreedTier ?? throw new AirlockWorkflowException(AirlockError.TierNotAgreed,
            $"Work package '{project}/{workPackage}' has no agreed tier yet: {outcome.Explanation}");
    }

    private static void RequireRole(Caller caller, string project, IReadOnlyList<Role> roles, string what)
    {
        if (!roles.Any(r => caller.Has(project, r)))
        {
            throw new AirlockWorkflowException(AirlockError.WrongRole, $"To {what} you need to be {string.Join(" or ", roles)} of project '{project}'.");
        }
    }

    private static void RequireReason(string reason)
    {
        if (!Names.IsText(reason))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"Every decision carries a reason ({Names.TextRule}).");
        }
    }

    private static string NormalisePath(string path)
    {
        try
        {
            return VolumePath.Normalise(path);
        }
        catch (ArgumentException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, e.Message);
        }
    }

    private static string Target(Submission submission) => $"airlock/{submission.Id}";

    private static async Task CopyBoundedAsync(Stream content, IBlobWriter writer, long size, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (writer.Length + read > size)
                {
                    throw new AirlockWorkflowException(AirlockError.Invalid, $"The body is longer than the declared {size} bytes.");
                }
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (writer.Length != size)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"The body has {writer.Length} bytes, not the declared {size}.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Airlock submission {Id}: {From} -> {To} ({Reason})")]
    private static partial void LogTransition(ILogger logger, string id, string from, string to, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Airlock: could not nudge the scan job (it runs on its next poll)")]
    private static partial void LogPokeFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Airlock submission {Id}: inspection failed")]
    private static partial void LogScanError(ILogger logger, string id, Exception exception);
}
