using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>The CRAN repository layout under <c>/cran/</c>: <c>src/contrib/PACKAGES(.gz)</c> and the tarballs it names.</summary>
public static class CranEndpoints
{
    private static readonly string[] GetHead = [HttpMethods.Get, HttpMethods.Head];

    public static IEndpointRouteBuilder MapCran(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cran/src/contrib");
        group.MapMethods("/PACKAGES", GetHead, (HttpContext context, CranMirror mirror, CancellationToken cancellationToken) =>
            IndexAsync(context, mirror, gzip: false, cancellationToken));
        group.MapMethods("/PACKAGES.gz", GetHead, (HttpContext context, CranMirror mirror, CancellationToken cancellationToken) =>
            IndexAsync(context, mirror, gzip: true, cancellationToken));
        // R reads PACKAGES.rds first and falls back to PACKAGES.gz on a 404; the appliance does not write R's serialisation.
        group.MapMethods("/PACKAGES.rds", GetHead, () =>
            PolicyResponses.NotFound("this repository serves PACKAGES and PACKAGES.gz, not PACKAGES.rds"));
        group.MapMethods("/{**path}", GetHead, FileAsync);
        return app;
    }

    private static async Task<IResult> IndexAsync(HttpContext context, CranMirror mirror, bool gzip, CancellationToken cancellationToken)
    {
        var lookup = await mirror.GetViewAsync(applyAllowlist: true, cancellationToken).ConfigureAwait(false);
        if (lookup is not CranViewLookup.Found found)
        {
            var unavailable = (CranViewLookup.Unavailable)lookup;
            return unavailable.ClosurePending ? PolicyResponses.NotReady(unavailable.Reason) : PolicyResponses.BadGateway(unavailable.Reason);
        }
        if (found.StaleReason is not null)
        {
            PolicyResponses.MarkStale(context, found.StaleReason);
        }
        var view = found.View;
        var etag = gzip ? view.ETag.Insert(view.ETag.Length - 1, "-gz") : view.ETag;
        var headers = context.Response.Headers;
        headers.ETag = etag;
        headers.CacheControl = "max-age=60";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag || t.Trim() == "*"))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return gzip
            ? Results.Bytes(view.PackagesGz, "application/x-gzip")
            : Results.Bytes(view.Packages, "text/plain; charset=utf-8");
    }

    private static async Task<IResult> FileAsync(HttpContext context, string path, CranMirror mirror, CancellationToken cancellationToken)
    {
        var lookup = await mirror.FindFileAsync(path, cancellationToken).ConfigureAwait(false);
        switch (lookup)
        {
            case CranFileLookup.Found found:
                if (found.StaleReason is not null)
                {
                    PolicyResponses.MarkStale(context, found.StaleReason);
                }
                // Verified (MD5) and stored before the first byte is sent: the index gives no SHA-256 to stream against.
                return await mirror.Artifacts.ServeAsync(context, found.Source, "application/x-gzip", large: false, cancellationToken).ConfigureAwait(false);
            case CranFileLookup.Hidden hidden:
                return PolicyResponses.Hidden(context, hidden.Code, hidden.Reason);
            case CranFileLookup.NotFound notFound:
                return PolicyResponses.NotFound(notFound.Reason);
            case CranFileLookup.Unavailable unavailable:
                return unavailable.ClosurePending ? PolicyResponses.NotReady(unavailable.Reason) : PolicyResponses.BadGateway(unavailable.Reason);
            default:
                throw new InvalidOperationException("unknown lookup result");
        }
    }
}
