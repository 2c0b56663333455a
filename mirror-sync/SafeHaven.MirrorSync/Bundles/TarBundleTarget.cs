using System.Formats.Tar;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// Writes a bundle as one tar file (POSIX ustar members, the same paths as a directory bundle). The tar is written as
/// <c>FILE.tar.partial</c> and renamed to <c>FILE.tar</c> only after bundle.json, its signature and the end-of-archive
/// marker are on disk. Resuming: the members of an existing <c>.partial</c> are read back in order; every complete one
/// with the right name, size and SHA-256 is kept, the file is cut after the last of them, and the export continues
/// from there.
/// </summary>
public sealed class TarBundleTarget(string file) : IBundleTarget
{
    private readonly string _path = Path.GetFullPath(file);
    private FileStream? _stream;
    private TarWriter? _writer;

    public string Description => _path;

    public string PartialPath => _path + ".partial";

    public async Task<IReadOnlySet<string>> BeginAsync(IReadOnlyList<BundleMember> members, IProgress<long>? verified, CancellationToken cancellationToken)
    {
        if (File.Exists(_path))
        {
            throw new BundleRefusedException($"{_path} already exists: remove it or choose another name (a finished bundle is never overwritten).");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var byPath = members.ToDictionary(m => m.Path, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        _stream = new FileStream(PartialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        long keep = 0;
        var length = _stream.Length;
        if (length > 0)
        {
            try
            {
                await using var reader = new TarReader(_stream, leaveOpen: true);
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (entry.EntryType != TarEntryType.RegularFile || !byPath.TryGetValue(entry.Name, out var member)
                        || entry.Length != member.Size || entry.DataOffset + entry.Length > length || done.Contains(entry.Name))
                    {
                        break;
                    }
                    var (read, sha) = await HashingCopy.CopyAsync(entry.DataStream!, null, verified, cancellationToken).ConfigureAwait(false);
                    if (HashingCopy.Mismatch(member, read, sha) is not null)
                    {
                        break;
                    }
                    done.Add(entry.Name);
                    keep = entry.DataOffset + (entry.Length + 511) / 512 * 512;
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
            {
                // a header cut short: everything before it is kept
            }
            keep = Math.Min(keep, length);
        }
        _stream.SetLength(keep);
        _stream.Seek(keep, SeekOrigin.Begin);
        _writer = new TarWriter(_stream, TarEntryFormat.Ustar, leaveOpen: true);
        return done;
    }

    public async Task WriteMemberAsync(BundleMember member, Stream content, IProgress<long>? written, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException("BeginAsync first.");
        var start = _stream!.Position;
        await using var hashing = new HashingReadStream(content) { Progress = written };
        await writer.WriteEntryAsync(NewEntry(member.Path, hashing), cancellationToken).ConfigureAwait(false);
        if (HashingCopy.Mismatch(member, hashing.BytesRead, hashing.Sha256()) is { } problem)
        {
            _stream.SetLength(start); // keep nothing of it
            _stream.Seek(start, SeekOrigin.Begin);
            throw new InvalidDataException($"the blob store's copy is damaged: {problem}");
        }
    }

    public async Task CompleteAsync(byte[] descriptor, byte[] signature, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException("BeginAsync first.");
        await writer.WriteEntryAsync(NewEntry(BundleLayout.DescriptorName, new MemoryStream(descriptor, writable: false)), cancellationToken).ConfigureAwait(false);
        await writer.WriteEntryAsync(NewEntry(BundleLayout.SignatureName, new MemoryStream(signature, writable: false)), cancellationToken).ConfigureAwait(false);
        await writer.DisposeAsync().ConfigureAwait(false); // the end-of-archive marker
        _writer = null;
        await _stream!.FlushAsync(cancellationToken).ConfigureAwait(false);
        _stream.Flush(flushToDisk: true);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stream = null;
        File.Move(PartialPath, _path, overwrite: false);
    }

    private static UstarTarEntry NewEntry(string name, Stream data) => new(TarEntryType.RegularFile, name)
    {
        DataStream = data,
        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        ModificationTime = DateTimeOffset.UnixEpoch,
    };

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            // interrupted: the .partial stays for the next run, without an end-of-archive marker
            await _stream.FlushAsync().ConfigureAwait(false);
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
