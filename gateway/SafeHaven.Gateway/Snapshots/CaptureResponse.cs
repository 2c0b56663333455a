using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Gateway.Snapshots;

/// <summary>
/// The response side of one in-process capture request: status and headers as an endpoint sets them, the body
/// streamed into a blob writer (never held in memory), OnStarting/OnCompleted callbacks run as a server runs them.
/// While writing it looks for the rebase marker (<c>RebaseOrigin/&lt;eco&gt;/</c>) across write boundaries and keeps
/// the first bytes of the body for the error message of a failed request.
/// </summary>
internal sealed class CaptureResponse : IHttpResponseFeature, IHttpResponseBodyFeature
{
    private const int KeptPrefix = 1024;

    private readonly IBlobWriter _writer;
    private readonly byte[]? _marker;
    private readonly List<(Func<object, Task> Callback, object State)> _onStarting = [];
    private readonly List<(Func<object, Task> Callback, object State)> _onCompleted = [];
    private readonly MemoryStream _prefix = new();
    private byte[] _carry = [];
    private PipeWriter? _pipe;

    public CaptureResponse(IBlobWriter writer, byte[]? marker)
    {
        _writer = writer;
        _marker = marker;
        Stream = new BodyStream(this);
        Body = Stream;
    }

    public int StatusCode { get; set; } = StatusCodes.Status200OK;
    public string? ReasonPhrase { get; set; }
    public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();
    public Stream Body { get; set; }
    public bool HasStarted { get; private set; }

    /// <summary>Whether the body contains the rebase marker.</summary>
    public bool MarkerFound { get; private set; }

    /// <summary>The start of the body as text (for the reason of a failed request).</summary>
    public string PrefixText => Encoding.UTF8.GetString(_prefix.GetBuffer(), 0, (int)_prefix.Length);

    public Stream Stream { get; }

    public PipeWriter Writer => _pipe ??= PipeWriter.Create(Stream, new StreamPipeWriterOptions(leaveOpen: true));

    public void OnStarting(Func<object, Task> callback, object state) => _onStarting.Add((callback, state));

    public void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Add((callback, state));

    public void DisableBuffering()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (HasStarted)
        {
            return;
        }
        // Callbacks run in reverse order of registration, as the server runs them.
        for (var i = _onStarting.Count - 1; i >= 0; i--)
        {
            await _onStarting[i].Callback(_onStarting[i].State).ConfigureAwait(false);
        }
        HasStarted = true;
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await StartAsync().ConfigureAwait(false);
        if (_pipe is not null)
        {
            await _pipe.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs the OnCompleted callbacks (disposal of what the endpoint registered), last registered first.</summary>
    public async Task RunCompletedAsync()
    {
        for (var i = _onCompleted.Count - 1; i >= 0; i--)
        {
            await _onCompleted[i].Callback(_onCompleted[i].State).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!HasStarted)
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_prefix.Length < KeptPrefix)
        {
            _prefix.Write(data.Span[..Math.Min(data.Length, KeptPrefix - (int)_prefix.Length)]);
        }
        Scan(data.Span);
        await _writer.WriteAsync(data, cancellationToken).ConfigureAwait(false);
    }

    private void Scan(ReadOnlySpan<byte> data)
    {
        if (_marker is null || MarkerFound || data.IsEmpty)
        {
            return;
        }
        var keep = _marker.Length - 1;
        // The marker may straddle the previous write and this one: look in the carried tail joined to this start.
        var joined = new byte[_carry.Length + Math.Min(data.Length, keep)];
        _carry.CopyTo(joined, 0);
        data[..Math.Min(data.Length, keep)].CopyTo(joined.AsSpan(_carry.Length));
        if (joined.AsSpan().IndexOf(_marker) >= 0 || data.IndexOf(_marker) >= 0)
        {
            MarkerFound = true;
            return;
        }
        if (data.Length >= keep)
        {
            _carry = data[^keep..].ToArray();
            return;
        }
        var all = new byte[_carry.Length + data.Length];
        _carry.CopyTo(all, 0);
        data.CopyTo(all.AsSpan(_carry.Length));
        _carry = all.Length > keep ? all[^keep..] : all;
    }

    private sealed class BodyStream(CaptureResponse owner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) =>
            owner.WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            owner.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            owner.WriteAsync(buffer, cancellationToken);
    }
}
