using Microsoft.Win32.SafeHandles;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;

namespace SafeHaven.Gateway.Ecosystems.Conda.Upstream;

/// <summary>
/// One upstream subdir as last read and checked: its <c>repodata.json</c> kept on disk (<see cref="UpstreamFile"/>,
/// null when upstream has no such subdir), its records, and where its files are fetched from (<see cref="ArtifactBase"/>:
/// upstream's <c>base_url</c> resolved against the index's own URL, else the subdir's folder).
/// </summary>
public sealed record CondaSubdirState(
    string Channel, string Subdir, string? UpstreamFile, string? UpstreamSha256, string? ETag, Uri ArtifactBase,
    CondaRepodata Repodata, IReadOnlyDictionary<string, CondaRecord> ByFilename, DateTimeOffset ReadAt)
{
    public string Key => Channel + "/" + Subdir;

    /// <summary>Upstream answered 404 for this subdir: the appliance serves a valid empty index for it.</summary>
    public bool Missing => UpstreamFile is null;

    /// <summary>Opens the kept upstream file for reading records back (null when upstream has no such subdir).</summary>
    public SafeFileHandle? OpenUpstream() => UpstreamFile is null
        ? null
        : File.OpenHandle(UpstreamFile, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);

    public static CondaSubdirState Empty(string channel, string subdir, Uri artifactBase, DateTimeOffset readAt) =>
        new(channel, subdir, null, null, null, artifactBase, CondaRepodata.Empty, new Dictionary<string, CondaRecord>(), readAt);
}

/// <summary>What is persisted of a <see cref="CondaSubdirState"/> so that a restart serves it before upstream answers.</summary>
public sealed record CondaSubdirManifest(string? UpstreamFile, string? UpstreamSha256, string? ETag, DateTimeOffset ReadAt);
