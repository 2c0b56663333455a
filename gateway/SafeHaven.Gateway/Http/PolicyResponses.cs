using Microsoft.AspNetCore.Http;

namespace SafeHaven.Gateway.Http;

/// <summary>Answers shared by every ecosystem's endpoints.</summary>
public static class PolicyResponses
{
    public const string PolicyHeader = "X-SafeHaven-Policy";
    public const string StaleHeader = "X-SafeHaven-Stale";

    /// <summary>
    /// 404 for something the tier hides, with the decision's code in <see cref="PolicyHeader"/> and the reason,
    /// in words, in the body. Never 401: pip would ask for a password.
    /// </summary>
    public static IResult Hidden(HttpContext context, string code, string reason)
    {
        context.Response.Headers[PolicyHeader] = code;
        return Results.Text($"Not available at this tier: {reason}\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
    }

    public static IResult NotFound(string reason) =>
        Results.Text($"Not found: {reason}\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);

    /// <summary>502: upstream failed and nothing good is cached, or upstream content failed verification.</summary>
    public static IResult BadGateway(string detail) =>
        Results.Problem(title: "Upstream failure", detail: detail, statusCode: StatusCodes.Status502BadGateway);

    /// <summary>507: the appliance's own storage is full; nothing partial was kept.</summary>
    public static IResult InsufficientStorage(string detail) =>
        Results.Problem(title: "Insufficient storage", detail: detail, statusCode: StatusCodes.Status507InsufficientStorage);

    public static IResult NotReady(string detail) =>
        Results.Problem(title: "Not ready", detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);

    public static void MarkStale(HttpContext context, string reason) =>
        context.Response.Headers[StaleHeader] = SanitizeHeader(reason);

    /// <summary>Header values must be visible ASCII; reasons may carry anything upstream said.</summary>
    public static string SanitizeHeader(string value)
    {
        var chars = value.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray();
        return new string(chars, 0, Math.Min(chars.Length, 512));
    }
}
