namespace SafeHaven.Core.IO;

/// <summary>
/// A read-only, forward-only pass-through over another stream: every read, sync or async, goes through
/// <see cref="OnRead"/> with the bytes it returned. Derived streams override the hook (to count, hash or bound what is
/// read), or the reads themselves where they do more than pass through. Disposing it disposes the inner stream unless
/// <c>leaveOpen</c>.
/// </summary>
public abstract class ReadOnlyWrapperStream(Stream inner, bool leaveOpen = false) : Stream
{
    private bool _innerDisposed;

    protected Stream Inner { get; } = inner;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Inner.Read(buffer);
        OnRead(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        OnRead(buffer.Span[..n]);
        return n;
    }

    /// <summary>Sees the bytes each read returned (empty at the end of the stream); may throw to stop the read.</summary>
    protected virtual void OnRead(ReadOnlySpan<byte> data)
    {
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen && !_innerDisposed)
        {
            _innerDisposed = true;
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!leaveOpen && !_innerDisposed)
        {
            _innerDisposed = true;
            await Inner.DisposeAsync().ConfigureAwait(false);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
