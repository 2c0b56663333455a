using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace SafeHaven.Web.Hosting;

/// <summary>
/// The web application's CSS and JavaScript (<c>wwwroot/</c>, embedded in this assembly) at <c>/static/</c>. Embedded
/// rather than static web assets because the appliance runs from its build or publish folder in Production, where the
/// development manifest of static web assets is not read; a handful of small files needs no more than this.
/// </summary>
internal static class StaticAssets
{
    public const string Prefix = "/static";

    private static readonly EmbeddedFileProvider Files = new(typeof(StaticAssets).Assembly, "wwwroot");
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Prefix + "/{**path}", (string path, HttpContext http) =>
            {
                // Embedded names use '.' for '/': refuse anything that is not a plain relative file name path.
                if (path.Contains("..", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
                {
                    return Results.NotFound();
                }
                var file = Files.GetFileInfo(path.Replace('/', '.'));
                if (!file.Exists || !ContentTypes.TryGetContentType(path, out var contentType))
                {
                    return Results.NotFound();
                }
                var etag = new EntityTagHeaderValue($"\"{file.Length:x}-{Version}\"");
                http.Response.Headers.CacheControl = "public, max-age=3600";
                return Results.Stream(file.CreateReadStream(), contentType, entityTag: etag, lastModified: file.LastModified);
            })
            .AllowAnonymous()
            .WithMetadata(WebEndpointMetadata.Instance)
            .ExcludeFromDescription();

    private static readonly string Version = typeof(StaticAssets).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.GetHashCode(StringComparison.Ordinal).ToString("x", System.Globalization.CultureInfo.InvariantCulture) ?? "0";
}
