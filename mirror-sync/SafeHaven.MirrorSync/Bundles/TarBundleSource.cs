using System.Formats.Tar;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// A bundle that is one tar file. The tar is indexed first (headers only: the reader seeks past the data), so it must be
/// seekable; a member whose data runs past the end of the file, a missing end-of-archive marker, a repeated name or
/// anything other than a regular file refuses the bundle as truncated or damaged.
/// </summary>
public sealed class TarBundleSource(string description, Func<CancellationToken, Task<Stream>> open) : IBundleSource
{
    private Dictionary<string, (long Offset, long Length)>? _index;

    public string Description => description;

    /// <summary>A tar file on this machine.</summary>
    public static TarBundleSource ForFile(string path)
    {
        var full = Path.GetFullPath(path);
        return new TarBundleSource(full, _ => Task.FromResult<Stream>(
            new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous)));
    }

    public async Task<IReadOnlyDictionary<string, long>> ListAsync(CancellationToken cancellationToken)
    {
        var index = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        await using var stream = await open(cancellationToken).ConfigureAwait(false);
        if (!stream.CanSeek)
        {
            throw new BundleRefusedException($"{description}: a tar bundle must be read from seekable storage (a file).");
        }
        var length = stream.Length;
        long end = 0;
        try
        {
            await using var reader = new TarReader(stream, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw new BundleRefusedException($"{description}: the tar holds {entry.Name} of type {entry.EntryType}; a bundle holds only regular files.");
                }
                if (entry.DataOffset < 0 || entry.DataOffset + entry.Length > length)
                {
                    throw new BundleRefusedException($"{description}: the tar is truncated: {entry.Name} should hold {entry.Length} bytes but the file ends before them.");
                }
                if (!index.TryAdd(entry.Name, (entry.DataOffset, entry.Length)))
                {
                    throw new BundleRefusedException($"{description}: the tar holds {entry.Name} twice.");
                }
                end = entry.DataOffset + (entry.Length + 511) / 512 * 512;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            throw new BundleRefusedException($"{description}: the tar is truncated or damaged ({e.Message}).", e);
        }
        if (length < end + 1024)
        {
            throw new BundleRefusedException($"{description}: the tar is truncated: it ends without the end-of-archive marker after its last member.");
        }
        _index = index;
        return index.ToDictionary(e => e.Key, e => e.Value.Item2, StringComparer.Ordinal);
    }

    public async Task<Stream?> OpenAsync(string path, CancellationToken cancellationToken)
    {
        if (_index is null)
        {
            await ListAsync(cancellationToken).ConfigureAwait(false);
        }
        if (!_index!.TryGetValue(path, out var at))
        {
            return null;
        }
        var stream = await open(cancellationToken).ConfigureAwait(false);
        stream.Seek(at.Offset, SeekOrigin.Begin);
        return new BoundedReadStream(stream, at.Length);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
