using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Ecosystems.Conda.Publishing;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.Conda;

/// <summary>
/// The conda URL space, <c>/conda/&lt;channel&gt;/&lt;subdir&gt;/...</c>: <c>repodata.json</c> (also as
/// <c>current_repodata.json</c>, the same filtered content, which conda accepts) and <c>repodata.json.zst</c>, each with
/// a strong ETag and <c>If-None-Match</c>; and every <c>.conda</c> and <c>.tar.bz2</c> file a published index lists,
/// verified against its <c>sha256</c> and <c>size</c> before a client gets it. What is not served answers a 404 problem
/// that clients fall back from: <c>repodata.json.bz2</c>, sharded repodata (CEP 16), <c>channeldata.json</c>.
/// </summary>
public static class CondaEndpoints
{
    private static readonly string[] GetHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>How long a request for a stale index waits for its refresh before the last published one is served.</summary>
    public static readonly TimeSpan StaleRefreshWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapConda(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/conda/{channel}/{subdir}/{**path}", GetHead, ServeAsync);
        app.MapMethods("/conda/{channel}/{**path}", GetHead, (string channel, string? path, CondaMirror mirror) => mirror.Channels.ContainsKey(channel)
            ? NotFound($"'{path}' is not served for conda channel '{channel}': indexes and files are under /conda/{channel}/<subdir>/ (channeldata.json is not served; clients do without it)")
            : NotFound($"no conda channel '{channel}' is configured"));
        return app;
    }

    /// <summary>A 404 problem: clients treat it as "not there" and fall back (from sharded or compressed indexes to repodata.json).</summary>
    public static IResult NotFound(string detail) =>
        Results.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> ServeAsync(HttpContext context, string channel, string subdir, string? path, CondaMirror mirror,
        IOptions<SafeHavenOptions> options, CancellationToken cancellationToken)
    {
        if (!mirror.Channels.TryGetValue(channel, out var access))
        {
            return NotFound($"no conda channel '{channel}' is configured");
        }
        if (string.IsNullOrEmpty(path) && !access.Channel.Subdirs.Contains(subdir))
        {
            return NotFound($"'{subdir}' is not served for conda channel '{channel}': indexes and files are under /conda/{channel}/<subdir>/ (channeldata.json is not served; clients do without it)");
        }
        if (!access.Channel.Subdirs.Contains(subdir))
        {
            return NotFound($"conda channel '{channel}' mirrors the subdirs {string.Join(", ", access.Channel.Subdirs)}, not '{subdir}'");
        }
        path ??= "";
        var index = path is "repodata.json" or "current_repodata.json" or "repodata.json.zst";
        if (index)
        {
            await mirror.RefreshIfStaleAsync(channel, subdir, StaleRefreshWait, cancellationToken).ConfigureAwait(false);
        }
        if (mirror.Published(channel, subdir) is not { } published)
        {
            var status = mirror.Status.GetValueOrDefault(channel + "/" + subdir);
            return PolicyResponses.NotReady(status?.LastError is { } error
                ? $"conda {channel}/{subdir} has never been read and published: {error}"
                : $"conda {channel}/{subdir} has not been read and published yet");
        }
        if (index)
        {
            var file = path == "repodata.json.zst" ? published.RepodataZst : published.Repodata;
            if (mirror.Status.GetValueOrDefault(published.Key) is { LastFailure: { } failure } status && (status.LastSuccess is null || failure > status.LastSuccess))
            {
                PolicyResponses.MarkStale(context, $"upstream refresh failed at {failure:O}: {status.LastError}; serving the index read at {published.Upstream.ReadAt:O}");
            }
            context.Response.Headers.CacheControl = "public, max-age=60";
            return new StoredFileResult(file.FullPath, file.Size, file.ContentType, file.ETag);
        }
        if (path is "repodata.json.bz2" or "current_repodata.json.zst" or "current_repodata.json.bz2")
        {
            return NotFound($"{path} is not published here; clients use repodata.json.zst or repodata.json");
        }
        if (path == "repodata_shards.msgpack.zst" || path.StartsWith("shards/", StringComparison.Ordinal))
        {
            return NotFound("sharded repodata (CEP 16) is not served here; clients fall back to repodata.json.zst or repodata.json");
        }
        if (path.Contains('/', StringComparison.Ordinal) || !(path.EndsWith(".conda", StringComparison.Ordinal) || path.EndsWith(".tar.bz2", StringComparison.Ordinal)))
        {
            return NotFound($"'{path}' is not served under conda {channel}/{subdir}: repodata.json, repodata.json.zst, current_repodata.json and the .conda and .tar.bz2 files they list are");
        }
        return await ArtifactAsync(context, published, path, access, options.Value, mirror, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IResult> ArtifactAsync(HttpContext context, CondaPublishedSubdir published, string filename, CondaChannelAccess access,
        SafeHavenOptions options, CondaMirror mirror, CancellationToken cancellationToken)
    {
        var state = published.Upstream;
        if (!published.Listed.Contains(filename) || state.ByFilename.GetValueOrDefault(filename) is not { } record)
        {
            if (mirror.Decide(state, filename) is { Visible: false } decision)
            {
                return PolicyResponses.Hidden(context, decision.Code, decision.Reason);
            }
            return NotFound($"{filename} is not listed by the published repodata.json of conda {published.Key}");
        }
        if (!BlobDigest.TryParse(record.Sha256, out var sha256))
        {
            return PolicyResponses.BadGateway($"{filename} has no usable sha256 in its record, so it cannot be verified and is not served");
        }
        var source = new ArtifactSource(new Uri(state.ArtifactBase, Uri.EscapeDataString(filename)), filename, sha256)
        {
            PinName = published.Key + "/" + filename,
            Length = record.Size,
        };
        var verifyFirst = options.Mirrors.TryGetValue(CondaMirror.Ecosystem, out var mirrorOptions) ? mirrorOptions.VerifyBeforeServingBytes : 64L * 1024 * 1024;
        var contentType = record.IsConda ? "application/octet-stream" : "application/x-bzip2";
        return await access.Artifacts.ServeAsync(context, source, contentType, large: record.Size > verifyFirst, cancellationToken).ConfigureAwait(false);
    }
}
