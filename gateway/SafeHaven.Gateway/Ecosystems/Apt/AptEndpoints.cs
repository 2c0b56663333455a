using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SafeHaven.Core.Blobs;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.Gateway.Ecosystems.Apt.Selection;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>
/// The apt URL space: <c>/apt/safehaven-archive-key.asc</c> (the appliance's public signing key),
/// <c>/apt/&lt;repository&gt;/dists/&lt;suite&gt;/</c> (the published, re-signed tree, with <c>by-hash/SHA256/</c>) and
/// <c>/apt/&lt;repository&gt;/pool/...</c> (each <c>.deb</c> a published index lists, verified against its SHA-256).
/// </summary>
public static class AptEndpoints
{
    private static readonly string[] GetHead = [HttpMethods.Get, HttpMethods.Head];

    public const string KeyPath = "/apt/safehaven-archive-key.asc";

    public static IEndpointRouteBuilder MapApt(this IEndpointRouteBuilder app)
    {
        app.MapMethods(KeyPath, GetHead, (AptArchiveKey key) =>
            Results.Text(key.PublicKeyArmored(), "application/pgp-keys"));
        app.MapMethods("/apt/{repository}/dists/{**path}", GetHead, Dists);
        app.MapMethods("/apt/{repository}/pool/{**path}", GetHead, PoolAsync);
        return app;
    }

    private static IResult Dists(HttpContext context, string repository, string? path, AptMirror mirror, AptPublisher publisher)
    {
        if (mirror.View(repository) is not { } view)
        {
            return PolicyResponses.NotFound($"no apt repository '{repository}' is configured");
        }
        if (path is null || view.SplitDistsPath(path) is not var (suite, rest))
        {
            return PolicyResponses.NotFound($"'{path}' is not under a suite this appliance mirrors for '{repository}' ({string.Join(", ", view.Repository.Suites)})");
        }
        if (!view.Suites.TryGetValue(suite, out var published))
        {
            var status = mirror.Status.GetValueOrDefault(Upstream.AptSuiteKey.Of(repository, suite));
            return PolicyResponses.NotReady(status?.LastError is { } error
                ? $"{repository} {suite} has never been verified and published: {error}"
                : $"{repository} {suite} has not been verified and published yet");
        }
        if (published.Files.TryGetValue(rest, out var file))
        {
            context.Response.Headers.CacheControl = rest.EndsWith("Release", StringComparison.Ordinal) || rest == "Release.gpg" ? "max-age=60" : "max-age=300";
            return new StoredFileResult(file.FullPath, file.Size, file.ContentType, "\"" + file.Sha256 + "\"");
        }
        // by-hash: any index file this repository published (older Release files stay answerable), named by its SHA-256.
        var marker = rest.IndexOf("/by-hash/SHA256/", StringComparison.Ordinal);
        if (marker > 0 && rest[(marker + "/by-hash/SHA256/".Length)..] is var hex && BlobDigest.TryParse(hex, out var digest))
        {
            var stored = Path.Combine(publisher.ByHashDirectory(repository), digest.Hex);
            if (File.Exists(stored))
            {
                context.Response.Headers.CacheControl = "max-age=31536000, immutable";
                return new StoredFileResult(stored, new FileInfo(stored).Length, "application/octet-stream", "\"" + digest.Hex + "\"");
            }
        }
        return PolicyResponses.NotFound($"{repository} {suite} publishes no '{rest}' (Packages, Packages.gz, Packages.xz, Release, InRelease, Release.gpg and by-hash/SHA256/ are served)");
    }

    private static async Task<IResult> PoolAsync(HttpContext context, string repository, string? path, AptMirror mirror,
        Microsoft.Extensions.Options.IOptions<Core.Configuration.SafeHavenOptions> options, CancellationToken cancellationToken)
    {
        if (mirror.View(repository) is not { } view)
        {
            return PolicyResponses.NotFound($"no apt repository '{repository}' is configured");
        }
        var filename = "pool/" + path;
        if (!view.Pool.TryGetValue(filename, out var entry))
        {
            if (mirror.Selection?.Hidden.TryGetValue(AptSelector.FileKey(repository, filename), out var decision) == true)
            {
                return PolicyResponses.Hidden(context, decision.Code, decision.Reason);
            }
            return PolicyResponses.NotFound($"{filename} is not listed by any published index of '{repository}'");
        }
        if (!BlobDigest.TryParse(entry.Sha256, out var sha256))
        {
            return PolicyResponses.BadGateway($"{filename} has no usable SHA-256 in its Packages entry, so it cannot be verified and is not served");
        }
        var source = new ArtifactSource(new Uri(view.Repository.Upstream, filename), Path.GetFileName(filename), sha256)
        {
            PinName = repository + "/" + filename,
        };
        var verifyFirst = options.Value.Mirrors.TryGetValue(AptMirror.Ecosystem, out var mirrorOptions) ? mirrorOptions.VerifyBeforeServingBytes : 64L * 1024 * 1024;
        return await mirror.Artifacts(repository).ServeAsync(context, source, "application/vnd.debian.binary-package", large: entry.Size > verifyFirst, cancellationToken).ConfigureAwait(false);
    }
}
