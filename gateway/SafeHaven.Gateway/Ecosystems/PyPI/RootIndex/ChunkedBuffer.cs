using System.Buffers;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// An append-only byte buffer made of fixed-size chunks, for documents of tens of megabytes: growing it never copies
/// what is already written (a doubling array would hold two copies at once), and it is written to a response chunk
/// by chunk. It is both an <see cref="IBufferWriter{T}"/> (for <see cref="System.Text.Json.Utf8JsonWriter"/>) and a
/// write-only <see cref="Stream"/> (for <see cref="System.IO.Compression.GZipStream"/>). Not thread-safe while written;
/// read-only and shareable once <see cref="Complete"/> has been called.
/// </summary>
public sealed class ChunkedBuffer : Stream, IBufferWriter<byte>
{
    public const int DefaultChunkSize = 1024 * 1024;

    private readonly int _chunkSize;
    private readonly List<byte[]> _chunks = [];
    private byte[]? _current;
    private int _used;
    private long _length;
    private bool _completed;

    public ChunkedBuffer(int chunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 16);
        _chunkSize = chunkSize;
    }

    public override long Length => _length;

    /// <summary>The written bytes, in order; the last segment is trimmed by <see cref="Complete"/>.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Segments
    {
        get
        {
            foreach (var chunk in _chunks)
            {
                yield return chunk;
            }
            if (_current is not null && _used > 0)
            {
                yield return _current.AsMemory(0, _used);
            }
        }
    }

    /// <summary>Ends writing: the partly filled last chunk is copied to an exact-size array so no slack is kept.</summary>
    public ChunkedBuffer Complete()
    {
        if (!_completed)
        {
            if (_current is not null && _used > 0)
            {
                _chunks.Add(_current.AsSpan(0, _used).ToArray());
            }
            _current = null;
            _used = 0;
            _completed = true;
        }
        return this;
    }

    public void Advance(int count)
    {
        if (_current is null || count < 0 || _used + count > _current.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _used += count;
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureSpace(Math.Max(sizeHint, 1));
        return _current.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    private void EnsureSpace(int size)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_current is not null && _current.Length - _used >= size)
        {
            return;
        }
        if (_current is not null && _used > 0)
        {
            // A request larger than what is left closes this chunk early (rare: writers ask for small spans).
            _chunks.Add(_used == _current.Length ? _current : _current.AsSpan(0, _used).ToArray());
        }
        _current = new byte[Math.Max(_chunkSize, size)];
        _used = 0;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var target = GetSpan();
            var count = Math.Min(target.Length, buffer.Length);
            buffer[..count].CopyTo(target);
            Advance(count);
            buffer = buffer[count..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_completed;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>The whole content as one array (tests and small documents only).</summary>
    public byte[] ToArray()
    {
        var result = new byte[_length];
        var offset = 0;
        foreach (var segment in Segments)
        {
            segment.Span.CopyTo(result.AsSpan(offset));
            offset += segment.Length;
        }
        return result;
    }
}
