using SafeHaven.Core.IO;

namespace SafeHaven.Core.Tests.IO;

public sealed class ReadLimitStreamTests
{
    private sealed class LimitExceededException(string message) : Exception(message);

    /// <summary>Records whether it was disposed, sync or async.</summary>
    private sealed class TrackedStream(byte[] content) : MemoryStream(content)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private static ReadLimitStream Limited(Stream inner, long limit, bool leaveOpen = false) =>
        new(inner, limit, max => new LimitExceededException($"more than {max} bytes"), leaveOpen);

    [Fact]
    public void A_sync_read_past_the_limit_throws_the_callers_exception_and_position_counts_what_was_read()
    {
        using var limited = Limited(new MemoryStream(new byte[10]), 6);
        var buffer = new byte[4];
        Assert.Equal(4, limited.Read(buffer, 0, 4));
        Assert.Equal(4, limited.Position);
        Assert.Equal(2, limited.Read(buffer.AsSpan(0, 2)));
        var error = Assert.Throws<LimitExceededException>(() => limited.Read(buffer));
        Assert.Equal("more than 6 bytes", error.Message);
    }

    [Fact]
    public async Task An_async_read_past_the_limit_throws_the_callers_exception()
    {
        await using var limited = Limited(new MemoryStream(new byte[10]), 6);
        var error = await Assert.ThrowsAsync<LimitExceededException>(() => limited.CopyToAsync(Stream.Null, CancellationToken.None));
        Assert.Equal("more than 6 bytes", error.Message);
    }

    [Fact]
    public async Task A_stream_within_the_limit_reads_to_the_end()
    {
        await using var limited = Limited(new MemoryStream([1, 2, 3]), 3);
        using var copy = new MemoryStream();
        await limited.CopyToAsync(copy, CancellationToken.None);
        Assert.Equal([1, 2, 3], copy.ToArray());
    }

    [Fact]
    public async Task Disposing_closes_the_inner_stream_unless_left_open()
    {
        var owned = new TrackedStream([1]);
        await Limited(owned, 1).DisposeAsync();
        Assert.True(owned.Disposed);

        var borrowed = new TrackedStream([1]);
        Limited(borrowed, 1, leaveOpen: true).Dispose();
        await Limited(borrowed, 1, leaveOpen: true).DisposeAsync();
        Assert.False(borrowed.Disposed);
    }
}
