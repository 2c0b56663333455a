using System.Security.Cryptography;
using SafeHaven.Core.IO;

namespace SafeHaven.Airlock.Inspection;

/// <summary>Stops an inspection of one file: nothing further in it can be trusted to be read safely.</summary>
internal sealed class InspectionStoppedException(FindingKind kind, string reason, string? path = null) : Exception(reason)
{
    public FindingKind Kind { get; } = kind;

    /// <summary>The (nested) path where inspection stopped, when known.</summary>
    public string? Path { get; } = path;
}

/// <summary>Decompressed bytes and entries counted across every nesting level of one file.</summary>
internal sealed class InspectionBudget(InspectionOptions options)
{
    private long _uncompressed;
    private int _entries;

    public InspectionOptions Options { get; } = options;

    public void AddUncompressed(long bytes, string path)
    {
        _uncompressed += bytes;
        if (_uncompressed > Options.MaxTotalUncompressedBytes)
        {
            throw new InspectionStoppedException(FindingKind.DecompressionBomb,
                $"'{path}' decompresses to more than {Options.MaxTotalUncompressedBytes} bytes in total (stopped while decompressing)", path);
        }
    }

    public void AddEntry(string path)
    {
        if (++_entries > Options.MaxEntries)
        {
            throw new InspectionStoppedException(FindingKind.TooManyEntries, $"the archive holds more than {Options.MaxEntries} entries", path);
        }
    }
}

/// <summary>Counts bytes read through it (the compressed side of a decompressor).</summary>
internal sealed class CountingStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    public long Count { get; private set; }

    /// <summary>Bytes read so far (some decoders, SharpCompress's xz among them, ask a forward-only stream for it).</summary>
    public override long Position { get => Count; set => throw new NotSupportedException(); }

    protected override void OnRead(ReadOnlySpan<byte> data) => Count += data.Length;
}

/// <summary>Hashes and counts every byte read through it.</summary>
internal sealed class HashingStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Count { get; private set; }

    protected override void OnRead(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        Count += data.Length;
    }

    public byte[] GetHash() => _hash.GetHashAndReset();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The output side of a decompressor, measured as it is read: the bytes it produces are charged to the budget, and
/// their ratio to the compressed bytes consumed so far is checked on every read. Headers are never trusted.
/// </summary>
internal sealed class BombGuardStream(Stream decompressed, Func<long> compressedBytes, InspectionBudget budget, string path)
    : ReadOnlyWrapperStream(decompressed)
{
    private long _produced;

    protected override void OnRead(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        _produced += data.Length;
        budget.AddUncompressed(data.Length, path);
        if (_produced > budget.Options.RatioGraceBytes)
        {
            var ratio = (double)_produced / Math.Max(1, compressedBytes());
            if (ratio > budget.Options.MaxCompressionRatio)
            {
                throw new InspectionStoppedException(FindingKind.DecompressionBomb,
                    $"'{path}' expands more than {budget.Options.MaxCompressionRatio}:1 ({_produced} bytes from {compressedBytes()}; stopped while decompressing)", path);
            }
        }
    }
}

/// <summary>A stream whose first bytes can be looked at before it is read from the start.</summary>
internal sealed class PeekStream : ReadOnlyWrapperStream
{
    private readonly byte[] _head;
    private int _headLength;
    private int _headPosition;

    private PeekStream(Stream inner, int size) : base(inner) => _head = new byte[size];

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, _headLength);

    public static async Task<PeekStream> OpenAsync(Stream inner, int size, CancellationToken cancellationToken)
    {
        var peek = new PeekStream(inner, size);
        while (peek._headLength < size)
        {
            var n = await inner.ReadAsync(peek._head.AsMemory(peek._headLength), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            peek._headLength += n;
        }
        return peek;
    }

    public override int Read(Span<byte> buffer)
    {
        if (_headPosition < _headLength)
        {
            var n = Math.Min(buffer.Length, _headLength - _headPosition);
            Head.Slice(_headPosition, n).CopyTo(buffer);
            _headPosition += n;
            return n;
        }
        return Inner.Read(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_headPosition < _headLength)
        {
            var n = Math.Min(buffer.Length, _headLength - _headPosition);
            _head.AsMemory(_headPosition, n).CopyTo(buffer);
            _headPosition += n;
            return n;
        }
        return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The next <c>length</c> bytes of a stream, read forwards; never closes the stream it reads.</summary>
internal sealed class BoundedReadStream(Stream inner, long length) : ReadOnlyWrapperStream(inner, leaveOpen: true)
{
    public long Remaining { get; private set; } = length;

    public override int Read(Span<byte> buffer)
    {
        if (Remaining <= 0)
        {
            return 0;
        }
        var n = Inner.Read(buffer[..(int)Math.Min(buffer.Length, Remaining)]);
        Remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Remaining <= 0)
        {
            return 0;
        }
        var n = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Remaining)], cancellationToken).ConfigureAwait(false);
        Remaining -= n;
        return n;
    }
}
