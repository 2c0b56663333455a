namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// Writes a bundle as a directory. Each member goes to a temporary file beside its place (<c>.NAME.tmp</c>), is
/// flushed to disk and renamed into place only when its size and SHA-256 are right, so a member under its own name is
/// always complete. Resuming: a member already there with the right size and SHA-256 is kept; leftovers of an
/// interrupted write (temporary files) and a previous bundle.json and signature are removed first. A directory that
/// holds anything else is refused rather than mixed into the bundle.
/// </summary>
public sealed class DirectoryBundleTarget(string directory) : IBundleTarget
{
    private readonly string _root = Path.GetFullPath(directory);

    public string Description => _root;

    public async Task<IReadOnlySet<string>> BeginAsync(IReadOnlyList<BundleMember> members, IProgress<long>? verified, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        var byPath = members.ToDictionary(m => m.Path, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { BundleLayout.DescriptorName, BundleLayout.SignatureName })
        {
            File.Delete(Path.Combine(_root, name));
        }
        foreach (var file in new DirectoryInfo(_root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (file.Name.StartsWith('.') && file.Name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                file.Delete();
                continue;
            }
            if (!byPath.TryGetValue(relative, out var member))
            {
                throw new BundleRefusedException(
                    $"{_root} holds {relative}, which is not part of this bundle: export into an empty directory, or into the directory of an interrupted export of the same snapshot.");
            }
            if (file.Length == member.Size)
            {
                await using var stream = file.OpenRead();
                var (length, sha) = await HashingCopy.CopyAsync(stream, null, verified, cancellationToken).ConfigureAwait(false);
                if (HashingCopy.Mismatch(member, length, sha) is null)
                {
                    done.Add(relative);
                    continue;
                }
            }
            file.Delete(); // incomplete or wrong: written again
        }
        return done;
    }

    public async Task WriteMemberAsync(BundleMember member, Stream content, IProgress<long>? written, CancellationToken cancellationToken)
    {
        var target = Path.Combine(_root, member.Path.Replace('/', Path.DirectorySeparatorChar));
        await WriteAtomicallyAsync(target, async file =>
        {
            var (length, sha) = await HashingCopy.CopyAsync(content, file.WriteAsync, written, cancellationToken).ConfigureAwait(false);
            if (HashingCopy.Mismatch(member, length, sha) is { } problem)
            {
                throw new InvalidDataException($"the blob store's copy is damaged: {problem}");
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task CompleteAsync(byte[] descriptor, byte[] signature, CancellationToken cancellationToken)
    {
        await WriteAtomicallyAsync(Path.Combine(_root, BundleLayout.DescriptorName), f => f.WriteAsync(descriptor, cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        await WriteAtomicallyAsync(Path.Combine(_root, BundleLayout.SignatureName), f => f.WriteAsync(signature, cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteAtomicallyAsync(string target, Func<FileStream, Task> write, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(file).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
