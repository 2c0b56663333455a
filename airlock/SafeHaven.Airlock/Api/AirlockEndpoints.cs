using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Core.Blobs;
using SafeHaven.Management.Identity;

namespace SafeHaven.Airlock.Api;

/// <summary>
/// <c>/api/airlock/**</c> for people with accounts (Bearer, roles from the management store) and two URL spaces
/// for people outside without one: <c>/airlock/deposit/**</c> (header <see cref="DepositTokenHeader"/>: add files
/// only; no list, no read, no overwrite) and <c>/airlock/release/**</c> (header <see cref="ReleaseTokenHeader"/>:
/// read-only download of released outputs). Every refusal is RFC 7807 with a stable <c>code</c>.
/// </summary>
internal static class AirlockEndpoints
{
    public const string DepositTokenHeader = "X-SafeHaven-Deposit-Token";
    public const string ReleaseTokenHeader = "X-SafeHaven-Release-Token";
    public const string ChunkSha256Header = "X-Chunk-SHA256";
    public const string ContentSha256Header = "X-Content-SHA256";
    public const string DepositStatusPath = "/airlock/deposit/status";

    /// <summary>The web application's pages for the two links: the token goes after <c>#</c> (a fragment is never sent to a server).</summary>
    public const string DepositPage = "/airlock/deposits";

    public const string ReleasePage = "/airlock/released";

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/airlock").RequireAuthorization().AddEndpointFilter(CatchRefusals).WithTags("airlock");
        api.MapPost("/submissions", OpenAsync).WithSummary("Open a submission (data ingress: Project Manager, after the agreement; software ingress: project member; egress: Researcher or Investigator). Returns the deposit token once.");
        api.MapGet("/submissions", async (HttpContext http, AirlockWorkflow workflow, string? project, CancellationToken ct) =>
            AirlockJson.Ok((await workflow.ListAsync(CallerOf(http), project, ct).ConfigureAwait(false)).Select(s => SubmissionView.Of(s)).ToList()))
            .WithSummary("Submissions in the caller's projects.");
        api.MapGet("/submissions/{id}", DetailsAsync).WithSummary("A submission: state, required and recorded sign-offs, files (for those who may read them).");
        api.MapPost("/submissions/{id}/reviews", async (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var request = await AirlockJson.ReadAsync<ReviewRequest>(http.Request, ct).ConfigureAwait(false);
            if (!SubmissionStates.TryParse<ReviewDecision>(request.Decision, out var decision))
            {
                throw new AirlockWorkflowException(AirlockError.Invalid, "decision: approve or reject.");
            }
            await workflow.ReviewAsync(CallerOf(http), id, decision, request.Reason, ct).ConfigureAwait(false);
            return await DetailsAsync(id, http, workflow, ct).ConfigureAwait(false);
        }).WithSummary("Record a sign-off (approve or reject, with a reason) in a required role.");
        api.MapPost("/submissions/{id}/confirm-hash", async (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var request = await AirlockJson.ReadAsync<ConfirmHashRequest>(http.Request, ct).ConfigureAwait(false);
            await workflow.ConfirmHashAsync(CallerOf(http), id, request.Files, ct).ConfigureAwait(false);
            return await DetailsAsync(id, http, workflow, ct).ConfigureAwait(false);
        }).WithSummary("The depositor confirms the SHA-256 of every file (path → hex); a mismatch blocks and alerts.");
        api.MapPost("/submissions/{id}/cancel", (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
            WithReasonAsync(id, http, workflow, workflow.CancelAsync, ct));
        api.MapPost("/submissions/{id}/revoke", (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
            WithReasonAsync(id, http, workflow, workflow.RevokeAsync, ct));
        api.MapPost("/submissions/{id}/rescan", async (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            await workflow.RescanAsync(CallerOf(http), id, ct).ConfigureAwait(false);
            http.Response.Headers.Location = $"/api/airlock/submissions/{Uri.EscapeDataString(id)}";
            return await DetailsWithStatusAsync(id, http, workflow, ct, StatusCodes.Status202Accepted).ConfigureAwait(false);
        }).WithSummary("Queue a failed inspection again (Project Manager or Investigator): 202, poll the Location.");
        api.MapPost("/submissions/{id}/release", async (string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var request = await AirlockJson.ReadAsync<ReleaseRequest>(http.Request, ct).ConfigureAwait(false);
            var (record, token) = await workflow.ReleaseAsync(CallerOf(http), id, TimeSpan.FromHours(request.Hours), request.AllowedRange, request.Reason, ct).ConfigureAwait(false);
            return AirlockJson.Ok(new ReleasedView(id, token, record.ExpiresAt, record.AllowedRange,
                $"Shown once. Download with header {ReleaseTokenHeader} from /airlock/release until it expires, or in a browser at {ReleasePage}#<token>.",
                ReleasePage + "#" + token), StatusCodes.Status201Created);
        }).WithSummary("Release approved outputs: a time-limited read-only download token, shown once.");
        api.MapGet("/submissions/{id}/files/{**path}", async (string id, string path, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var (file, content) = await workflow.OpenFileAsync(CallerOf(http), id, path, ct).ConfigureAwait(false);
            return FileResult(http, file.Sha256, content);
        }).WithSummary("Read a file: required reviewers in review, project members once approved (internal, read-only).");
        api.MapPut("/projects/{project}/workpackages/{workPackage}/agreement/{name}", async (string project, string workPackage, string name, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            AllowLargeBody(http);
            var (size, sha) = Declared(http, ContentSha256Header);
            var file = await workflow.StoreAgreementAsync(CallerOf(http), project, workPackage, name, size, sha, http.Request.Body, ct).ConfigureAwait(false);
            return AirlockJson.Ok(FileView.Of(file), StatusCodes.Status201Created);
        }).WithSummary("Store a signed data-sharing agreement in the work package's document volume (Project Manager).");

        var deposit = app.MapGroup("/airlock/deposit").AllowAnonymous().AddEndpointFilter(CatchRefusals).WithTags("airlock-deposit");
        deposit.MapGet("/", async (HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            return AirlockJson.Ok(new DepositView(session.Submission.Id, SubmissionStates.Name(session.Submission.Kind),
                SubmissionStates.Name(session.Submission.State), session.Token.ExpiresAt, session.Submission.Script));
        });
        deposit.MapPost("/uploads", async (HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            var request = await AirlockJson.ReadAsync<BeginUploadRequest>(http.Request, ct).ConfigureAwait(false);
            if (!BlobDigest.TryParse(request.Sha256?.ToLowerInvariant(), out var sha))
            {
                throw new AirlockWorkflowException(AirlockError.Invalid, "sha256: 64 hex digits.");
            }
            if (request.ChunkSize is < UploadService.MinChunkSize or > UploadService.MaxChunkSize || request.Size < 0)
            {
                throw new AirlockWorkflowException(AirlockError.Invalid, $"chunkSize: {UploadService.MinChunkSize} to {UploadService.MaxChunkSize}; size: 0 or more.");
            }
            var status = await workflow.BeginUploadAsync(session, request.Path, request.Size, sha, request.ChunkSize, ct).ConfigureAwait(false);
            return AirlockJson.Ok(UploadStatusView.Of(status), StatusCodes.Status201Created);
        });
        deposit.MapGet("/uploads/{uploadId}", async (string uploadId, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            return AirlockJson.Ok(UploadStatusView.Of(await workflow.UploadStatusAsync(session, uploadId, ct).ConfigureAwait(false)));
        });
        deposit.MapPut("/uploads/{uploadId}/chunks/{index:long}", async (string uploadId, long index, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            AllowLargeBody(http);
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            if (!BlobDigest.TryParse(http.Request.Headers[ChunkSha256Header].ToString().ToLowerInvariant(), out var sha))
            {
                throw new AirlockWorkflowException(AirlockError.Invalid, $"{ChunkSha256Header}: the chunk's SHA-256 (64 hex digits).");
            }
            await workflow.PutChunkAsync(session, uploadId, index, http.Request.Body, sha, ct).ConfigureAwait(false);
            return Results.NoContent();
        });
        deposit.MapDelete("/uploads/{uploadId}", async (string uploadId, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            await workflow.AbortUploadAsync(session, uploadId, ct).ConfigureAwait(false);
            return Results.NoContent();
        }).WithSummary("Abort an open upload: it ends and its received chunks are removed.");
        deposit.MapPost("/uploads/{uploadId}/complete", async (string uploadId, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            return AirlockJson.Ok(FileView.Of(await workflow.CompleteUploadAsync(session, uploadId, ct).ConfigureAwait(false)));
        });
        deposit.MapPost("/complete", async (HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var session = await DepositAsync(http, workflow, ct).ConfigureAwait(false);
            var submission = await workflow.FinishDepositAsync(session, ct).ConfigureAwait(false);
            http.Response.Headers.Location = DepositStatusPath;
            return AirlockJson.Ok(new DepositStatusView(submission.Id, SubmissionStates.Name(submission.Kind), SubmissionStates.Name(submission.State),
                submission.StateReason, submission.UpdatedAt, DepositStatusPath,
                $"Transfer complete: inspection runs in the background. This token now only reads the submission's state at {DepositStatusPath} (same header)."),
                StatusCodes.Status202Accepted);
        }).WithSummary("Mark the transfer complete: 202 at once, inspection runs in the background; poll the Location with the same token.");
        deposit.MapGet("/status", async (HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            var submission = await workflow.DepositStatusAsync(http.Request.Headers[DepositTokenHeader].ToString(), Remote(http), ct).ConfigureAwait(false);
            return AirlockJson.Ok(new DepositStatusView(submission.Id, SubmissionStates.Name(submission.Kind), SubmissionStates.Name(submission.State),
                submission.StateReason, submission.UpdatedAt, DepositStatusPath, null));
        }).WithSummary("The deposit's own state and reason, also after the transfer was marked complete (until the token expires); nothing else.");

        var release = app.MapGroup("/airlock/release").AllowAnonymous().AddEndpointFilter(CatchRefusals).WithTags("airlock-release");
        release.MapGet("/", async (HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var (submission, manifest, token) = await workflow.ReleasedAsync(http.Request.Headers[ReleaseTokenHeader].ToString(), Remote(http), ct).ConfigureAwait(false);
            return AirlockJson.Ok(new ReleaseManifestView(submission.Id, submission.Project, submission.WorkPackage, manifest.VolumeDigest.Hex, token.ExpiresAt,
                manifest.Files.Select(FileView.Of).ToList()));
        });
        release.MapGet("/files/{**path}", async (string path, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        {
            var (_, manifest, _) = await workflow.ReleasedAsync(http.Request.Headers[ReleaseTokenHeader].ToString(), Remote(http), ct).ConfigureAwait(false);
            var (file, content) = await workflow.OpenAsync(manifest, path, ct).ConfigureAwait(false);
            return FileResult(http, file.Sha256, content);
        });
    }

    private static async ValueTask<object?> CatchRefusals(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (AirlockWorkflowException e)
        {
            return AirlockJson.Problem(e);
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            // Whatever layer ran out of room (a blob, a SQLite write): 507 with the reason, never a generic 500.
            return AirlockJson.Problem(new AirlockWorkflowException(AirlockError.InsufficientStorage, $"The disk is full: {e.Message}"));
        }
    }

    private static async Task<IResult> OpenAsync(HttpContext http, AirlockWorkflow workflow, CancellationToken ct)
    {
        var request = await AirlockJson.ReadAsync<OpenRequest>(http.Request, ct).ConfigureAwait(false);
        if (!SubmissionStates.TryParse<SubmissionKind>(request.Kind, out var kind))
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, "kind: software_ingress, data_ingress or egress.");
        }
        var opened = await workflow.OpenAsync(CallerOf(http), new OpenSubmission(request.Project, request.WorkPackage, kind, request.Depositor, request.Script,
            request.DepositHours is { } hours ? TimeSpan.FromHours(hours) : null, request.AllowedRange), ct).ConfigureAwait(false);
        return AirlockJson.Ok(new OpenedView(SubmissionView.Of(opened.Submission), opened.DepositToken, opened.Token.ExpiresAt, opened.Token.AllowedRange,
            $"Shown once. The depositor sends it in {DepositTokenHeader} to /airlock/deposit, or opens the depositPage link in a browser; it can only add files, and marking the transfer complete ends it.",
            DepositPage + "#" + opened.DepositToken),
            StatusCodes.Status201Created);
    }

    private static Task<IResult> DetailsAsync(string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct) =>
        DetailsWithStatusAsync(id, http, workflow, ct, StatusCodes.Status200OK);

    private static async Task<IResult> DetailsWithStatusAsync(string id, HttpContext http, AirlockWorkflow workflow, CancellationToken ct, int status)
    {
        var details = await workflow.DetailsAsync(CallerOf(http), id, ct).ConfigureAwait(false);
        var missing = details.Submission.State == SubmissionState.InReview ? await workflow.MissingForApprovalAsync(details.Submission, ct).ConfigureAwait(false) : [];
        return AirlockJson.Ok(SubmissionView.Of(details.Submission, details, missing), status);
    }

    private static async Task<IResult> WithReasonAsync(
        string id, HttpContext http, AirlockWorkflow workflow, Func<Caller, string, string, CancellationToken, Task<Submission>> action, CancellationToken ct)
    {
        var request = await AirlockJson.ReadAsync<ReasonRequest>(http.Request, ct).ConfigureAwait(false);
        await action(CallerOf(http), id, request.Reason, ct).ConfigureAwait(false);
        return await DetailsAsync(id, http, workflow, ct).ConfigureAwait(false);
    }

    private static Task<DepositSession> DepositAsync(HttpContext http, AirlockWorkflow workflow, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        return workflow.DepositSessionAsync(http.Request.Headers[DepositTokenHeader].ToString(), Remote(http), ct);
    }

    private static IPAddress? Remote(HttpContext http) => http.Connection.RemoteIpAddress;

    private static Caller CallerOf(HttpContext http) =>
        Caller.From(http.User) ?? throw new AirlockWorkflowException(AirlockError.WrongRole, "Not authenticated.");

    private static void AllowLargeBody(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = UploadService.MaxChunkSize;
        }
    }

    private static (long Size, BlobDigest Sha256) Declared(HttpContext http, string header)
    {
        if (http.Request.ContentLength is not { } size)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, "Content-Length is required.");
        }
        if (size > UploadService.MaxChunkSize)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"At most {UploadService.MaxChunkSize} bytes.");
        }
        return BlobDigest.TryParse(http.Request.Headers[header].ToString().ToLowerInvariant(), out var sha)
            ? (size, sha)
            : throw new AirlockWorkflowException(AirlockError.Invalid, $"{header}: the content's SHA-256 (64 hex digits).");
    }

    private static IResult FileResult(HttpContext http, BlobDigest sha256, Stream content)
    {
        http.Response.Headers["X-Content-SHA256"] = sha256.Hex;
        http.Response.Headers.CacheControl = "no-store";
        return Results.Stream(content, "application/octet-stream", enableRangeProcessing: content.CanSeek);
    }
}
