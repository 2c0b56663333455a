using Microsoft.AspNetCore.Http;

namespace SafeHaven.Airlock.Submissions;

/// <summary>Each refusal of the workflow, mapped to one HTTP status (RFC 7807 problem details).</summary>
public enum AirlockError
{
    /// <summary>400: the request itself is malformed.</summary>
    Invalid,
    /// <summary>401: no usable deposit or release token.</summary>
    TokenInvalid,
    /// <summary>403: the caller does not hold the role this step needs in the submission's project.</summary>
    WrongRole,
    /// <summary>403: a reviewer tried to sign off their own submission.</summary>
    SelfReview,
    /// <summary>403: the caller already filled another required sign-off of this submission (one person, one sign-off).</summary>
    SeparationOfDuties,
    /// <summary>403: the token was presented from outside the address range it is bound to.</summary>
    TokenOutsideRange,
    /// <summary>404: no such submission, file or work package (or not visible to the caller).</summary>
    NotFound,
    /// <summary>409: the step is not allowed in the submission's current state (includes writes after submit).</summary>
    WrongState,
    /// <summary>409: data ingress needs a signed data-sharing agreement in the work package's document volume.</summary>
    MissingAgreement,
    /// <summary>409: a required sign-off (or the depositor's hash confirmation) is missing.</summary>
    MissingSignOff,
    /// <summary>409: the egress submission lacks the script that produced its outputs.</summary>
    MissingScript,
    /// <summary>409: a path or sign-off is already taken (no overwrite).</summary>
    Conflict,
    /// <summary>409: the work package has no agreed tier yet.</summary>
    TierNotAgreed,
    /// <summary>410: the token's time is up.</summary>
    TokenExpired,
    /// <summary>410: the one-time token was already used up (the transfer was marked complete).</summary>
    TokenUsed,
    /// <summary>422: the depositor's SHA-256 does not match what the appliance computed.</summary>
    HashMismatch,
    /// <summary>507: a quota would be exceeded, or a store has no room (the disk is full).</summary>
    InsufficientStorage,
}

public sealed class AirlockWorkflowException(AirlockError error, string message) : Exception(message)
{
    public AirlockError Error { get; } = error;
}

public static class AirlockErrors
{
    /// <summary>The table of HTTP statuses and problem titles, one line per refusal.</summary>
    public static readonly IReadOnlyDictionary<AirlockError, (int Status, string Title)> Problems = new Dictionary<AirlockError, (int, string)>
    {
        [AirlockError.Invalid] = (StatusCodes.Status400BadRequest, "Invalid request"),
        [AirlockError.TokenInvalid] = (StatusCodes.Status401Unauthorized, "Token not accepted"),
        [AirlockError.WrongRole] = (StatusCodes.Status403Forbidden, "Not your role"),
        [AirlockError.SelfReview] = (StatusCodes.Status403Forbidden, "Own submission"),
        [AirlockError.SeparationOfDuties] = (StatusCodes.Status403Forbidden, "One person, one sign-off"),
        [AirlockError.TokenOutsideRange] = (StatusCodes.Status403Forbidden, "Outside the token's address range"),
        [AirlockError.NotFound] = (StatusCodes.Status404NotFound, "Not found"),
        [AirlockError.WrongState] = (StatusCodes.Status409Conflict, "Wrong state"),
        [AirlockError.MissingAgreement] = (StatusCodes.Status409Conflict, "No data-sharing agreement"),
        [AirlockError.MissingSignOff] = (StatusCodes.Status409Conflict, "Sign-off missing"),
        [AirlockError.MissingScript] = (StatusCodes.Status409Conflict, "Script missing"),
        [AirlockError.Conflict] = (StatusCodes.Status409Conflict, "Conflict"),
        [AirlockError.TierNotAgreed] = (StatusCodes.Status409Conflict, "Tier not agreed"),
        [AirlockError.TokenExpired] = (StatusCodes.Status410Gone, "Token expired"),
        [AirlockError.TokenUsed] = (StatusCodes.Status410Gone, "Token already used"),
        [AirlockError.HashMismatch] = (StatusCodes.Status422UnprocessableEntity, "SHA-256 mismatch"),
        [AirlockError.InsufficientStorage] = (StatusCodes.Status507InsufficientStorage, "Insufficient storage"),
    };

    public static int StatusOf(AirlockError error) => Problems[error].Status;

    /// <summary>The problem-details <c>type</c>: a stable code clients can switch on.</summary>
    public static string TypeOf(AirlockError error) => "urn:safehaven:airlock:" + SubmissionStates.Name(error).Replace('_', '-');
}
