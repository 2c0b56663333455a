using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>Thrown when a capture cannot complete: a request answered non-2xx, a stale copy, or failed.</summary>
public sealed class SnapshotCaptureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Takes a snapshot of one ecosystem by running its <see cref="ISnapshotPlan"/> against the appliance's own request
/// pipeline, in process (no socket): every request goes through routing, the tier policy and the mirror's endpoint,
/// exactly as a client's would, but not through the snapshot-serving middleware, so it sees the live mirror. Each
/// answer is streamed into the blob store. Any non-2xx answer, or one served from a stale copy because upstream
/// could not be reached, fails the whole capture; nothing is published then (the blobs written are unreferenced
/// and left to garbage collection).
/// </summary>
public sealed class SnapshotCapture(
    SnapshotPipeline pipeline, IServiceScopeFactory scopes, IBlobStore blobs, TimeProvider time, ILogger<SnapshotCapture> logger)
{
    /// <summary>How many capture requests run at once.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>
    /// Captures <paramref name="plan"/>'s ecosystem and returns the manifest of what was captured (all its blobs are
    /// stored; publishing it is the caller's). Throws <see cref="SnapshotCaptureException"/> naming the first failure.
    /// </summary>
    public async Task<SnapshotManifest> CaptureAsync(
        ISnapshotPlan plan, SnapshotScope scope, int tier, string? parent, CancellationToken cancellationToken,
        IProgress<SnapshotEntry>? progress = null)
    {
        var ecosystem = plan.Ecosystem;
        var started = time.GetUtcNow();
        var createdAt = new DateTimeOffset(started.UtcTicks - started.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var marker = Encoding.ASCII.GetBytes(SnapshotManifest.RebaseOrigin + "/" + ecosystem + "/");
        var seen = new ConcurrentDictionary<(string Path, string Accept), byte>();
        var entries = new ConcurrentDictionary<(string Path, string MediaType), SnapshotEntry>();
        using var capture = SnapshotCaptureContext.Begin(ecosystem);

        var wave = new List<SnapshotRequest>();
        foreach (var root in plan.Roots(scope))
        {
            if (seen.TryAdd((root.Path, root.Accept), 0))
            {
                wave.Add(root);
            }
        }
        while (wave.Count > 0)
        {
            var next = new ConcurrentQueue<SnapshotRequest>();
            await Parallel.ForEachAsync(wave, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (request, ct) =>
                {
                    var entry = await CaptureOneAsync(ecosystem, request, marker, ct).ConfigureAwait(false);
                    if (entries.TryAdd((entry.Path, entry.MediaType), entry))
                    {
                        progress?.Report(entry);
                    }
                    if (request.Kind != SnapshotEntryKind.Document)
                    {
                        return;
                    }
                    await using var document = await blobs.OpenReadAsync(BlobDigest.Parse(entry.Sha256), ct).ConfigureAwait(false)
                        ?? throw new SnapshotCaptureException($"{ecosystem} {request.Path}: the captured document vanished from the blob store.");
                    await foreach (var link in plan.LinksAsync(request, document, scope, ct).ConfigureAwait(false))
                    {
                        if (!SnapshotManifest.IsValidPath(link.Path))
                        {
                            throw new SnapshotCaptureException($"{ecosystem} {request.Path} names '{link.Path}', which is not a path under /{ecosystem}/.");
                        }
                        if (seen.TryAdd((link.Path, link.Accept), 0))
                        {
                            next.Enqueue(link);
                        }
                    }
                }).ConfigureAwait(false);
            wave = [.. next];
        }
        var manifest = new SnapshotManifest(SnapshotManifest.CurrentFormatVersion, ecosystem, createdAt, tier, parent, "sync", [.. entries.Values]);
        logger.LogInformation("{Ecosystem} snapshot captured: {Entries} entries, {Revalidated} upstream documents revalidated ({Elapsed:0.0} s)",
            ecosystem, manifest.Entries.Count, SnapshotCaptureContext.Current?.Revalidated ?? 0, (time.GetUtcNow() - started).TotalSeconds);
        return manifest;
    }

    private async Task<SnapshotEntry> CaptureOneAsync(string ecosystem, SnapshotRequest request, byte[] marker, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var scope = scopes.CreateAsyncScope();
        await using var writer = await blobs.BeginWriteAsync(cancellationToken).ConfigureAwait(false);
        var response = new CaptureResponse(writer, request.Kind == SnapshotEntryKind.Document ? marker : null);
        var context = CreateContext(ecosystem, request, response, scope.ServiceProvider, cancellationToken);
        try
        {
            await pipeline.Next(context).ConfigureAwait(false);
            await response.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SnapshotCaptureException($"{ecosystem} {request.Path}: {e.Message}", e);
        }
        finally
        {
            await response.RunCompletedAsync().ConfigureAwait(false);
        }
        var status = response.StatusCode;
        if (status is < 200 or > 299)
        {
            var body = response.PrefixText;
            throw new SnapshotCaptureException(
                $"{ecosystem} {request.Path} ({request.Accept}) answered {status}{(body.Length > 0 ? ": " + PolicyResponses.SanitizeHeader(body) : "")}");
        }
        if (response.Headers.TryGetValue(PolicyResponses.StaleHeader, out var stale))
        {
            throw new SnapshotCaptureException($"{ecosystem} {request.Path}: upstream could not be revalidated ({stale}); a snapshot is not taken from a stale copy.");
        }
        if (response.Headers.ContentEncoding.Count > 0)
        {
            throw new SnapshotCaptureException($"{ecosystem} {request.Path}: answered with Content-Encoding {response.Headers.ContentEncoding}, which a capture never asks for.");
        }
        var digest = await writer.CommitAsync(null, cancellationToken).ConfigureAwait(false);
        var mediaType = response.Headers.ContentType.ToString();
        return new SnapshotEntry(request.Path, string.IsNullOrEmpty(mediaType) ? "application/octet-stream" : mediaType,
            digest.Hex, writer.Length, request.Kind, response.MarkerFound);
    }

    private static DefaultHttpContext CreateContext(
        string ecosystem, SnapshotRequest request, CaptureResponse response, IServiceProvider services, CancellationToken cancellationToken)
    {
        var target = "/" + ecosystem + "/" + request.Path;
        var headers = new HeaderDictionary
        {
            [Microsoft.Net.Http.Headers.HeaderNames.Host] = SnapshotManifest.RebaseHost,
            [Microsoft.Net.Http.Headers.HeaderNames.Accept] = request.Accept,
            ["User-Agent"] = "SafeHaven-snapshot",
        };
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Method = HttpMethods.Get,
            Scheme = "http",
            PathBase = "",
            Path = PathString.FromUriComponent(target).Value!,
            QueryString = "",
            RawTarget = target,
            Headers = headers,
        });
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(response);
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = cancellationToken });
        features.Set<IServiceProvidersFeature>(new RequestServicesFeature(services));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = "snapshot",
            LocalIpAddress = IPAddress.Loopback,
            RemoteIpAddress = IPAddress.Loopback,
        });
        return new DefaultHttpContext(features);
    }

    private sealed class RequestServicesFeature(IServiceProvider services) : IServiceProvidersFeature
    {
        public IServiceProvider RequestServices { get; set; } = services;
    }
}
