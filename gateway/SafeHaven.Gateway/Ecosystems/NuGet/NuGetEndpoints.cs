using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using NuGet.Packaging;
using NuGet.Packaging.Core;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Http;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// The NuGet v3 API under <c>/nuget/v3/</c>: the service index, the flat container (<c>PackageBaseAddress/3.0.0</c>),
/// registrations (<c>RegistrationsBaseUrl/3.6.0</c>) and search (<c>SearchQueryService</c>).
/// </summary>
public static class NuGetEndpoints
{
    private const string JsonType = "application/json; charset=utf-8";
    private const long MaximumNuspecBytes = 4L * 1024 * 1024;
    private static readonly string[] GetHead = [HttpMethods.Get, HttpMethods.Head];

    public static IEndpointRouteBuilder MapNuGet(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/nuget/v3");
        group.MapMethods("/index.json", GetHead, ServiceIndex);
        group.MapMethods("/flatcontainer/{id}/index.json", GetHead, VersionsAsync);
        group.MapMethods("/flatcontainer/{id}/{version}/{filename}", GetHead, PackageFileAsync);
        group.MapMethods("/registration/{id}/index.json", GetHead, RegistrationAsync);
        group.MapMethods("/registration/{id}/{leaf}", GetHead, RegistrationLeafAsync);
        group.MapMethods("/query", GetHead, SearchAsync);
        return app;
    }

    /// <summary>The appliance's own absolute base for NuGet URLs, as the client reached it.</summary>
    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}/nuget/v3/";

    private static IResult ServiceIndex(HttpContext context) => Json(context, NuGetRenderer.ServiceIndex(BaseUrl(context.Request)));

    private static IResult Json(HttpContext context, byte[] body, string? staleReason = null) =>
        Json(context, RenderedPage.Create(body), staleReason);

    private static IResult Json(HttpContext context, RenderedPage page, string? staleReason = null)
    {
        if (staleReason is not null)
        {
            PolicyResponses.MarkStale(context, staleReason);
        }
        var etag = page.ETag;
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = "max-age=60";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag || t.Trim() == "*"))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return Results.Bytes(page.Body, JsonType);
    }

    private static async Task<(PackageLookup.Found? Found, IResult? Failure)> LookupAsync(HttpContext context, string id, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        if (!NuGetMirror.IsValidId(id))
        {
            return (null, PolicyResponses.NotFound($"'{id}' is not a valid package id"));
        }
        var lookup = await mirror.GetPackageAsync(id.ToLowerInvariant(), cancellationToken).ConfigureAwait(false);
        return lookup is PackageLookup.Found found ? (found, null) : (null, lookup.ToFailureResult(context));
    }

    private static async Task<IResult> VersionsAsync(HttpContext context, string id, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        var (found, failure) = await LookupAsync(context, id, mirror, cancellationToken).ConfigureAwait(false);
        return found is null ? failure! : Json(context, found.View.VersionList, found.StaleReason);
    }

    private static async Task<IResult> RegistrationAsync(HttpContext context, string id, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        var (found, failure) = await LookupAsync(context, id, mirror, cancellationToken).ConfigureAwait(false);
        return found is null ? failure! : Json(context, NuGetRenderer.RegistrationIndex(BaseUrl(context.Request), found.View), found.StaleReason);
    }

    private static async Task<IResult> RegistrationLeafAsync(HttpContext context, string id, string leaf, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        if (!leaf.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return PolicyResponses.NotFound($"'{leaf}' is not a registration leaf");
        }
        var (found, failure) = await LookupAsync(context, id, mirror, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return failure!;
        }
        var (entry, hidden) = FindVersion(context, found.View, leaf[..^".json".Length]);
        return entry is null ? hidden! : Json(context, NuGetRenderer.RegistrationLeaf(BaseUrl(context.Request), found.View, entry), found.StaleReason);
    }

    /// <summary>A version a client may have: the entry, or the 404 that says why not (with the policy code when the tier hides it).</summary>
    private static (NuGetVersionEntry? Entry, IResult? Failure) FindVersion(HttpContext context, NuGetPackageView view, string version)
    {
        var lowerId = view.State.LowerId;
        if (!NuGetPackageState.TryNormalize(version, out var normalized) || !view.State.ByVersion.TryGetValue(normalized, out var entry))
        {
            return (null, PolicyResponses.NotFound($"package '{lowerId}' has no version '{version}'"));
        }
        var decision = view.Decisions[normalized];
        return decision.Visible ? (entry, null) : (null, PolicyResponses.Hidden(context, decision.Code, decision.Reason));
    }

    private static async Task<IResult> PackageFileAsync(
        HttpContext context, string id, string version, string filename, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        var (found, failure) = await LookupAsync(context, id, mirror, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return failure!;
        }
        var lowerId = found.View.State.LowerId;
        var (entry, hidden) = FindVersion(context, found.View, version);
        if (entry is null)
        {
            return hidden!;
        }
        var nuspec = string.Equals(filename, $"{lowerId}.nuspec", StringComparison.OrdinalIgnoreCase);
        if (!nuspec && !string.Equals(filename, $"{lowerId}.{entry.Normalized}.nupkg", StringComparison.OrdinalIgnoreCase))
        {
            return PolicyResponses.NotFound($"version {entry.Normalized} of '{lowerId}' has no file '{filename}' (it has {lowerId}.{entry.Normalized}.nupkg and {lowerId}.nuspec)");
        }
        if (found.StaleReason is not null)
        {
            PolicyResponses.MarkStale(context, found.StaleReason);
        }
        var (source, error) = await mirror.SourceOfAsync(lowerId, entry, cancellationToken).ConfigureAwait(false);
        if (source is null)
        {
            return PolicyResponses.BadGateway(error!);
        }
        // Packages are verified before the first byte is sent: NuGet hashes are SHA-512, and streaming while
        // storing needs an upstream SHA-256 (see ArtifactFetcher).
        return nuspec
            ? await NuspecAsync(mirror.Artifacts, source, cancellationToken).ConfigureAwait(false)
            : await mirror.Artifacts.ServeAsync(context, source, "application/octet-stream", large: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>.nuspec</c> read from the stored, verified package.</summary>
    private static async Task<IResult> NuspecAsync(ArtifactFetcher artifacts, ArtifactSource source, CancellationToken cancellationToken)
    {
        Core.Blobs.BlobDigest digest;
        try
        {
            digest = await artifacts.EnsureStoredAsync(source, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UpstreamIntegrityException or UpstreamUnavailableException)
        {
            return PolicyResponses.BadGateway(e.Message);
        }
        var stream = await artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return PolicyResponses.BadGateway($"{source.DisplayName} vanished from the store");
        }
        await using (stream.ConfigureAwait(false))
        {
            Stream seekable = stream;
            if (!stream.CanSeek)
            {
                // Zip needs seeking; a non-seekable store is copied to a temporary file, not memory.
                seekable = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await stream.CopyToAsync(seekable, cancellationToken).ConfigureAwait(false);
                seekable.Position = 0;
            }
            await using (seekable.ConfigureAwait(false))
            {
                try
                {
                    // NuGet.Packaging finds the package's one .nuspec (at the root, by its rules).
                    using var reader = new PackageArchiveReader(seekable, leaveStreamOpen: true);
                    var path = reader.GetNuspecFile();
                    var entry = reader.GetEntry(path);
                    if (entry is null || entry.Length > MaximumNuspecBytes)
                    {
                        return PolicyResponses.BadGateway($"{source.DisplayName} has no usable .nuspec");
                    }
                    using var buffer = new MemoryStream((int)entry.Length);
                    await using (var content = reader.GetStream(path))
                    {
                        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                    return Results.Bytes(buffer.ToArray(), "application/xml", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + digest.Hex + "-nuspec\""));
                }
                catch (Exception e) when (e is InvalidDataException or PackagingException)
                {
                    return PolicyResponses.BadGateway($"{source.DisplayName} is not a readable package: {e.Message}");
                }
            }
        }
    }

    private static async Task<IResult> SearchAsync(HttpContext context, NuGetMirror mirror, CancellationToken cancellationToken)
    {
        var queryString = context.Request.Query;
        var query = NuGetSearchQuery.Parse(queryString["q"], queryString["prerelease"], queryString["semVerLevel"]);
        var skip = int.TryParse(queryString["skip"], out var s) ? Math.Clamp(s, 0, 3000) : 0;
        var take = int.TryParse(queryString["take"], out var t) ? Math.Clamp(t, 0, 1000) : 20;
        var (ids, error) = await mirror.GetSearchableIdsAsync(cancellationToken).ConfigureAwait(false);
        if (ids is null)
        {
            return PolicyResponses.NotReady(error!);
        }
        var hits = new List<NuGetRenderer.SearchHit>();
        foreach (var id in query.Order(ids.Where(query.Matches)))
        {
            if (await mirror.GetPackageAsync(id, cancellationToken).ConfigureAwait(false) is PackageLookup.Found found && query.Hit(found.View) is { } hit)
            {
                hits.Add(hit);
            }
        }
        return Json(context, NuGetRenderer.SearchResults(BaseUrl(context.Request), hits.Count, hits.Skip(skip).Take(take)));
    }
}
