namespace SafeHaven.Core.Blobs;

/// <summary>
/// One subsystem's answer to the garbage collector: which of some candidate blobs it still references (a retained
/// snapshot, an airlock volume file or upload, the read-through artifact cache). A source that cannot tell must throw:
/// the collector then deletes nothing (fail closed).
/// </summary>
public interface IBlobReferences
{
    /// <summary>What the source is, for the collector's report and errors.</summary>
    string Name { get; }

    /// <summary>The subset of <paramref name="candidates"/> this source still references.</summary>
    Task<IReadOnlySet<BlobDigest>> FindReferencedAsync(IReadOnlyCollection<BlobDigest> candidates, CancellationToken cancellationToken);
}
