namespace SafeHaven.Core.IO;

/// <summary>
/// Fails once more than <c>limit</c> bytes have been read through it (a decompression bomb or a hostile file is stopped
/// while it is read, not after), with the exception the caller makes for its own reason. <see cref="Position"/> is the
/// number of bytes read so far.
/// </summary>
public sealed class ReadLimitStream(Stream inner, long limit, Func<long, Exception> tooLarge, bool leaveOpen = false)
    : ReadOnlyWrapperStream(inner, leaveOpen)
{
    private long _read;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    protected override void OnRead(ReadOnlySpan<byte> data)
    {
        _read += data.Length;
        if (_read > limit)
        {
            throw tooLarge(limit);
        }
    }
}
