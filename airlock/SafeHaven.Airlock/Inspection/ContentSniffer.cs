using System.Buffers.Binary;

namespace SafeHaven.Airlock.Inspection;

/// <summary>What a stream holds, judged by its bytes. Anything not <see cref="Plain"/> is listed or blocked.</summary>
internal enum ContentFormat
{
    Plain,
    Zip,
    Tar,
    Gzip,
    Xz,
    Bzip2,
    Zstd,
    Lz4,
    Lzma,
    SevenZip,
    Rar,
    Ar,
    Cpio,
    GitBundle,
    /// <summary>A recognised archive or compression format that no reader here lists: blocked as uninspectable.</summary>
    Unreadable,
}

/// <summary>Recognises archive and compression formats by their magic bytes, and by name as a second opinion.</summary>
internal static class ContentSniffer
{
    public const int HeadSize = 512;

    public static ContentFormat Detect(ReadOnlySpan<byte> head) => Detect(head, out _);

    /// <summary>The format of <paramref name="head"/>; <paramref name="description"/> names it for a reason.</summary>
    public static ContentFormat Detect(ReadOnlySpan<byte> head, out string description)
    {
        description = "plain data";
        (ContentFormat, string) found = head switch
        {
            _ when head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith("PK\u0005\u0006"u8) || head.StartsWith("PK\u0007\u0008"u8) => (ContentFormat.Zip, "zip"),
            _ when Starts(head, [0x1f, 0x8b]) => (ContentFormat.Gzip, "gzip"),
            _ when Starts(head, [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0]) => (ContentFormat.Xz, "xz"),
            _ when head.Length >= 4 && head.StartsWith("BZh"u8) && head[3] is >= (byte)'1' and <= (byte)'9' => (ContentFormat.Bzip2, "bzip2"),
            _ when Starts(head, [0x28, 0xb5, 0x2f, 0xfd]) => (ContentFormat.Zstd, "zstd"),
            _ when Starts(head, [(byte)'7', (byte)'z', 0xbc, 0xaf, 0x27, 0x1c]) => (ContentFormat.SevenZip, "7z"),
            _ when head.StartsWith("Rar!\u001a\u0007"u8) => (ContentFormat.Rar, "rar"),
            _ when head.StartsWith("!<arch>\n"u8) => (ContentFormat.Ar, "ar"),
            _ when head.StartsWith("# v2 git bundle\n"u8) || head.StartsWith("# v3 git bundle\n"u8) => (ContentFormat.GitBundle, "gitbundle"),
            _ when head.Length >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8) => (ContentFormat.Tar, "tar"),
            _ when IsV7TarHeader(head) => (ContentFormat.Tar, "tar"),
            _ when Starts(head, [0x04, 0x22, 0x4d, 0x18]) => (ContentFormat.Lz4, "lz4"),
            _ when head.StartsWith("070701"u8) || head.StartsWith("070702"u8) || head.StartsWith("070707"u8)
                || Starts(head, [0xc7, 0x71]) || Starts(head, [0x71, 0xc7]) => (ContentFormat.Cpio, "cpio"),
            _ when IsLzmaAlone(head) => (ContentFormat.Lzma, "lzma"),
            // Formats recognised but not read here.
            _ when Starts(head, [0x02, 0x21, 0x4c, 0x18]) => (ContentFormat.Unreadable, "lz4 legacy format"),
            _ when head.Length >= 4 && head[0] is >= 0x50 and <= 0x5f && head[1..4].SequenceEqual([(byte)0x2a, (byte)0x4d, (byte)0x18]) => (ContentFormat.Unreadable, "zstd/lz4 skippable frame"),
            _ when head.StartsWith("LZIP"u8) => (ContentFormat.Unreadable, "lzip"),
            _ when Starts(head, [0x1f, 0x9d]) || Starts(head, [0x1f, 0xa0]) => (ContentFormat.Unreadable, "compress (.Z)"),
            _ when Starts(head, [0xed, 0xab, 0xee, 0xdb]) => (ContentFormat.Unreadable, "rpm"),
            _ when head.StartsWith("MSCF\0\0\0\0"u8) => (ContentFormat.Unreadable, "cab"),
            _ when head.StartsWith("xar!"u8) => (ContentFormat.Unreadable, "xar"),
            _ when head.StartsWith("hsqs"u8) || head.StartsWith("sqsh"u8) => (ContentFormat.Unreadable, "squashfs"),
            _ when Starts(head, [0x60, 0xea]) => (ContentFormat.Unreadable, "arj"),
            _ when head.Length >= 14 && head.Slice(7, 7).SequenceEqual("**ACE**"u8) => (ContentFormat.Unreadable, "ace"),
            _ when Starts(head, [0x89, (byte)'L', (byte)'Z', (byte)'O', 0, 0x0d, 0x0a, 0x1a, 0x0a]) => (ContentFormat.Unreadable, "lzop"),
            _ => (ContentFormat.Plain, "plain data"),
        };
        description = found.Item2;
        return found.Item1;
    }

    private static bool Starts(ReadOnlySpan<byte> head, ReadOnlySpan<byte> magic) => head.StartsWith(magic);

    private static readonly (string Suffix, string Name)[] ArchiveNames =
    [
        (".tar.gz", "gzip"), (".tgz", "gzip"), (".tar.xz", "xz"), (".txz", "xz"), (".tar.bz2", "bzip2"), (".tbz2", "bzip2"), (".tbz", "bzip2"),
        (".tar.zst", "zstd"), (".tzst", "zstd"), (".tar.lz4", "lz4"), (".tar.lzma", "lzma"), (".tlz", "lzma"), (".tar.lz", "lzip"), (".tar.Z", "compress (.Z)"),
        (".tar", "tar"), (".zip", "zip"), (".jar", "zip"), (".war", "zip"), (".whl", "zip"), (".nupkg", "zip"), (".egg", "zip"), (".conda", "zip"),
        (".gz", "gzip"), (".gzip", "gzip"), (".xz", "xz"), (".bz2", "bzip2"), (".zst", "zstd"), (".zstd", "zstd"), (".lz4", "lz4"), (".lzma", "lzma"),
        (".lz", "lzip"), (".z", "compress (.Z)"), (".7z", "7z"), (".rar", "rar"), (".cpio", "cpio"), (".a", "ar"), (".ar", "ar"), (".deb", "ar"), (".udeb", "ar"),
        (".rpm", "rpm"), (".cab", "cab"), (".xar", "xar"), (".pkg", "xar"), (".squashfs", "squashfs"), (".arj", "arj"), (".ace", "ace"), (".lzo", "lzop"),
        (".bundle", "git bundle"), (".iso", "iso image"), (".img", "disk image"), (".dmg", "disk image"), (".br", "brotli"), (".sz", "snappy"),
    ];

    /// <summary>The archive or compression format a file name claims, if any.</summary>
    public static string? ClaimedByName(string path)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        foreach (var (suffix, format) in ArchiveNames)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return format;
            }
        }
        return null;
    }

    /// <summary>A tar header without the ustar magic (V7): recognised by a valid header checksum and a sane name.</summary>
    private static bool IsV7TarHeader(ReadOnlySpan<byte> head)
    {
        if (head.Length < 512 || head[0] == 0)
        {
            return false;
        }
        var stored = ParseOctal(head.Slice(148, 8));
        if (stored is null)
        {
            return false;
        }
        long sum = 0;
        for (var i = 0; i < 512; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : head[i];
        }
        return sum == stored;
    }

    private static long? ParseOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        var digits = 0;
        foreach (var b in field)
        {
            if (b is >= (byte)'0' and <= (byte)'7')
            {
                value = (value * 8) + (b - '0');
                digits++;
            }
            else if (b is 0 or (byte)' ')
            {
                if (digits > 0)
                {
                    break;
                }
            }
            else
            {
                return null;
            }
        }
        return digits > 0 ? value : null;
    }

    /// <summary>The legacy .lzma header: properties byte 0x5D (the default), a power-of-two dictionary, a size or -1.</summary>
    private static bool IsLzmaAlone(ReadOnlySpan<byte> head)
    {
        if (head.Length < 13 || head[0] != 0x5d)
        {
            return false;
        }
        var dictionary = BinaryPrimitives.ReadUInt32LittleEndian(head[1..5]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(head[5..13]);
        return dictionary >= 1 << 12 && (dictionary & (dictionary - 1)) == 0 && (size == ulong.MaxValue || size < 1UL << 48);
    }
}
