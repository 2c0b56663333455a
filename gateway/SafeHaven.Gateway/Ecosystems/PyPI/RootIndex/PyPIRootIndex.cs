using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// The rendered root index for the names in force now: rendered once per source (an upstream root document, or the
/// Tier 3+ allowlist closure) and representation, on first request, shared by every request that arrives meanwhile
/// (one render however many clients ask). A new source object with the same names (an upstream 304, a reload from the
/// index cache, a recomputed closure with the same packages) keeps the renders. Only the renders for the current source
/// are kept: the previous ones are released when the source changes.
/// </summary>
public sealed class PyPIRootIndex
{
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Renders? _current;
    private int _renderCount;

    public PyPIRootIndex(ILogger? logger = null) => _logger = logger ?? NullLogger.Instance;

    /// <summary>How many renders have been started since the process began (observability and tests).</summary>
    public int RenderCount => Volatile.Read(ref _renderCount);

    /// <summary>
    /// The page for <paramref name="source"/> in <paramref name="format"/>. <paramref name="namesOf"/> turns the source
    /// into names; it is called only when the source object is not the current one.
    /// </summary>
    public Task<RenderedRootIndex> GetAsync<TSource>(TSource source, Func<TSource, PyPIRootNames> namesOf, SimpleFormat format, CancellationToken cancellationToken)
        where TSource : class
    {
        var renders = Current(source, namesOf);
        var task = renders.For(format).Value;
        if (task.IsFaulted)
        {
            // A failed render is not kept: this request starts another.
            lock (_lock)
            {
                if (ReferenceEquals(_current, renders))
                {
                    _current = null;
                }
            }
            task = Current(source, namesOf).For(format).Value;
        }
        return task.WaitAsync(cancellationToken);
    }

    private Renders Current<TSource>(TSource source, Func<TSource, PyPIRootNames> namesOf) where TSource : class
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && ReferenceEquals(current.Source, source))
        {
            return current;
        }
        var names = namesOf(source);
        lock (_lock)
        {
            current = _current;
            if (current is not null && ReferenceEquals(current.Source, source))
            {
                return current;
            }
            current = current is not null && current.Names.Hash == names.Hash
                ? current.WithSource(source)
                : new Renders(source, names, this);
            Volatile.Write(ref _current, current);
            return current;
        }
    }

    private Task<RenderedRootIndex> StartRender(PyPIRootNames names, SimpleFormat format)
    {
        Interlocked.Increment(ref _renderCount);
        // On the thread pool: no request's cancellation stops a render that others wait for.
        return Task.Run(() =>
        {
            var page = RenderedRootIndex.Render(names, format, CancellationToken.None);
            ReturnTransientMemory();
            _logger.LogInformation(
                "Rendered the PyPI root index as {Format}: {Count} names, {Bytes} bytes, {GzipBytes} gzip, in {Milliseconds:0} ms (ETag {ETag})",
                format == SimpleFormat.Json ? "JSON" : "HTML", page.Count, page.Body.Length, page.Gzip.Length, page.RenderTime.TotalMilliseconds, page.ETag);
            return page;
        });
    }

    /// <summary>
    /// A root render comes after fetching and parsing the upstream root: at PyPI's size ~80 MB of short-lived large
    /// arrays (the upstream document, the parse buffer, the stored copy, the previous renders), which the GC would
    /// otherwise keep committed as RSS. One compacting collection per render (per upstream or policy change, not per
    /// request) gives it back to the system; it pauses requests for a few tens of milliseconds once.
    /// </summary>
    private static void ReturnTransientMemory()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private sealed class Renders
    {
        private Renders(object source, PyPIRootNames names, Lazy<Task<RenderedRootIndex>> json, Lazy<Task<RenderedRootIndex>> html)
        {
            Source = source;
            Names = names;
            Json = json;
            Html = html;
        }

        public Renders(object source, PyPIRootNames names, PyPIRootIndex owner)
            : this(source, names,
                new Lazy<Task<RenderedRootIndex>>(() => owner.StartRender(names, SimpleFormat.Json)),
                new Lazy<Task<RenderedRootIndex>>(() => owner.StartRender(names, SimpleFormat.Html)))
        {
        }

        public object Source { get; }
        public PyPIRootNames Names { get; }
        private Lazy<Task<RenderedRootIndex>> Json { get; }
        private Lazy<Task<RenderedRootIndex>> Html { get; }

        // Both HTML media types carry the same body; only the Content-Type differs.
        public Lazy<Task<RenderedRootIndex>> For(SimpleFormat format) => format == SimpleFormat.Json ? Json : Html;

        public Renders WithSource(object source) => new(source, Names, Json, Html);
    }
}
