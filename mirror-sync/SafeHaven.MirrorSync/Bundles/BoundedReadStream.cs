using SafeHaven.Core.IO;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>A read-only view of the next <c>length</c> bytes of another stream (a tar member's data).</summary>
internal sealed class BoundedReadStream(Stream inner, long length, bool leaveOpen = false) : ReadOnlyWrapperStream(inner, leaveOpen)
{
    private long _left = length;

    public override int Read(Span<byte> buffer)
    {
        if (_left == 0)
        {
            return 0;
        }
        var n = Inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
        _left -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left == 0)
        {
            return 0;
        }
        var n = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken).ConfigureAwait(false);
        _left -= n;
        return n;
    }
}
