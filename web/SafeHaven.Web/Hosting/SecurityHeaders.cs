using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace SafeHaven.Web.Hosting;

/// <summary>Marks an endpoint as part of the web application (pages, its static files): it gets <see cref="SecurityHeaders"/>.</summary>
public sealed class WebEndpointMetadata
{
    public static WebEndpointMetadata Instance { get; } = new();
}

/// <summary>
/// The headers of every web response: a strict Content-Security-Policy (no inline script or style anywhere; forms post
/// only to the appliance, and to the identity provider the sign-in form redirects to), <c>nosniff</c>, no referrer, no
/// framing; and <c>Server-Timing: app;dur=</c> with the server's own time for the request, so the 100 ms budget of a
/// page can be checked from a browser or <c>curl -i</c>. Placed first in the pipeline (an <see cref="IStartupFilter"/>)
/// so redirects written by authentication (sign-in challenges, access denied) carry them too. The API, the package
/// mirrors and the health probes are left exactly as they were: their responses are recognised by endpoint, not
/// touched, and cost one metadata lookup.
/// </summary>
internal sealed class SecurityHeaders(string contentSecurityPolicy, PathString oidcCallback) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var started = Stopwatch.GetTimestamp();
            context.Response.OnStarting(() =>
            {
                if (IsWeb(context))
                {
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy = contentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    headers.XFrameOptions = "DENY";
                    headers["Cross-Origin-Opener-Policy"] = "same-origin";
                    headers["Server-Timing"] = "app;dur=" + Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
                    if (!headers.ContainsKey("Cache-Control"))
                    {
                        headers.CacheControl = "no-store";
                    }
                }
                return Task.CompletedTask;
            });
            return nextMiddleware(context);
        });
        next(app);
    };

    private bool IsWeb(HttpContext context) =>
        context.GetEndpoint() is { } endpoint
            ? endpoint.Metadata.GetMetadata<WebEndpointMetadata>() is not null
            : context.Request.Path.StartsWithSegments(oidcCallback, StringComparison.OrdinalIgnoreCase);

    /// <summary>The policy: same-origin everything, plus the identity provider as a form target (the sign-in redirect).</summary>
    public static string PolicyFor(Uri? identityProvider)
    {
        var formAction = identityProvider is null ? "'self'" : $"'self' {identityProvider.GetLeftPart(UriPartial.Authority)}";
        return $"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action {formAction}; base-uri 'none'";
    }
}
