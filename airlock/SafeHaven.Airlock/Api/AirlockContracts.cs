using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;

namespace SafeHaven.Airlock.Api;

public sealed record OpenRequest(string Project, string WorkPackage, string Kind, string? Depositor = null, string? Script = null, int? DepositHours = null, string? AllowedRange = null);

public sealed record ReviewRequest(string Decision, string Reason);

public sealed record ReasonRequest(string Reason);

public sealed record ReleaseRequest(string Reason, int Hours = 24, string? AllowedRange = null);

public sealed record ConfirmHashRequest(Dictionary<string, string> Files);

public sealed record BeginUploadRequest(string Path, long Size, string Sha256, int ChunkSize);

public sealed record FileView(string Path, string Sha256, long Size, DateTimeOffset AddedAt)
{
    public static FileView Of(VolumeFile f) => new(f.Path, f.Sha256.Hex, f.Size, f.AddedAt);
}

public sealed record SignOffView(string Role, string Reviewer, string Decision, string Reason, DateTimeOffset At);

public sealed record SubmissionView(
    string Id, string Project, string WorkPackage, string Kind, int Tier, string State, string? StateReason, string CreatedBy,
    string? Depositor, string? Script, IReadOnlyList<string> RequiredSignOffs, IReadOnlyList<SignOffView> SignOffs,
    bool HashConfirmationRequired, string? HashConfirmedBy, IReadOnlyList<string> MissingForApproval,
    IReadOnlyList<FileView>? Files, string? VolumeSha256, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static SubmissionView Of(Submission s, SubmissionDetails? details = null, IReadOnlyList<string>? missing = null) => new(
        s.Id, s.Project, s.WorkPackage, SubmissionStates.Name(s.Kind), s.Tier, SubmissionStates.Name(s.State), s.StateReason, s.CreatedBy,
        s.Depositor, s.Script, (details?.RequiredSignOffs ?? []).Select(r => r.ToString()).ToList(),
        (details?.SignOffs ?? []).Select(o => new SignOffView(o.Role.ToString(), o.Reviewer, SubmissionStates.Name(o.Decision), o.Reason, o.At)).ToList(),
        details?.HashConfirmationRequired ?? false, s.HashConfirmedBy, missing ?? [],
        details?.Manifest?.Files.Select(FileView.Of).ToList(), details?.Manifest?.VolumeDigest.Hex, s.CreatedAt, s.UpdatedAt);
}

/// <summary><see cref="DepositPage"/>: the browser page the depositor opens (path on this appliance; the token travels in the URL fragment, never sent).</summary>
public sealed record OpenedView(SubmissionView Submission, string DepositToken, DateTimeOffset DepositTokenExpiresAt, string? AllowedRange, string Note, string DepositPage);

/// <summary><see cref="ReleasePage"/>: the browser page listing the released files (path; the token in the URL fragment).</summary>
public sealed record ReleasedView(string SubmissionId, string ReleaseToken, DateTimeOffset ExpiresAt, string? AllowedRange, string Note, string ReleasePage);

/// <summary>What a deposit token reads of its own submission once the transfer is complete: its state, never its files.</summary>
public sealed record DepositStatusView(string SubmissionId, string Kind, string State, string? StateReason, DateTimeOffset UpdatedAt, string StatusUrl, string? Note);

public sealed record DepositView(string SubmissionId, string Kind, string State, DateTimeOffset TokenExpiresAt, string? Script);

public sealed record UploadStatusView(
    string UploadId, string Path, long Size, string Sha256, int ChunkSize, long ChunkCount, IReadOnlyList<long> ReceivedChunks, long? NextMissingChunk, string State)
{
    public static UploadStatusView Of(UploadStatus s) => new(s.Session.Id, s.Session.Path, s.Session.Size, s.Session.Sha256.Hex, s.Session.ChunkSize,
        s.Session.ChunkCount, s.ReceivedChunks, s.NextMissingChunk, s.Session.State.ToString().ToLowerInvariant());
}

public sealed record ReleaseManifestView(string SubmissionId, string Project, string WorkPackage, string VolumeSha256, DateTimeOffset ExpiresAt, IReadOnlyList<FileView> Files);
