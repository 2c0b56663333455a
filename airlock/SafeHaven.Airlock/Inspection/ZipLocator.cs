using System.Buffers.Binary;
using SafeHaven.Core.IO;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// Finds a zip by its end-of-central-directory record, the way unzip does: a zip may start anywhere (a
/// self-extracting stub, or any bytes glued in front), so its start is not where the magic is looked for.
/// </summary>
internal static class ZipLocator
{
    /// <summary>The end record (22 bytes) plus the longest comment allowed.</summary>
    public const int TailSize = 22 + 65535;

    /// <summary>
    /// The number of bytes in front of the zip in a stream of <paramref name="totalLength"/> bytes that ends with
    /// <paramref name="tail"/>; 0 for an ordinary zip, null when the stream does not end with a zip directory.
    /// A negative value means the directory claims to start before the stream does (malformed).
    /// </summary>
    public static long? FindPrefix(ReadOnlySpan<byte> tail, long totalLength)
    {
        var tailStart = totalLength - tail.Length;
        for (var i = tail.Length - 22; i >= 0; i--)
        {
            if (tail[i] != 'P' || !tail[i..].StartsWith("PK\u0005\u0006"u8))
            {
                continue;
            }
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(tail.Slice(i + 20, 2));
            if (i + 22 + commentLength != tail.Length)
            {
                continue;
            }
            long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(tail.Slice(i + 12, 4));
            long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.Slice(i + 16, 4));
            long directoryEnd = tailStart + i;
            // Zip64: a locator just before the end record, and the zip64 end record before that (used whenever the
            // locator is there: a writer may go zip64 for the entry count alone, leaving the 32-bit fields valid).
            var locator = i - 20;
            if (locator >= 0 && tail[locator..].StartsWith("PK\u0006\u0007"u8))
            {
                var record = tail[..locator].LastIndexOf("PK\u0006\u0006"u8);
                if (record < 0 || locator - record < 56)
                {
                    return -1;
                }
                directorySize = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.Slice(record + 40, 8));
                directoryOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.Slice(record + 48, 8));
                directoryEnd = tailStart + record;
            }
            else if (directoryOffset == 0xFFFFFFFF || directorySize == 0xFFFFFFFF)
            {
                return -1;
            }
            return directoryEnd - directorySize - directoryOffset;
        }
        return null;
    }
}

/// <summary>Keeps the last <see cref="ZipLocator.TailSize"/> bytes written to it.</summary>
internal sealed class TailCollector : Stream
{
    private readonly byte[] _ring = new byte[ZipLocator.TailSize];
    private long _written;

    public long Written => _written;

    public byte[] Tail()
    {
        var length = (int)Math.Min(_written, _ring.Length);
        var result = new byte[length];
        var start = (int)((_written - length) % _ring.Length);
        var first = Math.Min(length, _ring.Length - start);
        _ring.AsSpan(start, first).CopyTo(result);
        _ring.AsSpan(0, length - first).CopyTo(result.AsSpan(first));
        return result;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length >= _ring.Length)
        {
            buffer[^_ring.Length..].CopyTo(_ring);
            _written += buffer.Length;
            // Re-align so the ring starts where the modulo arithmetic expects it.
            var shift = (int)(_written % _ring.Length);
            _ring.AsSpan().Reverse();
            _ring.AsSpan(0, shift).Reverse();
            _ring.AsSpan(shift).Reverse();
            return;
        }
        var position = (int)(_written % _ring.Length);
        var first = Math.Min(buffer.Length, _ring.Length - position);
        buffer[..first].CopyTo(_ring.AsSpan(position));
        buffer[first..].CopyTo(_ring);
        _written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>A read-only, seekable view of a stream from <c>offset</c> on (a zip behind a prefix).</summary>
internal sealed class WindowStream(Stream inner, long offset) : ReadOnlyWrapperStream(inner, leaveOpen: true)
{
    public override bool CanSeek => true;
    public override long Length => Inner.Length - offset;

    public override long Position
    {
        get => Inner.Position - offset;
        set => Inner.Position = value + offset;
    }

    public override long Seek(long offset1, SeekOrigin origin) => origin switch
    {
        SeekOrigin.Begin => Inner.Seek(offset1 + offset, SeekOrigin.Begin) - offset,
        SeekOrigin.Current => Inner.Seek(offset1, SeekOrigin.Current) - offset,
        _ => Inner.Seek(offset1, SeekOrigin.End) - offset,
    };
}
