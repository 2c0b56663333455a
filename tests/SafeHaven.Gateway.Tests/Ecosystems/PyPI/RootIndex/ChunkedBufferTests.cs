using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI.RootIndex;

public sealed class ChunkedBufferTests
{
    [Fact]
    public void WritesAcrossChunksKeepOrderAndCompleteTrimsTheLastChunk()
    {
        var expected = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var buffer = new ChunkedBuffer(chunkSize: 64);

        buffer.Write(expected.AsSpan(0, 100));
        var span = buffer.GetSpan(10);
        expected.AsSpan(100, 10).CopyTo(span);
        buffer.Advance(10);
        buffer.Write(expected.AsSpan(110));
        buffer.Complete();

        Assert.Equal(1000, buffer.Length);
        Assert.Equal(expected, buffer.ToArray());
        Assert.Equal(expected, buffer.Segments.SelectMany(s => s.ToArray()).ToArray());
        Assert.All(buffer.Segments, s => Assert.True(s.Length is > 0 and <= 64));
        Assert.Throws<ObjectDisposedException>(() => buffer.Write([1]));
    }

    [Fact]
    public void LargeSizeHintGetsItsOwnChunk()
    {
        var buffer = new ChunkedBuffer(chunkSize: 16);
        buffer.Write([1, 2, 3]);
        var span = buffer.GetSpan(100);
        Assert.True(span.Length >= 100);
        span[..100].Fill(9);
        buffer.Advance(100);
        buffer.Complete();

        Assert.Equal([1, 2, 3, .. Enumerable.Repeat((byte)9, 100)], buffer.ToArray());
    }

    [Fact]
    public void AdvancingPastTheSpanIsRefused()
    {
        var buffer = new ChunkedBuffer(chunkSize: 16);
        buffer.GetSpan(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance(17));
    }
}
