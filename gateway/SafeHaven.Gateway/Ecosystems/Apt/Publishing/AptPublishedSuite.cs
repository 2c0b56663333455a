namespace SafeHaven.Gateway.Ecosystems.Apt.Publishing;

/// <summary>A file of a published <c>dists/&lt;suite&gt;/</c> tree: where it is on disk, and what the <c>Release</c> says of it.</summary>
public sealed record PublishedFile(string FullPath, long Size, string Sha256, string ContentType);

/// <summary>A <c>.deb</c> a published <c>Packages</c> index names, and the SHA-256 it must have before it is served.</summary>
public sealed record PoolEntry(string Filename, string Sha256, long Size);

/// <summary>
/// One suite as the appliance publishes it: a whole, signed <c>dists/&lt;suite&gt;/</c> tree written before it is
/// swapped in (atomically, by reference), with the pool files its indexes list.
/// </summary>
public sealed record AptPublishedSuite(
    string Repository, string Suite, string Directory, IReadOnlyDictionary<string, PublishedFile> Files,
    IReadOnlyDictionary<string, PoolEntry> Pool, DateTimeOffset PublishedAt, DateTimeOffset ValidUntil,
    DateTimeOffset UpstreamDate, string Fingerprint, int Listed);
