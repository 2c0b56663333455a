namespace SafeHaven.Core.Snapshots;

/// <summary>
/// What the appliance records of a published snapshot (its manifest is the blob whose digest is <see cref="Id"/>).
/// <see cref="Bytes"/> is the sum of the entries' sizes.
/// </summary>
public sealed record SnapshotRecord(
    string Id, string Ecosystem, DateTimeOffset CreatedAt, string Origin,
    int Documents, int Artifacts, long Bytes)
{
    /// <summary>The record of a manifest whose id is <paramref name="id"/>.</summary>
    public static SnapshotRecord For(string id, SnapshotManifest manifest)
    {
        var documents = 0;
        var artifacts = 0;
        long bytes = 0;
        foreach (var entry in manifest.Entries)
        {
            if (entry.Kind == SnapshotEntryKind.Artifact)
            {
                artifacts++;
            }
            else
            {
                documents++;
            }
            bytes += entry.Size;
        }
        return new SnapshotRecord(id, manifest.Ecosystem, manifest.CreatedAt, manifest.Origin, documents, artifacts, bytes);
    }
}
