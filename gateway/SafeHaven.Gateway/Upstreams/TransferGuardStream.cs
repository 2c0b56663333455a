using System.Diagnostics;
using SafeHaven.Core.IO;

namespace SafeHaven.Gateway.Upstreams;

/// <summary>
/// Bounds on reading one upstream body: at least <see cref="MinimumBytesPerSecond"/> averaged over every
/// <see cref="RateWindow"/>, and the whole body within <see cref="BodyDeadline"/>. Header timeouts alone let an upstream
/// that trickles a body hang every client.
/// </summary>
public sealed record UpstreamTransferLimits(long MinimumBytesPerSecond, TimeSpan RateWindow, TimeSpan BodyDeadline)
{
    public static readonly UpstreamTransferLimits Default = new(1024, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1));
}

/// <summary>
/// A read-only upstream body that fails with <see cref="UpstreamUnavailableException"/> (and a reason) when upstream
/// sends too slowly, takes too long in all, or ends the body early.
/// </summary>
public sealed class TransferGuardStream(Stream inner, Uri url, UpstreamTransferLimits limits) : ReadOnlyWrapperStream(inner)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _windowStarted = Stopwatch.GetTimestamp();
    private long _windowBytes;
    private long _total;

    private long Required => (long)(limits.MinimumBytesPerSecond * limits.RateWindow.TotalSeconds);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var sinceStart = Stopwatch.GetElapsedTime(_started);
        if (sinceStart >= limits.BodyDeadline)
        {
            throw Deadline();
        }
        var inWindow = Stopwatch.GetElapsedTime(_windowStarted);
        if (inWindow >= limits.RateWindow)
        {
            if (_windowBytes < Required)
            {
                throw TooSlow();
            }
            _windowStarted = Stopwatch.GetTimestamp();
            _windowBytes = 0;
            inWindow = TimeSpan.Zero;
        }
        // A read may last until the window would fail (or, the window already satisfied, until the next one would).
        var rateBudget = limits.RateWindow - inWindow + (_windowBytes >= Required ? limits.RateWindow : TimeSpan.Zero);
        var deadlineBudget = limits.BodyDeadline - sinceStart;
        var byDeadline = deadlineBudget <= rateBudget;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(byDeadline ? deadlineBudget : rateBudget);
        int read;
        try
        {
            read = await Inner.ReadAsync(buffer, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw byDeadline ? Deadline() : TooSlow();
        }
        catch (IOException e)
        {
            throw new UpstreamUnavailableException($"upstream body of {url} ended early or broke after {_total} bytes: {e.Message}", e);
        }
        _windowBytes += read;
        _total += read;
        return read;
    }

    private UpstreamUnavailableException TooSlow() => new(
        $"upstream sent {url} slower than the minimum of {limits.MinimumBytesPerSecond} bytes/s over {limits.RateWindow.TotalSeconds:0} s ({_total} bytes received in {Stopwatch.GetElapsedTime(_started).TotalSeconds:0} s); the transfer was abandoned");

    private UpstreamUnavailableException Deadline() => new(
        $"upstream did not finish sending {url} within {limits.BodyDeadline.TotalSeconds:0} s ({_total} bytes received); the transfer was abandoned");

    /// <summary>Synchronous reads are bounded the same way (through the async read; upstream bodies are read async).</summary>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = Read(rented, 0, buffer.Length);
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override long Position { get => _total; set => throw new NotSupportedException(); }
}
