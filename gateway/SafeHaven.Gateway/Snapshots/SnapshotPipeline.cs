using Microsoft.AspNetCore.Http;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// The rest of the appliance's request pipeline after the snapshot-serving middleware (routing, the mirrors'
/// endpoints), captured when the pipeline is built, so captures invoke the live, policy-filtered mirror in process.
/// </summary>
public sealed class SnapshotPipeline
{
    private RequestDelegate? _next;

    /// <summary>The live pipeline; throws when the capture point was never placed (<c>UseSafeHavenSnapshots</c>).</summary>
    public RequestDelegate Next => _next ?? throw new InvalidOperationException(
        "The snapshot capture point is not in the request pipeline: call app.UseSafeHavenSnapshots() before the mirrors are mapped, and start the host.");

    public bool IsReady => _next is not null;

    internal void Set(RequestDelegate next) => _next = next;
}
