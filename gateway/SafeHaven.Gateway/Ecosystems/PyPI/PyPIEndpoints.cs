using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>The PyPI simple API under <c>/pypi/simple/</c> and its files under <c>/pypi/packages/</c>.</summary>
public static class PyPIEndpoints
{
    private static readonly string[] GetHead = [HttpMethods.Get, HttpMethods.Head];
    private static readonly HeaderValueMemo<SimpleFormat?> Formats = new(SimpleContentNegotiation.Negotiate);
    private static readonly HeaderValueMemo<bool> GzipAccepted = new(AcceptsGzip);

    public static IEndpointRouteBuilder MapPyPI(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/pypi");
        // Routing ignores a trailing slash, so the handlers redirect the slash-less forms themselves (PEP 503).
        group.MapMethods("/simple/", GetHead, RootAsync);
        group.MapMethods("/simple/{project}/", GetHead, ProjectPage(app.ServiceProvider.GetRequiredService<PyPIMirror>()));
        group.MapMethods("/packages/{project}/{filename}", GetHead, FileAsync);
        return app;
    }

    /// <summary>
    /// The project page is the hot path (pip asks for one per requirement, every install): a plain request delegate
    /// over the singleton mirror, without the per-request parameter binding of a minimal-API handler.
    /// </summary>
    private static RequestDelegate ProjectPage(PyPIMirror mirror) => async context =>
    {
        var project = (string)context.Request.RouteValues["project"]!;
        var result = await ProjectAsync(context, project, mirror, context.RequestAborted).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    };

    private static IResult Redirect(HttpContext context, string path) =>
        Results.Redirect(context.Request.PathBase + path + context.Request.QueryString, permanent: true);

    private static SimpleFormat? Negotiate(HttpContext context)
    {
        // PEP 691 allows a ?format= override of the Accept header.
        var format = context.Request.Query["format"].ToString();
        return format.Length > 0 ? SimpleContentNegotiation.Negotiate(format) : Formats.Get(context.Request.Headers.Accept.ToString());
    }

    private static IResult NotAcceptable() => Results.Problem(
        title: "Not acceptable",
        detail: $"This index serves {SimpleContentNegotiation.JsonV1}, {SimpleContentNegotiation.HtmlV1} and {SimpleContentNegotiation.TextHtml}.",
        statusCode: StatusCodes.Status406NotAcceptable);

    private static bool HasTrailingSlash(HttpContext context) => context.Request.Path.Value?.EndsWith('/') == true;

    private static async Task<IResult> RootAsync(HttpContext context, PyPIMirror mirror, CancellationToken cancellationToken)
    {
        if (!HasTrailingSlash(context))
        {
            return Redirect(context, "/pypi/simple/");
        }
        context.Response.Headers.Vary = HeaderNames.Accept;
        if (Negotiate(context) is not { } format)
        {
            return NotAcceptable();
        }
        var root = await mirror.GetRootIndexAsync(format, cancellationToken).ConfigureAwait(false);
        if (root.Page is not { } page)
        {
            return root.NotReady ? PolicyResponses.NotReady(root.StaleOrError!) : PolicyResponses.BadGateway(root.StaleOrError!);
        }
        if (root.StaleOrError is not null)
        {
            PolicyResponses.MarkStale(context, root.StaleOrError);
        }
        // Rendered once per upstream change or policy change; gzip is pre-compressed, a 304 costs no render.
        return new RootIndexResult(page, format, GzipAccepted.Get(context.Request.Headers.AcceptEncoding.ToString()));
    }

    private static async Task<IResult> ProjectAsync(HttpContext context, string project, PyPIMirror mirror, CancellationToken cancellationToken)
    {
        context.Response.Headers.Vary = HeaderNames.Accept;
        if (!PackageName.IsValidPyPI(project))
        {
            return PolicyResponses.NotFound($"'{project}' is not a valid project name");
        }
        var normalized = PackageName.NormalizePyPI(project);
        if (normalized != project || !HasTrailingSlash(context))
        {
            return Redirect(context, "/pypi/simple/" + normalized + "/");
        }
        if (Negotiate(context) is not { } format)
        {
            return NotAcceptable();
        }
        var lookup = await mirror.GetProjectAsync(normalized, cancellationToken).ConfigureAwait(false);
        switch (lookup)
        {
            case ProjectLookup.Found { View: { ApprovedOutsideClosure: true, VisibleEntries.Count: 0 } view }:
                // Approved, but nothing of it is visible: say why (quarantine, no date, unverifiable), not "not approved".
                var (code, reason) = view.NothingVisible(mirror.Policy.Policy.Tier);
                return code is null ? PolicyResponses.NotFound(reason) : PolicyResponses.Hidden(context, code, reason);
            case ProjectLookup.Found found:
                if (found.StaleReason is not null)
                {
                    PolicyResponses.MarkStale(context, found.StaleReason);
                }
                return Page(context, found.View.Page(format), format);
            default:
                return lookup.ToFailureResult(context);
        }
    }

    private static IResult Page(HttpContext context, RenderedPage page, SimpleFormat format)
    {
        var headers = context.Response.Headers;
        // Pages kept in the view cache also have a gzip form.
        var gzip = GzipAccepted.Get(context.Request.Headers.AcceptEncoding.ToString());
        var etag = gzip ? page.GzipETag : page.ETag;
        headers.Vary = "Accept, Accept-Encoding";
        headers.ETag = etag;
        headers.CacheControl = "max-age=60";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag || t.Trim() == "*"))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        if (gzip)
        {
            headers.ContentEncoding = "gzip";
            return Results.Bytes(page.Gzip, SimpleContentNegotiation.ContentType(format));
        }
        return Results.Bytes(page.Body, SimpleContentNegotiation.ContentType(format));
    }

    /// <summary>Whether an <c>Accept-Encoding</c> header accepts gzip (explicitly or by <c>*</c>) with a non-zero q.</summary>
    internal static bool AcceptsGzip(string acceptEncoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding))
        {
            return false;
        }
        double? gzip = null, any = null;
        foreach (var item in acceptEncoding.Split(','))
        {
            var parts = item.Split(';');
            var coding = parts[0].Trim();
            var quality = 1.0;
            foreach (var parameter in parts.Skip(1))
            {
                var pair = parameter.Split('=', 2);
                if (pair.Length == 2 && pair[0].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(pair[1].Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out quality))
                {
                    quality = 0;
                }
            }
            if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = quality;
            }
            else if (coding == "*")
            {
                any = quality;
            }
        }
        return (gzip ?? any ?? 0) > 0;
    }

    private static async Task<IResult> FileAsync(
        HttpContext context, string project, string filename, PyPIMirror mirror,
        IOptions<SafeHavenOptions> options, CancellationToken cancellationToken)
    {
        var normalized = PackageName.NormalizePyPI(project);
        if (!PackageName.IsValidPyPI(project))
        {
            return PolicyResponses.NotFound($"'{project}' is not a valid project name");
        }
        var lookup = await mirror.GetProjectAsync(normalized, cancellationToken).ConfigureAwait(false);
        if (lookup is not ProjectLookup.Found found)
        {
            return lookup.ToFailureResult(context);
        }
        var view = found.View;
        var metadata = false;
        if (!view.State.ByFilename.TryGetValue(filename, out var entry))
        {
            const string Suffix = ".metadata";
            if (filename.EndsWith(Suffix, StringComparison.Ordinal)
                && view.State.ByFilename.TryGetValue(filename[..^Suffix.Length], out var distribution) && distribution.File.CoreMetadata)
            {
                entry = distribution;
                metadata = true;
            }
            else
            {
                return PolicyResponses.NotFound($"project '{normalized}' has no file '{filename}'");
            }
        }
        var decision = view.Decisions[entry.File.Filename];
        if (!decision.Visible)
        {
            return PolicyResponses.Hidden(context, decision.Code, decision.Reason);
        }
        if (found.StaleReason is not null)
        {
            PolicyResponses.MarkStale(context, found.StaleReason);
        }
        var contentType = metadata ? "text/plain; charset=utf-8" : "application/octet-stream";
        var mirrorOptions = options.Value.Mirrors.TryGetValue(PyPIMirror.Ecosystem, out var m) ? m : new MirrorOptions();
        var large = !metadata && entry.File.Size is { } size && size > mirrorOptions.VerifyBeforeServingBytes;
        return await mirror.Artifacts.ServeAsync(context, PyPIMirror.SourceOf(entry.File, metadata), contentType, large, cancellationToken).ConfigureAwait(false);
    }
}
