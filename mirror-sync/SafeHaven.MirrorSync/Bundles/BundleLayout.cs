namespace SafeHaven.MirrorSync.Bundles;

/// <summary>Where things are inside a bundle (a directory, or a tar file with the same members).</summary>
public static class BundleLayout
{
    /// <summary>What the bundle holds: written last, after every member.</summary>
    public const string DescriptorName = "bundle.json";

    /// <summary>The OpenPGP detached signature (binary or armoured) of bundle.json's exact bytes.</summary>
    public const string SignatureName = "bundle.json.sig";

    /// <summary>The snapshot manifest: its canonical JSON, whose SHA-256 is the snapshot id.</summary>
    public const string SnapshotMember = "snapshot.json";

    /// <summary>A signature file is a few hundred bytes; a larger one is refused rather than read whole.</summary>
    public const int MaxSignatureBytes = 1024 * 1024;

    /// <summary>Where a blob lives: <c>blobs/&lt;first two hex digits&gt;/&lt;sha256&gt;</c>.</summary>
    public static string BlobPath(string sha256) => $"blobs/{sha256[..2]}/{sha256}";

    /// <summary>Whether <paramref name="path"/> is the snapshot member or a well-formed blob path.</summary>
    public static bool IsMemberPath(string path)
    {
        if (path == SnapshotMember)
        {
            return true;
        }
        if (path.Length != 6 + 3 + 64 || !path.StartsWith("blobs/", StringComparison.Ordinal) || path[8] != '/')
        {
            return false;
        }
        var digest = path[9..];
        return Core.Snapshots.SnapshotManifest.IsLowerHexDigest(digest) && path.AsSpan(6, 2).SequenceEqual(digest.AsSpan(0, 2));
    }
}
