using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// Lists a cpio archive forwards only: the portable ASCII formats newc (<c>070701</c>) and crc (<c>070702</c>) that
/// rpm payloads and Linux initramfs images use, the old portable format odc (<c>070707</c>), and the old binary format
/// (magic <c>0x71c7</c> in either byte order). No library this project may use reads cpio, so this is a small reader
/// of its own, bounded everywhere: names and link targets are at most 4 KiB, a member's data is read as a bounded
/// stream and handed on to be inspected as content, and entries count against the inspection budget.
/// </summary>
/// <remarks>
/// Entries are replayed over the same virtual tree as tar's, in order: symbolic links (the target is the member's
/// data), hard links (cpio has no link entry: members that share a device and inode number are one file, and each
/// later name is a hard link to the first, which is how <c>cpio -i</c> restores them), devices, FIFOs and sockets
/// (blocked). Archives may follow one another after a <c>TRAILER!!!</c> entry, as the kernel unpacks initramfs
/// images: each is listed into the same tree; anything else after a trailer but zero padding is blocked as
/// uninspectable.
/// </remarks>
internal static class CpioLister
{
    public const int MaxNameBytes = 4096;
    public const int MaxLinkTargetBytes = 4096;
    private const string Trailer = "TRAILER!!!";

    private enum Dialect
    {
        Newc,
        Crc,
        Odc,
        BinaryLittleEndian,
        BinaryBigEndian,
    }

    private sealed record Header(Dialect Dialect, long Device, long Inode, long Mode, long Links, long NameSize, long FileSize);

    public static async Task ListAsync(
        Stream archive, string path, InspectionWalk walk, Func<Stream, string, CancellationToken, Task> inspectMember, CancellationToken cancellationToken)
    {
        var input = new Input(archive);
        var links = new HashSet<string>(StringComparer.Ordinal);
        var tree = new VirtualTree();
        var firstNames = new Dictionary<(long Device, long Inode), string>();
        while (true)
        {
            var header = await ReadHeaderAsync(input, path, cancellationToken).ConfigureAwait(false);
            var name = await ReadNameAsync(input, header, path, cancellationToken).ConfigureAwait(false);
            if (name == Trailer)
            {
                await SkipAsync(input, header.FileSize, cancellationToken).ConfigureAwait(false);
                await SkipAsync(input, Padding(header.Dialect, input.Position), cancellationToken).ConfigureAwait(false);
                if (!await input.SkipZerosAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
                if (!await input.StartsWithCpioMagicAsync(cancellationToken).ConfigureAwait(false))
                {
                    walk.Add(path, FindingKind.Uninspectable,
                        $"'{path}' continues after its cpio trailer with data that is not another cpio archive (an initramfs may append compressed archives): blocked as uninspectable");
                    break;
                }
                continue;
            }
            var entryPath = $"{path}!/{name}";
            walk.Budget.AddEntry(entryPath);
            var type = header.Mode & 0xF000;
            var kind = type switch
            {
                0x8000 => ArchiveEntryKind.File,
                0x4000 => ArchiveEntryKind.Directory,
                0xA000 => ArchiveEntryKind.SymbolicLink,
                0x2000 or 0x6000 => ArchiveEntryKind.Device,
                0x1000 or 0xC000 => ArchiveEntryKind.Fifo,
                _ => ArchiveEntryKind.Other,
            };
            string? target = null;
            if (kind == ArchiveEntryKind.File && header.Links > 1)
            {
                if (firstNames.TryGetValue((header.Device, header.Inode), out var first))
                {
                    kind = ArchiveEntryKind.HardLink;
                    target = first;
                }
                else
                {
                    firstNames[(header.Device, header.Inode)] = name;
                }
            }
            if (kind == ArchiveEntryKind.SymbolicLink)
            {
                if (header.FileSize is 0 or > MaxLinkTargetBytes)
                {
                    throw new InspectionStoppedException(FindingKind.Malformed,
                        $"symbolic link '{name}' in '{path}' has a target of {header.FileSize} bytes (1 to {MaxLinkTargetBytes} allowed)", entryPath);
                }
                var bytes = new byte[header.FileSize];
                await input.ReadExactlyAsync(bytes, path, cancellationToken).ConfigureAwait(false);
                target = Encoding.UTF8.GetString(bytes).TrimEnd('\0');
            }
            walk.Entries.Add(new ArchiveEntryInfo(entryPath, kind == ArchiveEntryKind.SymbolicLink ? target!.Length : header.FileSize, kind, target));
            walk.CheckMember(entryPath, name, links);
            switch (kind)
            {
                case ArchiveEntryKind.SymbolicLink or ArchiveEntryKind.HardLink:
                    walk.CheckLink(entryPath, name, target!, symbolic: kind == ArchiveEntryKind.SymbolicLink);
                    if (kind == ArchiveEntryKind.SymbolicLink)
                    {
                        links.Add(ArchivePaths.Normalise(name));
                    }
                    break;
                case ArchiveEntryKind.Device or ArchiveEntryKind.Fifo:
                    walk.Add(entryPath, FindingKind.SpecialFile, $"entry '{name}' is a {Describe(type)}, which may not enter");
                    break;
                case ArchiveEntryKind.Other:
                    walk.Add(entryPath, FindingKind.Uninspectable, $"entry '{name}' has the unknown cpio file type {Convert.ToString(type, 8)}, which the inspector does not clear");
                    break;
            }
            if (kind != ArchiveEntryKind.SymbolicLink && header.FileSize > 0)
            {
                // A hard link's data (cpio stores it with one of the names) is the file's content all the same.
                var member = new BoundedReadStream(input.AsStream(), header.FileSize);
                if (kind is ArchiveEntryKind.File or ArchiveEntryKind.HardLink)
                {
                    await inspectMember(member, entryPath, cancellationToken).ConfigureAwait(false);
                }
                await member.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                if (member.Remaining > 0)
                {
                    throw new InspectionStoppedException(FindingKind.Malformed,
                        $"'{entryPath}' declares {header.FileSize} bytes but the archive ends after {header.FileSize - member.Remaining} (truncated)", entryPath);
                }
            }
            await SkipAsync(input, Padding(header.Dialect, input.Position), cancellationToken).ConfigureAwait(false);
            walk.Place(tree, entryPath, name, kind, target);
        }
        walk.FinishTree(tree, $"{path}!/");
    }

    private static string Describe(long type) => type switch
    {
        0x2000 => "character device",
        0x6000 => "block device",
        0x1000 => "FIFO",
        _ => "socket",
    };

    /// <summary>Bytes of padding after a header's name or a member's data, to the dialect's alignment.</summary>
    private static long Padding(Dialect dialect, long position) => dialect switch
    {
        Dialect.Newc or Dialect.Crc => (4 - (position % 4)) % 4,
        Dialect.BinaryLittleEndian or Dialect.BinaryBigEndian => position % 2,
        _ => 0,
    };

    private static async Task<Header> ReadHeaderAsync(Input input, string path, CancellationToken cancellationToken)
    {
        var magic = new byte[6];
        await input.ReadExactlyAsync(magic.AsMemory(0, 2), path, cancellationToken).ConfigureAwait(false);
        if ((magic[0] == 0xc7 && magic[1] == 0x71) || (magic[0] == 0x71 && magic[1] == 0xc7))
        {
            var littleEndian = magic[0] == 0xc7;
            var rest = new byte[24];
            await input.ReadExactlyAsync(rest, path, cancellationToken).ConfigureAwait(false);
            long Word(int index) => littleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(rest.AsSpan(index * 2)) : BinaryPrimitives.ReadUInt16BigEndian(rest.AsSpan(index * 2));
            // dev, ino, mode, uid, gid, nlink, rdev, mtime[2], namesize, filesize[2] (32-bit values most significant word first).
            return new Header(littleEndian ? Dialect.BinaryLittleEndian : Dialect.BinaryBigEndian,
                Word(0), Word(1), Word(2), Word(5), Word(9), (Word(10) << 16) | Word(11));
        }
        await input.ReadExactlyAsync(magic.AsMemory(2, 4), path, cancellationToken).ConfigureAwait(false);
        var text = Encoding.ASCII.GetString(magic);
        switch (text)
        {
            case "070701" or "070702":
            {
                var rest = new byte[104];
                await input.ReadExactlyAsync(rest, path, cancellationToken).ConfigureAwait(false);
                long Field(int index) => Number(rest.AsSpan(index * 8, 8), 16, path);
                // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check.
                return new Header(text == "070701" ? Dialect.Newc : Dialect.Crc,
                    (Field(7) << 32) | Field(8), Field(0), Field(1), Field(4), Field(11), Field(6));
            }
            case "070707":
            {
                var rest = new byte[70];
                await input.ReadExactlyAsync(rest, path, cancellationToken).ConfigureAwait(false);
                // dev(6), ino(6), mode(6), uid(6), gid(6), nlink(6), rdev(6), mtime(11), namesize(6), filesize(11).
                return new Header(Dialect.Odc,
                    Number(rest.AsSpan(0, 6), 8, path), Number(rest.AsSpan(6, 6), 8, path), Number(rest.AsSpan(12, 6), 8, path),
                    Number(rest.AsSpan(30, 6), 8, path), Number(rest.AsSpan(53, 6), 8, path), Number(rest.AsSpan(59, 11), 8, path));
            }
            default:
                throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}' has a corrupt cpio header at byte {input.Position - 6}", path);
        }
    }

    private static async Task<string> ReadNameAsync(Input input, Header header, string path, CancellationToken cancellationToken)
    {
        if (header.NameSize is < 1 or > MaxNameBytes)
        {
            throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}' has a cpio entry whose name is {header.NameSize} bytes (1 to {MaxNameBytes} allowed)", path);
        }
        var bytes = new byte[header.NameSize];
        await input.ReadExactlyAsync(bytes, path, cancellationToken).ConfigureAwait(false);
        await SkipAsync(input, Padding(header.Dialect, input.Position), cancellationToken).ConfigureAwait(false);
        if (bytes[^1] != 0)
        {
            throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}' has a cpio entry name that is not NUL-terminated", path);
        }
        // The name as an extractor takes it: up to the first NUL (a NUL inside is kept, and blocked, by the name check).
        return Encoding.UTF8.GetString(bytes, 0, bytes.Length - 1);
    }

    private static long Number(ReadOnlySpan<byte> field, int radix, string path)
    {
        long value = 0;
        foreach (var b in field)
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => int.MaxValue,
            };
            if (digit >= radix)
            {
                throw new InspectionStoppedException(FindingKind.Malformed,
                    $"'{path}' has a cpio header field '{Encoding.ASCII.GetString(field)}' that is not a base-{radix.ToString(CultureInfo.InvariantCulture)} number", path);
            }
            value = (value * radix) + digit;
        }
        return value;
    }

    private static async Task SkipAsync(Input input, long count, CancellationToken cancellationToken)
    {
        if (count > 0)
        {
            await new BoundedReadStream(input.AsStream(), count).CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The archive, read forwards through a buffer that can look ahead (for what follows a trailer).</summary>
    private sealed class Input(Stream inner)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;
        private Stream? _stream;

        public long Position { get; private set; }

        public Stream AsStream() => _stream ??= new View(this);

        public async Task ReadExactlyAsync(Memory<byte> destination, string path, CancellationToken cancellationToken)
        {
            while (destination.Length > 0)
            {
                var n = await ReadAsync(destination, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}' ends inside a cpio header (truncated)", path);
                }
                destination = destination[n..];
            }
        }

        /// <summary>Skips zero bytes (block padding); false at the end of the archive.</summary>
        public async Task<bool> SkipZerosAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
                while (_start < _end && _buffer[_start] == 0)
                {
                    _start++;
                    Position++;
                }
                if (_start < _end)
                {
                    return true;
                }
            }
        }

        /// <summary>Whether the next bytes are a cpio magic, without consuming them.</summary>
        public async Task<bool> StartsWithCpioMagicAsync(CancellationToken cancellationToken)
        {
            if (_end - _start < 6)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
                int n;
                while (_end < 6 && (n = await inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    _end += n;
                }
            }
            var head = _buffer.AsSpan(_start, _end - _start);
            return head.StartsWith("070701"u8) || head.StartsWith("070702"u8) || head.StartsWith("070707"u8)
                || head.StartsWith([(byte)0xc7, (byte)0x71]) || head.StartsWith([(byte)0x71, (byte)0xc7]);
        }

        public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
            return Take(destination.Span);
        }

        public int Read(Span<byte> destination)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = inner.Read(_buffer);
                if (_end == 0)
                {
                    return 0;
                }
            }
            return Take(destination);
        }

        private int Take(Span<byte> destination)
        {
            var n = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(destination);
            _start += n;
            Position += n;
            return n;
        }

        private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await inner.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            return _end > 0;
        }

        private sealed class View(Input input) : Stream
        {
            public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer.AsSpan(offset, count));

            public override int Read(Span<byte> buffer) => input.Read(buffer);

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                input.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => input.Position; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
