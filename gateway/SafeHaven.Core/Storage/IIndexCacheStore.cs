namespace SafeHaven.Core.Storage;

/// <summary>An upstream index document as last fetched successfully.</summary>
public sealed record CachedIndex(byte[] Content, DateTimeOffset FetchedAt, string? UpstreamETag);

/// <summary>
/// Durable cache of upstream index documents (one row per ecosystem and key). A row is replaced whole,
/// so a reader sees either the previous good document or the new one, never a mix.
/// </summary>
public interface IIndexCacheStore
{
    Task<CachedIndex?> GetAsync(string ecosystem, string key, CancellationToken cancellationToken);

    /// <summary>The stored documents among <paramref name="keys"/> (missing ones are left out), in few queries however many keys.</summary>
    Task<IReadOnlyDictionary<string, CachedIndex>> GetManyAsync(string ecosystem, IReadOnlyCollection<string> keys, CancellationToken cancellationToken);

    Task PutAsync(string ecosystem, string key, CachedIndex index, CancellationToken cancellationToken);

    /// <summary>Marks a cached document as confirmed unchanged by upstream at <paramref name="fetchedAt"/>.</summary>
    Task TouchAsync(string ecosystem, string key, DateTimeOffset fetchedAt, CancellationToken cancellationToken);

    Task DeleteAsync(string ecosystem, string key, CancellationToken cancellationToken);

    /// <summary>Keys of documents last fetched before <paramref name="before"/>, oldest first.</summary>
    Task<IReadOnlyList<string>> ListFetchedBeforeAsync(string ecosystem, DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>The oldest fetch time among cached documents of an ecosystem, or null when there are none.</summary>
    Task<DateTimeOffset?> GetOldestFetchAsync(string ecosystem, CancellationToken cancellationToken);
}
