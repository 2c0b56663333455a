namespace SafeHaven.Core.Snapshots;

/// <summary>What a snapshot entry is: an index document (re-rendered by policy) or an immutable artifact.</summary>
public enum SnapshotEntryKind
{
    Document,
    Artifact,
}

/// <summary>
/// One served file of a snapshot. <see cref="Path"/> is relative to <c>/&lt;ecosystem&gt;/</c> with no leading slash,
/// exactly as on the wire (percent-encoded) and query-less: pypi <c>simple/requests/</c>, cran
/// <c>src/contrib/PACKAGES.gz</c>, nuget <c>v3/flatcontainer/x/1.0.0/x.1.0.0.nupkg</c>, conda
/// <c>conda-forge/linux-64/repodata.json</c>, apt <c>debian/dists/bookworm/InRelease</c>. <see cref="MediaType"/> is the
/// Content-Type answered; several entries may share a path with different media types (PyPI's JSON and HTML variants).
/// <see cref="Rebase"/>: the document contains <see cref="SnapshotManifest.RebaseOrigin"/> + <c>/&lt;ecosystem&gt;/</c>
/// (NuGet's absolute URLs) and is rewritten to the request's origin when served.
/// </summary>
public sealed record SnapshotEntry(string Path, string MediaType, string Sha256, long Size, SnapshotEntryKind Kind, bool Rebase = false);
