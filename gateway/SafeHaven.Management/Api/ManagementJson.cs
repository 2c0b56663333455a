using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using SafeHaven.Management.Identity;

namespace SafeHaven.Management.Api;

/// <summary>
/// Strict JSON for the management API: unknown or duplicate members, missing required members, nulls where a value
/// is required, comments and trailing commas are all refused, and bodies over the limit are not read.
/// </summary>
internal static class ManagementJson
{
    public static readonly JsonSerializerOptions Input = SafeHaven.Management.Api.StrictJson.Input;

    public static readonly JsonSerializerOptions Output = SafeHaven.Management.Api.StrictJson.Output;

    public static IResult Ok<T>(T value, int status = StatusCodes.Status200OK) => Results.Json(value, Output, statusCode: status);

    /// <summary>The request's JSON body as <typeparamref name="T"/>, or the 400/415 problem to answer instead.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, int limit, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "JSON expected",
                detail: "Send the request body as application/json."));
        }
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(limit));
        }
        var buffer = new byte[Math.Min(limit + 1, 16 * 1024)];
        using var body = new MemoryStream();
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > limit)
            {
                return (null, TooLarge(limit));
            }
            body.Write(buffer, 0, read);
        }
        try
        {
            var value = JsonSerializer.Deserialize<T>(body.GetBuffer().AsSpan(0, (int)body.Length), Input);
            return value is null
                ? (null, Invalid("body", "A JSON object is required."))
                : (value, null);
        }
        catch (JsonException e)
        {
            // The serializer's message names the offending member and position, never echoes values back.
            return (null, Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed request body", detail: e.Message));
        }
    }

    /// <summary>Reads a decision's body (<c>{"reason": ...}</c>) and checks its reason; a problem answer otherwise.</summary>
    public static async Task<(DecisionRequest? Value, IResult? Problem)> ReadDecisionAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var (decision, problem) = await ReadAsync<DecisionRequest>(request, limit, cancellationToken).ConfigureAwait(false);
        if (decision is null)
        {
            return (null, problem);
        }
        return Names.IsText(decision.Reason) ? (decision, null) : (null, Invalid("reason", Names.TextRule));
    }

    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid request");

    public static IResult Invalid(IDictionary<string, string[]> errors) => Results.ValidationProblem(errors, title: "Invalid request");

    private static IResult TooLarge(int limit) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Request body too large",
            detail: $"The management API reads request bodies of at most {limit} bytes.");
}
