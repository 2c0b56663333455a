using SafeHaven.Core.Snapshots;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// One request a capture makes of the appliance's own pipeline. <see cref="Path"/> is relative to
/// <c>/&lt;ecosystem&gt;/</c>, no leading slash, as on the wire; <see cref="Accept"/> is <c>*/*</c> unless a variant is wanted.
/// </summary>
public sealed record SnapshotRequest(string Path, string Accept, SnapshotEntryKind Kind);

/// <summary>What a capture includes beyond what an ecosystem's roots list.</summary>
/// <param name="Tier">The appliance's tier.</param>
/// <param name="Packages">Named sets (normalised names) from <c>SafeHaven:Mirrors:&lt;eco&gt;:Sync:Packages</c>; empty = none.</param>
/// <param name="FollowAll">Tier 3/4: follow every link from the roots (the allowlist closure is exactly what the roots list).</param>
/// <param name="Prefetch">Capture artifacts (Tier 3/4 default true; Tier 0-2 <c>Sync:Prefetch</c>, default false).</param>
public sealed record SnapshotScope(int Tier, IReadOnlySet<string> Packages, bool FollowAll, bool Prefetch);

/// <summary>
/// How one ecosystem's served surface is captured, implemented in that ecosystem's folder
/// (<c>Ecosystems/&lt;Eco&gt;/&lt;Eco&gt;SnapshotPlan.cs</c>) and registered as a singleton when the mirror is enabled.
/// </summary>
public interface ISnapshotPlan
{
    string Ecosystem { get; }

    /// <summary>Prepares upstream state before a capture (e.g. apt/conda: run their repository refresh now and throw if it failed).</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>The first documents to capture (e.g. pypi: <c>simple/</c> as JSON and as HTML, plus the pages of scope.Packages).</summary>
    IEnumerable<SnapshotRequest> Roots(SnapshotScope scope);

    /// <summary>Further requests a captured document names (per-package pages; artifacts when scope.Prefetch). Reads the document as a stream.</summary>
    IAsyncEnumerable<SnapshotRequest> LinksAsync(SnapshotRequest captured, Stream document, SnapshotScope scope, CancellationToken cancellationToken);
}
