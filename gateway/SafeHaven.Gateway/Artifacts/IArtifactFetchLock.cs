namespace SafeHaven.Gateway.Artifacts;

/// <summary>
/// A claim on the first fetch of one upstream artifact across replicas that share a blob store, so that two replicas
/// asked for the same file at once fetch and store it once. Within one process <see cref="ArtifactFetcher"/> already
/// shares one download; the embedded appliance has no claim (<see cref="ArtifactFetcher"/> is given none).
/// </summary>
public interface IArtifactFetchLock
{
    /// <summary>
    /// Waits for the claim on <paramref name="key"/>; disposing the result releases it. Null when it could not be had
    /// within the wait bound (a fetch elsewhere that hangs): the caller then fetches without it, which costs a
    /// duplicate download but never a wrong or partial object (the store is content-addressed and commits whole).
    /// </summary>
    Task<IAsyncDisposable?> AcquireAsync(string key, CancellationToken cancellationToken);

    /// <summary>Takes the claim only if nobody holds it; null when another replica does.</summary>
    Task<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken);
}
