using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SafeHaven.Airlock.Api;

/// <summary>
/// Adds the airlock's integrity report to the appliance's <c>/healthz</c> (which the gateway owns): the JSON object the
/// gateway writes gains an <c>airlock</c> member, and mismatches are appended to <c>problems</c> with <c>status</c>
/// set to <c>degraded</c>. <c>/healthz/airlock</c> answers the airlock's part alone.
/// </summary>
internal static class AirlockHealth
{
    public static void Use(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsGet(context.Request.Method) || !context.Request.Path.Equals("/healthz", StringComparison.OrdinalIgnoreCase))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
        }
        buffer.Position = 0;
        JsonObject? body = null;
        if (context.Response.StatusCode == StatusCodes.Status200OK && context.Response.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                body = JsonNode.Parse(buffer) as JsonObject;
            }
            catch (JsonException)
            {
            }
        }
        if (body is null)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var (section, problems) = context.RequestServices.GetRequiredService<AirlockIntegrityStatus>().Health();
        body["airlock"] = JsonSerializer.SerializeToNode(section, AirlockJson.Output);
        if (problems.Count > 0)
        {
            var list = body["problems"] as JsonArray ?? [];
            foreach (var problem in problems)
            {
                list.Add(problem);
            }
            body["problems"] = list;
            body["status"] = "degraded";
        }
        context.Response.ContentLength = null;
        await context.Response.WriteAsync(body.ToJsonString(AirlockJson.Output), context.RequestAborted).ConfigureAwait(false);
    });
}
