using System.Buffers.Binary;
using System.Text;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>One member of a <see cref="Rar5Archive"/>: its name, stored bytes, Unix mode and, optionally, a file-system redirection.</summary>
internal sealed record Rar5Member(string Name, byte[] Data, uint UnixMode, Rar5Redirection? Redirection = null);

/// <summary>A rar 5 "file system redirection" extra record: <c>Type</c> 1 Unix symlink, 2 Windows symlink, 3 junction, 4 hard link, 5 file copy.</summary>
internal sealed record Rar5Redirection(int Type, string Target);

/// <summary>
/// A minimal, valid rar 5 archive written from the format's published definition (rarlab's "RAR 5.0 archive format"
/// technical note), because no free tool writes rar: the 8-byte signature, a main archive header, one file header per
/// member with the <b>store</b> method (compression information 0), host OS Unix and the data CRC32, optional
/// redirection records in the header's extra area, and the end-of-archive header. Every header carries the CRC32 of
/// its bytes, as real archives do. It leaves out on purpose what rar itself adds and a reader does not need: times,
/// quick-open and recovery records, locator records, solid or compressed data, encryption and volumes.
/// </summary>
internal static class Rar5Archive
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    public static byte[] Write(params Rar5Member[] members)
    {
        var archive = new List<byte> { 0x52, 0x61, 0x72, 0x21, 0x1A, 0x07, 0x01, 0x00 };
        // Main archive header: type 1, header flags 0, archive flags 0.
        archive.AddRange(Header(body => { VInt(body, 1); VInt(body, 0); VInt(body, 0); }));
        foreach (var member in members)
        {
            var extra = new List<byte>();
            if (member.Redirection is { } redirection)
            {
                var record = new List<byte>();
                VInt(record, 5); // record type: file system redirection
                VInt(record, (ulong)redirection.Type);
                VInt(record, 0); // flags: the target is not a directory
                var target = Encoding.UTF8.GetBytes(redirection.Target);
                VInt(record, (ulong)target.Length);
                record.AddRange(target);
                VInt(extra, (ulong)record.Count);
                extra.AddRange(record);
            }
            archive.AddRange(Header(body =>
            {
                VInt(body, 2); // file header
                VInt(body, 0x0002 | (extra.Count > 0 ? 0x0001u : 0)); // a data area follows; an extra area is present
                if (extra.Count > 0)
                {
                    VInt(body, (ulong)extra.Count);
                }
                VInt(body, (ulong)member.Data.Length); // data size
                VInt(body, 0x0004); // file flags: data CRC32 present
                VInt(body, (ulong)member.Data.Length); // unpacked size
                VInt(body, member.UnixMode); // attributes (host OS Unix: the mode)
                body.AddRange(LittleEndian(Crc32(member.Data)));
                VInt(body, 0); // compression information: version 0, not solid, method 0 (store)
                VInt(body, 1); // host OS: Unix
                var name = Encoding.UTF8.GetBytes(member.Name);
                VInt(body, (ulong)name.Length);
                body.AddRange(name);
                body.AddRange(extra);
            }));
            archive.AddRange(member.Data);
        }
        // End of archive header: type 5, header flags 0, end-of-archive flags 0 (not the last volume flag: one volume).
        archive.AddRange(Header(body => { VInt(body, 5); VInt(body, 0); VInt(body, 0); }));
        return [.. archive];
    }

    /// <summary>CRC32 of the header size and body, the header size (vint), the body.</summary>
    private static byte[] Header(Action<List<byte>> writeBody)
    {
        var body = new List<byte>();
        writeBody(body);
        var sized = new List<byte>();
        VInt(sized, (ulong)body.Count);
        sized.AddRange(body);
        return [.. LittleEndian(Crc32([.. sized])), .. sized];
    }

    /// <summary>rar 5's variable-length integer: 7 bits per byte, least significant first, high bit set on all but the last.</summary>
    private static void VInt(List<byte> output, ulong value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            output.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
    }

    private static byte[] LittleEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>The CRC-32 of zip and rar (polynomial 0xEDB88320, reflected).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }
}
