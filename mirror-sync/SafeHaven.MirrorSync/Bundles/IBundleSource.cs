namespace SafeHaven.MirrorSync.Bundles;

/// <summary>A bundle to read: a directory, a tar file, or an airlock volume. Read-only.</summary>
public interface IBundleSource : IAsyncDisposable
{
    /// <summary>What the bundle is, for messages (a path, or an airlock submission).</summary>
    string Description { get; }

    /// <summary>
    /// Every file the bundle holds, by its path inside the bundle ('/'-separated), with its size. A tar that is
    /// truncated or damaged, or holds something other than regular files, is refused here.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Opens one file of the bundle for reading (forward only), or null when there is no such file.</summary>
    Task<Stream?> OpenAsync(string path, CancellationToken cancellationToken);
}
