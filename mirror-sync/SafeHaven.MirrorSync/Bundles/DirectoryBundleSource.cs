namespace SafeHaven.MirrorSync.Bundles;

/// <summary>A bundle that is a directory (what <c>safehaven sync export --to DIR</c> writes, or its copy on removable media).</summary>
public sealed class DirectoryBundleSource(string directory) : IBundleSource
{
    private readonly string _root = Path.GetFullPath(directory);

    public string Description => _root;

    public Task<IReadOnlyDictionary<string, long>> ListAsync(CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(_root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            cancellationToken.ThrowIfCancellationRequested();
            files[Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/')] = file.Length;
        }
        return Task.FromResult<IReadOnlyDictionary<string, long>>(files);
    }

    public Task<Stream?> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(Path.Combine(_root, path));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
        {
            return Task.FromResult<Stream?>(null);
        }
        return Task.FromResult<Stream?>(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
