using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using SafeHaven.Airlock.Submissions;

namespace SafeHaven.Airlock.Api;

/// <summary>Strict JSON in (unknown or missing members refused), enums as strings out; refusals as RFC 7807.</summary>
internal static class AirlockJson
{
    public const int MaxBodyBytes = 256 * 1024;

    public static readonly JsonSerializerOptions Input = SafeHaven.Management.Api.StrictJson.Input;

    public static readonly JsonSerializerOptions Output = SafeHaven.Management.Api.StrictJson.Output;

    public static IResult Ok<T>(T value, int status = StatusCodes.Status200OK) => Results.Json(value, Output, statusCode: status);

    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, "Send the request body as application/json.");
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"The body is over {MaxBodyBytes} bytes.");
        }
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
            {
                throw new AirlockWorkflowException(AirlockError.Invalid, $"The body is over {MaxBodyBytes} bytes.");
            }
            body.Write(buffer, 0, read);
        }
        try
        {
            return JsonSerializer.Deserialize<T>(body.ToArray(), Input) ?? throw new AirlockWorkflowException(AirlockError.Invalid, "The body is null.");
        }
        catch (JsonException e)
        {
            throw new AirlockWorkflowException(AirlockError.Invalid, $"Unreadable JSON: {e.Message}");
        }
    }

    public static IResult Problem(AirlockWorkflowException e)
    {
        var (status, title) = AirlockErrors.Problems[e.Error];
        return Results.Problem(statusCode: status, title: title, detail: e.Message, type: AirlockErrors.TypeOf(e.Error),
            extensions: new Dictionary<string, object?> { ["code"] = SubmissionStates.Name(e.Error) });
    }
}
