using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.IO;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// Inspects airlock files: the manifest line (size, SHA-256), an entry-by-entry listing of every archive and
/// compression format it can read (tar in its V7, ustar, GNU and PAX dialects; zip, also behind a prefix and zip64;
/// gzip, xz, bzip2, zstd; lz4 frames through K4os.Compression.LZ4; .lzma (LZMA-alone) through SharpCompress's LZMA
/// decoder; 7z and rar through SharpCompress; ar and .deb; cpio in its newc, crc, odc and old binary formats; git
/// bundles with their whole history), nested ones too, without extracting anything; the blocking rules (traversal,
/// absolute paths, links resolved over a virtual tree as an extractor would build it, device and FIFO entries,
/// decompression bombs measured while streaming, nesting depth) and, when configured, a ClamAV scan. It fails closed:
/// a format recognised by its bytes or claimed by its name that no reader here lists (the lz4 legacy format, lzip,
/// rpm, cab, ...) is blocked as uninspectable.
/// </summary>
/// <remarks>
/// Zip and git bundles need random access: a seekable source is read in place, otherwise the archive (its stored,
/// compressed bytes, never its members) is spooled to a temporary file that is deleted on close. Every layer of
/// compression or archiving counts as one nesting level (so a <c>.tar.gz</c> is depth 0 gzip, depth 1 tar).
/// </remarks>
public sealed class AirlockInspector
{
    private readonly InspectionOptions _options;
    private readonly IMalwareScanner? _scanner;
    private readonly GitBundleLister _git;

    public AirlockInspector(InspectionOptions options, IMalwareScanner? scanner = null)
    {
        _options = options;
        _scanner = scanner ?? (string.IsNullOrWhiteSpace(options.ClamdscanPath)
            ? null
            : new ClamdscanScanner(options.ClamdscanPath, TimeSpan.FromSeconds(options.ClamAvTimeoutSeconds)));
        _git = new GitBundleLister(options);
    }

    /// <summary>Inspects stored blobs (a volume's files), checking each against the digest recorded for it.</summary>
    public async Task<InspectionReport> InspectAsync(
        IEnumerable<(string Path, BlobDigest Digest)> files, IBlobStore store, CancellationToken cancellationToken)
    {
        var results = new List<FileInspection>();
        foreach (var (path, digest) in files)
        {
            results.Add(await InspectAsync(path, async ct => await store.OpenReadAsync(digest, ct).ConfigureAwait(false)
                ?? throw new FileNotFoundException($"Blob {digest} of '{path}' is not in the store."), digest, cancellationToken).ConfigureAwait(false));
        }
        return new InspectionReport(results);
    }

    /// <summary>
    /// Inspects one file. <paramref name="open"/> is called once per pass (hash, listing, virus scan); each stream is
    /// read forwards only.
    /// </summary>
    public async Task<FileInspection> InspectAsync(
        string path, Func<CancellationToken, Task<Stream>> open, BlobDigest? recorded, CancellationToken cancellationToken)
    {
        // Pass 1: the manifest line, from the bytes themselves.
        BlobDigest digest;
        long size;
        ContentFormat format;
        long? zipPrefix;
        await using (var hashing = new HashingStream(await open(cancellationToken).ConfigureAwait(false)))
        {
            var peek = await PeekStream.OpenAsync(hashing, ContentSniffer.HeadSize, cancellationToken).ConfigureAwait(false);
            format = ContentSniffer.Detect(peek.Head);
            var tail = new TailCollector();
            await peek.CopyToAsync(tail, cancellationToken).ConfigureAwait(false);
            digest = BlobDigest.FromHash(hashing.GetHash());
            size = hashing.Count;
            zipPrefix = format == ContentFormat.Plain ? ZipLocator.FindPrefix(tail.Tail(), tail.Written) : null;
        }
        var walk = new InspectionWalk(_options);
        if (recorded is { } expected && expected != digest)
        {
            walk.Add(path, FindingKind.IntegrityMismatch, $"stored content hashes to {digest}, not the recorded {expected}");
            return new FileInspection(path, size, digest, format.ToString().ToLowerInvariant(), walk.Entries, walk.Findings);
        }

        // Pass 2: the listing and the blocking rules.
        if (format != ContentFormat.Plain || zipPrefix is not null || ContentSniffer.ClaimedByName(path) is not null)
        {
            try
            {
                var content = await open(cancellationToken).ConfigureAwait(false);
                if (zipPrefix is not null && !content.CanSeek)
                {
                    // A zip behind a prefix is found from its end: it needs random access.
                    var forwardOnly = content;
                    await using (forwardOnly.ConfigureAwait(false))
                    {
                        content = await SpoolAsync(forwardOnly, cancellationToken).ConfigureAwait(false);
                    }
                }
                await using (content.ConfigureAwait(false))
                {
                    await InspectContentAsync(content, path, depth: 0, walk, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (InspectionStoppedException e)
            {
                walk.Add(e.Path ?? path, e.Kind, e.Message);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or NotSupportedException
                or SharpCompress.Common.SharpCompressException)
            {
                walk.Add(path, FindingKind.Malformed, $"'{path}' could not be read as {format.ToString().ToLowerInvariant()}: {e.Message}");
            }
        }

        // Pass 3: the virus scan, when configured.
        if (_scanner is not null)
        {
            var scan = await _scanner.ScanAsync(open, path, cancellationToken).ConfigureAwait(false);
            switch (scan.Status)
            {
                case MalwareScanStatus.Infected:
                    walk.Add(path, FindingKind.Malware, $"ClamAV: {scan.Detail}");
                    break;
                case MalwareScanStatus.Failed:
                    walk.Add(path, FindingKind.CheckFailed, $"virus scan failed: {scan.Detail}");
                    break;
            }
        }
        return new FileInspection(path, size, digest, format.ToString().ToLowerInvariant(), walk.Entries, walk.Findings);
    }

    /// <summary>Lists and checks one (possibly nested) stream; always reads it to its end so decompression is measured.</summary>
    private async Task InspectContentAsync(Stream source, string path, int depth, InspectionWalk walk, CancellationToken cancellationToken)
    {
        var seekStart = source.CanSeek ? source.Position : -1;
        await using var peek = await PeekStream.OpenAsync(new NonClosingStream(source), ContentSniffer.HeadSize, cancellationToken).ConfigureAwait(false);
        var format = ContentSniffer.Detect(peek.Head, out var description);
        if (format != ContentFormat.Plain && depth > _options.MaxNestingDepth)
        {
            walk.Add(path, FindingKind.NestingTooDeep, $"'{path}' is a {description} nested deeper than {_options.MaxNestingDepth} levels");
            return;
        }
        switch (format)
        {
            case ContentFormat.Gzip:
                await InspectCompressedAsync(peek, path, depth, walk, s => new GZipStream(s, CompressionMode.Decompress), cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Xz:
                var xzHead = peek.Head.ToArray();
                await InspectCompressedAsync(peek, path, depth, walk, s => Xz(s, xzHead, path), cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Bzip2:
                await InspectCompressedAsync(peek, path, depth, walk, s => BZip2(s), cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Zstd:
                await InspectCompressedAsync(peek, path, depth, walk, s => new ZstdSharp.DecompressionStream(s), cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Lz4:
                await InspectCompressedAsync(peek, path, depth, walk, s => K4os.Compression.LZ4.Streams.LZ4Stream.Decode(s, extraMemory: 0, leaveOpen: false), cancellationToken)
                    .ConfigureAwait(false);
                break;
            case ContentFormat.Lzma:
                await InspectCompressedAsync(peek, path, depth, walk, s => LzmaAlone(s, path), cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Cpio:
                await CpioLister.ListAsync(peek, path, walk, (member, memberPath, ct) => InspectContentAsync(member, memberPath, depth + 1, walk, ct), cancellationToken)
                    .ConfigureAwait(false);
                break;
            case ContentFormat.Ar:
                await ArLister.ListAsync(peek, path, walk, (member, memberPath, ct) => InspectContentAsync(member, memberPath, depth + 1, walk, ct), cancellationToken)
                    .ConfigureAwait(false);
                break;
            case ContentFormat.SevenZip or ContentFormat.Rar:
                if (seekStart >= 0)
                {
                    source.Position = seekStart;
                    await InspectSharpCompressAsync(new WindowStream(source, seekStart), path, depth, walk, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await using var spooled = await SpoolAsync(peek, cancellationToken).ConfigureAwait(false);
                    await InspectSharpCompressAsync(spooled, path, depth, walk, cancellationToken).ConfigureAwait(false);
                }
                return;
            case ContentFormat.Unreadable:
                walk.Add(path, FindingKind.Uninspectable, $"'{path}' is {description} content, which the inspector cannot list: blocked as uninspectable");
                break;
            case ContentFormat.Plain:
                await InspectPlainAsync(peek, source, seekStart, path, depth, walk, cancellationToken).ConfigureAwait(false);
                return;
            case ContentFormat.Tar:
                await InspectTarAsync(peek, path, depth, walk, cancellationToken).ConfigureAwait(false);
                break;
            case ContentFormat.Zip:
                if (seekStart >= 0)
                {
                    source.Position = seekStart;
                    await InspectZipAsync(new WindowStream(source, seekStart), path, depth, walk, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await using var spooled = await SpoolAsync(peek, cancellationToken).ConfigureAwait(false);
                    await InspectZipAsync(spooled, path, depth, walk, cancellationToken).ConfigureAwait(false);
                }
                return;
            case ContentFormat.GitBundle:
                await using (var spooled = await SpoolAsync(peek, cancellationToken).ConfigureAwait(false))
                {
                    await _git.ListAsync(spooled.Name, path, walk, cancellationToken).ConfigureAwait(false);
                }
                return;
        }
        // Whatever follows (plain content, tar padding) still passes through any decompressor above, and is measured.
        await peek.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Plain-looking content: drained (so any decompressor above is measured) while its tail is kept, because a zip is
    /// found from its end and may sit behind any prefix. A name that claims an archive format blocks it too.
    /// </summary>
    private async Task InspectPlainAsync(Stream peek, Stream source, long seekStart, string path, int depth, InspectionWalk walk, CancellationToken cancellationToken)
    {
        var tail = new TailCollector();
        await peek.CopyToAsync(tail, cancellationToken).ConfigureAwait(false);
        if (ZipLocator.FindPrefix(tail.Tail(), tail.Written) is { } prefix)
        {
            if (prefix < 0)
            {
                walk.Add(path, FindingKind.Uninspectable, $"'{path}' ends with a zip directory that points before its start: blocked as uninspectable");
            }
            else if (seekStart >= 0)
            {
                if (depth > _options.MaxNestingDepth)
                {
                    walk.Add(path, FindingKind.NestingTooDeep, $"'{path}' is a zip nested deeper than {_options.MaxNestingDepth} levels");
                    return;
                }
                walk.Entries.Add(new ArchiveEntryInfo($"{path}!/(prefix)", prefix, ArchiveEntryKind.Other, $"{prefix} bytes before the zip"));
                await InspectZipAsync(new WindowStream(source, seekStart + prefix), path, depth, walk, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                walk.Add(path, FindingKind.Uninspectable,
                    $"'{path}' holds a zip behind {prefix} bytes of other data (self-extracting style) inside another archive: blocked as uninspectable");
            }
            return;
        }
        if (ContentSniffer.ClaimedByName(path) is { } claimed)
        {
            walk.Add(path, FindingKind.Uninspectable,
                $"'{path}' is named as {claimed} but its content is no format the inspector can list: blocked as uninspectable");
        }
    }

    /// <summary>The largest LZMA dictionary decoded (the decoder allocates it whole): 64 MiB, what <c>xz -9</c> and <c>lzma -9</c> use.</summary>
    public const long MaxLzmaDictionaryBytes = 64L * 1024 * 1024;

    /// <summary>
    /// The legacy <c>.lzma</c> format (<c>xz --format=lzma</c>, <c>lzma</c>): 5 bytes of properties (the last four the
    /// dictionary size), the uncompressed size (little-endian, all ones when unknown and an end marker closes the
    /// data), then one LZMA stream. A dictionary above <see cref="MaxLzmaDictionaryBytes"/> is not allocated: blocked.
    /// </summary>
    private static Stream LzmaAlone(Stream compressed, string path)
    {
        var header = new byte[13];
        compressed.ReadExactly(header);
        var dictionary = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(1));
        if (dictionary > MaxLzmaDictionaryBytes)
        {
            throw new InspectionStoppedException(FindingKind.Uninspectable,
                $"'{path}' is lzma content that declares a {dictionary}-byte dictionary, more than the {MaxLzmaDictionaryBytes} bytes the inspector allocates: blocked as uninspectable", path);
        }
        var size = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(5));
        return SharpCompress.Compressors.LZMA.LzmaStream.Create(header[..5], compressed, -1, size < 0 ? -1 : size, false);
    }

    /// <summary>
    /// An xz stream whose first block's LZMA2 dictionary is at most <see cref="MaxLzmaDictionaryBytes"/> (the decoder
    /// allocates it whole). Read from the stream header (12 bytes) and the first block header: its size byte, its flags
    /// (filter count, optional sizes as multibyte integers), then each filter's id and properties; LZMA2 (0x21) carries
    /// the dictionary in one byte. A header the inspector cannot read this way is blocked, never decoded on trust.
    /// </summary>
    private static Stream Xz(Stream compressed, byte[] head, string path)
    {
        if (XzDictionaryBytes(head) is not { } dictionary)
        {
            throw new InspectionStoppedException(FindingKind.Uninspectable,
                $"'{path}' is xz content whose first block header cannot be read: blocked as uninspectable", path);
        }
        if (dictionary > MaxLzmaDictionaryBytes)
        {
            throw new InspectionStoppedException(FindingKind.Uninspectable,
                $"'{path}' is xz content that declares a {dictionary}-byte dictionary, more than the {MaxLzmaDictionaryBytes} bytes the inspector allocates: blocked as uninspectable", path);
        }
        return new SharpCompress.Compressors.Xz.XZStream(compressed);
    }

    /// <summary>The LZMA2 dictionary size of the first block, 0 for an empty stream, or null when unreadable.</summary>
    internal static long? XzDictionaryBytes(ReadOnlySpan<byte> head)
    {
        const int streamHeader = 12;
        if (head.Length <= streamHeader)
        {
            return null;
        }
        if (head[streamHeader] == 0)
        {
            return 0; // the index follows at once: a stream with no blocks
        }
        var headerSize = (head[streamHeader] + 1) * 4;
        if (head.Length < streamHeader + headerSize)
        {
            return null;
        }
        var block = head.Slice(streamHeader, headerSize);
        var flags = block[1];
        if ((flags & 0x3C) != 0)
        {
            return null; // reserved bits
        }
        var position = 2;
        if ((flags & 0x40) != 0 && ReadVli(block, ref position) is null)
        {
            return null;
        }
        if ((flags & 0x80) != 0 && ReadVli(block, ref position) is null)
        {
            return null;
        }
        long? dictionary = null;
        var filters = (flags & 0x03) + 1;
        for (var i = 0; i < filters; i++)
        {
            if (ReadVli(block, ref position) is not { } id || ReadVli(block, ref position) is not { } propertiesSize
                || position + (long)propertiesSize > block.Length - 4)
            {
                return null;
            }
            if (id == 0x21)
            {
                if (propertiesSize != 1 || i != filters - 1 || block[position] > 40)
                {
                    return null;
                }
                var bits = block[position];
                dictionary = bits == 40 ? uint.MaxValue : (2L | (bits & 1L)) << (bits / 2 + 11);
            }
            position += (int)propertiesSize;
        }
        return dictionary;
    }

    private static ulong? ReadVli(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var i = 0; i < 9; i++)
        {
            if (position >= data.Length)
            {
                return null;
            }
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        return null;
    }

    private static Stream BZip2(Stream compressed) =>
        SharpCompress.Compressors.BZip2.BZip2Stream.Create(compressed, SharpCompress.Compressors.CompressionMode.Decompress, decompressConcatenated: true, leaveOpen: false, tolerateTruncatedStream: false);

    /// <summary>One compression layer: the decompressed side is measured against the compressed bytes consumed.</summary>
    private async Task InspectCompressedAsync(
        Stream compressed, string path, int depth, InspectionWalk walk, Func<Stream, Stream> decompressor, CancellationToken cancellationToken)
    {
        var counting = new CountingStream(new NonClosingStream(compressed));
        await using var gzip = decompressor(counting);
        var innerPath = $"{path}!/{InnerName(path)}";
        await using var guarded = new BombGuardStream(gzip, () => counting.Count, walk.Budget, innerPath);
        await InspectContentAsync(guarded, innerPath, depth + 1, walk, cancellationToken).ConfigureAwait(false);
    }

    private async Task InspectTarAsync(Stream content, string path, int depth, InspectionWalk walk, CancellationToken cancellationToken)
    {
        await using var reader = new TarReader(content, leaveOpen: true);
        var links = new HashSet<string>(StringComparer.Ordinal);
        var tree = new VirtualTree();
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var name = entry.Name;
            var entryPath = $"{path}!/{name}";
            walk.Budget.AddEntry(entryPath);
            var kind = entry.EntryType switch
            {
                TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => ArchiveEntryKind.File,
                TarEntryType.Directory => ArchiveEntryKind.Directory,
                TarEntryType.SymbolicLink => ArchiveEntryKind.SymbolicLink,
                TarEntryType.HardLink => ArchiveEntryKind.HardLink,
                TarEntryType.CharacterDevice or TarEntryType.BlockDevice => ArchiveEntryKind.Device,
                TarEntryType.Fifo => ArchiveEntryKind.Fifo,
                _ => ArchiveEntryKind.Other,
            };
            if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
            {
                continue; // Metadata for the entries that follow, not a member.
            }
            var target = kind is ArchiveEntryKind.SymbolicLink or ArchiveEntryKind.HardLink ? entry.LinkName : null;
            walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Length, kind, target));
            walk.CheckMember(entryPath, name, links);
            switch (kind)
            {
                case ArchiveEntryKind.SymbolicLink or ArchiveEntryKind.HardLink:
                    walk.CheckLink(entryPath, name, target ?? "", symbolic: kind == ArchiveEntryKind.SymbolicLink);
                    if (kind == ArchiveEntryKind.SymbolicLink)
                    {
                        links.Add(ArchivePaths.Normalise(name));
                    }
                    break;
                case ArchiveEntryKind.Other:
                    walk.Add(entryPath, FindingKind.Uninspectable, $"entry '{name}' is a tar entry of type {entry.EntryType}, which the inspector does not clear");
                    break;
                case ArchiveEntryKind.Device or ArchiveEntryKind.Fifo:
                    walk.Add(entryPath, FindingKind.SpecialFile, $"entry '{name}' is a {DescribeSpecial(entry.EntryType)}, which may not enter");
                    break;
                case ArchiveEntryKind.File when entry.DataStream is { } data:
                    var counted = new CountingStream(new NonClosingStream(data));
                    await InspectContentAsync(counted, entryPath, depth + 1, walk, cancellationToken).ConfigureAwait(false);
                    if (counted.Count != entry.Length)
                    {
                        throw new InspectionStoppedException(FindingKind.Malformed,
                            $"'{entryPath}' declares {entry.Length} bytes but the archive ends after {counted.Count} (truncated)", entryPath);
                    }
                    break;
            }
            walk.Place(tree, entryPath, name, kind, target);
        }
        walk.FinishTree(tree, $"{path}!/");
    }

    private async Task InspectZipAsync(Stream seekable, string path, int depth, InspectionWalk walk, CancellationToken cancellationToken)
    {
        var archiveLength = seekable.Length;
        await using var zip = await ZipArchive.CreateAsync(seekable, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, cancellationToken)
            .ConfigureAwait(false);
        var links = new HashSet<string>(StringComparer.Ordinal);
        var tree = new VirtualTree();
        foreach (var entry in zip.Entries)
        {
            var name = entry.FullName;
            var entryPath = $"{path}!/{name}";
            walk.Budget.AddEntry(entryPath);
            var unixType = (entry.ExternalAttributes >> 16) & 0xF000;
            var kind = unixType switch
            {
                0xA000 => ArchiveEntryKind.SymbolicLink,
                0x2000 or 0x6000 => ArchiveEntryKind.Device,
                0x1000 or 0xC000 => ArchiveEntryKind.Fifo,
                0x4000 => ArchiveEntryKind.Directory,
                _ when name.EndsWith('/') => ArchiveEntryKind.Directory,
                _ => ArchiveEntryKind.File,
            };
            walk.CheckMember(entryPath, name, links);
            if (kind is ArchiveEntryKind.Device or ArchiveEntryKind.Fifo)
            {
                walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Length, kind));
                walk.Add(entryPath, FindingKind.SpecialFile, $"entry '{name}' is a device, FIFO or socket, which may not enter");
                walk.Place(tree, entryPath, name, kind, null);
                continue;
            }
            if (entry.IsEncrypted)
            {
                walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Length, kind));
                walk.Add(entryPath, FindingKind.Uninspectable, $"entry '{name}' is encrypted: blocked as uninspectable");
                continue;
            }
            if (kind == ArchiveEntryKind.Directory)
            {
                walk.Entries.Add(new ArchiveEntryInfo(entryPath, 0, kind));
                walk.Place(tree, entryPath, name, kind, null);
                continue;
            }
            // Ratio against the compressed size, clamped to the archive: a header can lie, the bytes cannot.
            var compressed = Math.Clamp(entry.CompressedLength, 1, Math.Max(1, archiveLength));
            await using var data = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var guarded = new BombGuardStream(data, () => compressed, walk.Budget, entryPath);
            if (kind == ArchiveEntryKind.SymbolicLink)
            {
                var target = await ReadLinkTargetAsync(guarded, cancellationToken).ConfigureAwait(false);
                walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Length, kind, target));
                walk.CheckLink(entryPath, name, target, symbolic: true);
                links.Add(ArchivePaths.Normalise(name));
                walk.Place(tree, entryPath, name, kind, target);
                continue;
            }
            walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Length, kind));
            walk.Place(tree, entryPath, name, kind, null);
            await InspectContentAsync(guarded, entryPath, depth + 1, walk, cancellationToken).ConfigureAwait(false);
        }
        walk.FinishTree(tree, $"{path}!/");
    }

    /// <summary>
    /// 7z and rar, read by SharpCompress entry by entry in archive order (solid blocks are decompressed once; a
    /// non-solid rar is read entry by entry from the archive, which SharpCompress requires). Each entry's output is
    /// measured against the whole archive's size (solid archives give no per-entry compressed size); the total-size
    /// and entry limits apply as everywhere.
    /// </summary>
    private async Task InspectSharpCompressAsync(Stream seekable, string path, int depth, InspectionWalk walk, CancellationToken cancellationToken)
    {
        var archiveLength = Math.Max(1, seekable.Length);
        using var archive = SharpCompress.Archives.ArchiveFactory.OpenArchive(seekable, new SharpCompress.Readers.ReaderOptions { LeaveStreamOpen = true });
        var links = new HashSet<string>(StringComparer.Ordinal);
        var tree = new VirtualTree();
        if (archive.Type == SharpCompress.Common.ArchiveType.SevenZip || archive.IsSolid)
        {
            using var reader = archive.ExtractAllEntries();
            while (reader.MoveToNextEntry())
            {
                await InspectSharpCompressEntryAsync(reader.Entry, reader.OpenEntryStream, archiveLength, path, depth, walk, links, tree, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            foreach (var entry in archive.Entries)
            {
                await InspectSharpCompressEntryAsync(entry, entry.OpenEntryStream, archiveLength, path, depth, walk, links, tree, cancellationToken).ConfigureAwait(false);
            }
        }
        walk.FinishTree(tree, $"{path}!/");
    }

    private async Task InspectSharpCompressEntryAsync(SharpCompress.Common.IEntry entry, Func<Stream> open, long archiveLength, string path, int depth,
        InspectionWalk walk, HashSet<string> links, VirtualTree tree, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = entry.Key ?? "";
        var entryPath = $"{path}!/{name}";
        walk.Budget.AddEntry(entryPath);
        // A rar 5 file-system redirection names its target in the header: a symbolic link or junction resolves from
        // its own directory, a hard link or file copy from the archive root.
        var (redirected, redirectionType) = entry is SharpCompress.Common.Rar.RarEntry { IsRedir: true } rar
            ? (rar.RedirTargetName, RarRedirection.TypeOf(rar))
            : (null, null);
        var target = !string.IsNullOrEmpty(entry.LinkTarget) ? entry.LinkTarget : redirected;
        // 7z keeps a Unix mode in the high half of its attributes (flag 0x8000), rar from Unix hosts keeps it whole:
        // a link stored that way is a file whose content is the target.
        var attributes = entry.Attrib ?? 0;
        var unixType = ((attributes & 0x8000) != 0 && (attributes >> 16) != 0 ? attributes >> 16 : attributes) & 0xF000;
        var storedLink = target is null && !entry.IsDirectory && unixType == 0xA000;
        var kind = entry.IsDirectory && redirected is null ? ArchiveEntryKind.Directory
            : redirected is not null && RarRedirection.IsHardLink(redirectionType) ? ArchiveEntryKind.HardLink
            : target is not null || storedLink ? ArchiveEntryKind.SymbolicLink
            : unixType is 0x2000 or 0x6000 ? ArchiveEntryKind.Device
            : unixType is 0x1000 or 0xC000 ? ArchiveEntryKind.Fifo
            : ArchiveEntryKind.File;
        if (storedLink && !entry.IsEncrypted)
        {
            await using var linkData = open();
            target = await ReadLinkTargetAsync(linkData, cancellationToken).ConfigureAwait(false);
        }
        walk.Entries.Add(new ArchiveEntryInfo(entryPath, entry.Size, kind, target));
        walk.CheckMember(entryPath, name, links);
        if (entry.IsEncrypted)
        {
            walk.Add(entryPath, FindingKind.Uninspectable, $"entry '{name}' is encrypted: blocked as uninspectable");
            return;
        }
        if (kind is ArchiveEntryKind.Device or ArchiveEntryKind.Fifo)
        {
            walk.Add(entryPath, FindingKind.SpecialFile, $"entry '{name}' is a device, FIFO or socket, which may not enter");
            walk.Place(tree, entryPath, name, kind, null);
            return;
        }
        if ((attributes & 0x400) != 0 && target is null)
        {
            walk.Add(entryPath, FindingKind.Uninspectable, $"entry '{name}' is a Windows reparse point (a link whose target is not stored readably): blocked as uninspectable");
            return;
        }
        if (target is not null)
        {
            walk.CheckLink(entryPath, name, target, symbolic: kind == ArchiveEntryKind.SymbolicLink);
            if (redirected is not null && redirectionType is null && !walk.Findings.Any(f => f.Path == entryPath)
                && ArchivePaths.CheckLink(name, target, symbolic: false) is { } asHardLink)
            {
                // The kind of redirection could not be read: fail closed, judged as a symbolic link and as a hard link.
                walk.Add(entryPath, asHardLink.Kind, $"{asHardLink.Reason} (a rar redirection of unknown kind, judged both as a symbolic and as a hard link)");
            }
            if (kind == ArchiveEntryKind.SymbolicLink)
            {
                links.Add(ArchivePaths.Normalise(name));
            }
        }
        walk.Place(tree, entryPath, name, kind, target);
        if (kind == ArchiveEntryKind.File)
        {
            await using var data = open();
            await using var guarded = new BombGuardStream(data, () => archiveLength, walk.Budget, entryPath);
            await InspectContentAsync(guarded, entryPath, depth + 1, walk, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string> ReadLinkTargetAsync(Stream data, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var length = 0;
        int n;
        while (length < buffer.Length && (n = await data.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>Copies a forward-only archive to a temporary file deleted on close, for readers that must seek.</summary>
    private async Task<FileStream> SpoolAsync(Stream content, CancellationToken cancellationToken)
    {
        var directory = _options.TempDirectory ?? Path.GetTempPath();
        var file = new FileStream(Path.Combine(directory, "safehaven-spool-" + Guid.NewGuid().ToString("N")), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        });
        try
        {
            await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string InnerName(string path)
    {
        var last = path[(path.LastIndexOf('/') + 1)..];
        foreach (var (suffix, replacement) in new[]
                 {
                     (".tgz", ".tar"), (".txz", ".tar"), (".tbz2", ".tar"), (".tbz", ".tar"), (".tzst", ".tar"), (".tlz", ".tar"),
                     (".gz", ""), (".gzip", ""), (".xz", ""), (".bz2", ""), (".zst", ""), (".zstd", ""), (".lz4", ""), (".lzma", ""),
                 })
        {
            if (last.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && last.Length > suffix.Length)
            {
                return last[..^suffix.Length] + replacement;
            }
        }
        return "(compressed content)";
    }

    private static string DescribeSpecial(TarEntryType type) => type switch
    {
        TarEntryType.CharacterDevice => "character device",
        TarEntryType.BlockDevice => "block device",
        _ => "FIFO",
    };

    /// <summary>Lets a wrapper be disposed without closing the stream it wraps (the caller owns that).</summary>
    private sealed class NonClosingStream(Stream inner) : ReadOnlyWrapperStream(inner, leaveOpen: true);
}
