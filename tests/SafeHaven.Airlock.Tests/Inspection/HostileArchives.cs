using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>Hostile (and harmless) archives, built in memory at test time.</summary>
internal static class HostileArchives
{
    public static byte[] Zip(params (string Name, byte[] Content)[] entries) => Zip(entries.Select(e => (e.Name, e.Content, (int?)null)).ToArray());

    public static byte[] Zip((string Name, byte[] Content, int? UnixMode)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content, mode) in entries)
            {
                var entry = zip.CreateEntry(name);
                if (mode is { } m)
                {
                    entry.ExternalAttributes = m << 16;
                }
                using var stream = entry.Open();
                stream.Write(content);
            }
        }
        return buffer.ToArray();
    }

    public static byte[] Tar(params TarEntry[] entries)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                tar.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    public static PaxTarEntry File(string name, byte[] content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };

    public static PaxTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target };

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content);
        }
        return buffer.ToArray();
    }

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>
    /// A gzip of a gzip of a gzip whose innermost layer inflates to <paramref name="zeros"/> zero bytes (10 GiB gives
    /// a file of about a kilobyte). The innermost deflate stream is written by hand, streaming: one fixed-Huffman
    /// block of a literal 0 followed by length-258/distance-1 matches (13 bits per 258 bytes), so building it costs
    /// no compression work and never holds more than a buffer. The outer two layers are ordinary gzip of that
    /// highly repetitive stream. The innermost trailer's CRC is left zero: an inspector has to stop long before it.
    /// </summary>
    public static byte[] GzipBomb(long zeros)
    {
        using var result = new MemoryStream();
        using (var outer = new GZipStream(result, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var middle = new GZipStream(outer, CompressionLevel.SmallestSize))
        {
            middle.Write([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
            var bits = new BitWriter(middle);
            bits.Write(1, 1); // BFINAL
            bits.Write(1, 2); // BTYPE = fixed Huffman
            bits.WriteHuffman(0x30, 8); // literal 0
            var matches = (zeros - 1) / 258;
            var match = BitWriter.Reverse(0xC5 << 5, 13); // length 258 (symbol 285, 8 bits) then distance 1 (code 0, 5 bits)
            for (long i = 0; i < matches; i++)
            {
                bits.Write(match, 13);
            }
            var rest = (zeros - 1) % 258;
            for (long i = 0; i < rest; i++)
            {
                bits.WriteHuffman(0x30, 8);
            }
            bits.WriteHuffman(0, 7); // end of block
            bits.Flush();
            middle.Write(new byte[4]); // CRC32 (not computed)
            middle.Write(BitConverter.GetBytes((uint)(zeros & 0xFFFFFFFF)));
        }
        return result.ToArray();
    }

    /// <summary>A zip whose single entry is <paramref name="zeros"/> zero bytes, deflated (about 1000:1).</summary>
    public static byte[] ZipOfZeros(long zeros)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var stream = zip.CreateEntry("zeros.bin", CompressionLevel.Fastest).Open();
            var chunk = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= chunk.Length)
            {
                stream.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
            }
        }
        return buffer.ToArray();
    }

    /// <summary>DEFLATE's bit order: values LSB first; Huffman codes MSB first.</summary>
    private sealed class BitWriter(Stream output)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _length;
        private ulong _bits;
        private int _count;

        public void Write(uint value, int count)
        {
            _bits |= (ulong)value << _count;
            _count += count;
            while (_count >= 8)
            {
                _buffer[_length++] = (byte)_bits;
                _bits >>= 8;
                _count -= 8;
                if (_length == _buffer.Length)
                {
                    output.Write(_buffer, 0, _length);
                    _length = 0;
                }
            }
        }

        public void WriteHuffman(uint code, int count) => Write(Reverse(code, count), count);

        public static uint Reverse(uint code, int count)
        {
            uint reversed = 0;
            for (var i = 0; i < count; i++)
            {
                reversed |= ((code >> i) & 1) << (count - 1 - i);
            }
            return reversed;
        }

        public void Flush()
        {
            if (_count > 0)
            {
                Write(0, 8 - _count);
            }
            output.Write(_buffer, 0, _length);
            _length = 0;
        }
    }
}
