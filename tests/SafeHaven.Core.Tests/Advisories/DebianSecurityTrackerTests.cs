using System.Text;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Advisories;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using Xunit.Abstractions;

namespace SafeHaven.Core.Tests.Advisories;

/// <summary>The Debian security tracker's JSON export in the advisories folder: read as a stream, fast-track only.</summary>
public sealed class DebianSecurityTrackerTests(ITestOutputHelper output)
{
    private static AdvisoryIndex Load(AdvisoryFolder folder, ILogger? logger = null) =>
        AdvisoryIndex.Load(folder.Path, TierPolicyProvider.NormalizeForEcosystem, logger);

    private static DebianVersion V(string text) => DebianVersion.Parse(text);

    [Fact]
    public void A_resolved_fix_for_a_codename_is_kept_as_the_newest_fixed_version_of_the_source()
    {
        // Named like neither OSV nor the tracker: the file is recognised by its content.
        using var folder = new AdvisoryFolder().With("data.json", DebianTrackerFixtures.Export);

        var index = Load(folder);

        Assert.Empty(index.Errors);
        // openssl bookworm: two resolved entries; the newest fix (3.0.13-1~deb12u1) must be met.
        var fix = index.TrackerFixFor("openssl", "bookworm", V("3.0.13-1~deb12u1"));
        Assert.NotNull(fix);
        Assert.Equal("CVE-2024-0727", fix.EntryId);
        Assert.Equal(2, fix.EntryCount);
        // Exactly the fixed version, as for OSV: a later upload of the source is new and unreviewed, so it waits.
        Assert.Null(index.TrackerFixFor("openssl", "bookworm", V("3.0.14-1~deb12u1")));
        Assert.NotNull(index.TrackerFixFor("openssl", "bookworm", V("3.0.13-1~deb12u1"))); // equal versions, however written
        Assert.Null(index.TrackerFixFor("openssl", "bookworm", V("3.0.11-1~deb12u2"))); // meets only the older fix
        Assert.Null(index.TrackerFixFor("openssl", "bookworm", V("3.0.13-1~deb12u0")));
        Assert.NotNull(index.TrackerFixFor("openssl", "bullseye", V("1.1.1w-0+deb11u2")));
        Assert.NotNull(index.TrackerFixFor("openssl", "sid", V("3.1.5-1")));
        Assert.Null(index.TrackerFixFor("openssl", "trixie", V("9.9-1"))); // no entry for that release
        // open and undetermined entries name no fix
        Assert.Null(index.TrackerFixFor("hello", "bookworm", V("2.10-3")));
        Assert.Null(index.TrackerFixFor("hello", "trixie", V("99")));
        // "0": the release was never affected, nothing is fixed
        Assert.Null(index.TrackerFixFor("zlib", "bookworm", V("1:1.2.13.dfsg-1")));
        // a codename nobody serves is kept harmlessly
        Assert.NotNull(index.TrackerFixFor("zlib", "future-codename", V("1:1.3-1")));
        // resolved without a fixed_version: no fix known
        Assert.Null(index.TrackerFixFor("curl", "bookworm", V("7.88.1-10+deb12u5")));
        // Tracker data never blocks and never becomes an OSV fix or a malicious record.
        Assert.Equal(0, index.MaliciousCount);
        Assert.Empty(index.FixesFor("Debian:12", "openssl", "3.0.13-1~deb12u1", (a, b) => a == b));
        Assert.Equal(4, index.TrackerFixCount); // openssl in bookworm, bullseye and sid; zlib in the unknown codename
    }

    [Fact]
    public void Tracker_export_and_OSV_records_live_in_the_same_index()
    {
        using var folder = new AdvisoryFolder()
            .With("GHSA-j8r2-6x86-q33q.json", OsvFixtures.RequestsGhsa)
            .With("debian/tracker.json", DebianTrackerFixtures.Export);

        var index = Load(folder);

        Assert.Empty(index.Errors);
        Assert.Single(index.FixesFor("PyPI", "requests", "2.31.0", (a, b) => a == b));
        Assert.NotNull(index.TrackerFixFor("openssl", "bookworm", V("3.0.13-1~deb12u1")));
    }

    [Theory]
    [InlineData("truncated", "{ \"openssl\": { \"CVE-2024-0727\": { \"releases\": { \"bookworm\": { \"status\": \"resolved\", \"fixed_version\": \"3.0.13-1")]
    [InlineData("array-source", "{ \"openssl\": { \"CVE-1\": { \"releases\": { \"bookworm\": { \"status\": \"resolved\", \"fixed_version\": \"1-1\" } } } }, \"curl\": [] }")]
    [InlineData("scalar-entry", "{ \"openssl\": { \"CVE-1\": { \"releases\": { \"bookworm\": { \"status\": \"resolved\", \"fixed_version\": \"1-1\" } } }, \"CVE-2\": 5 } }")]
    public void A_malformed_tracker_file_is_skipped_whole_and_logged_like_OSV(string name, string content)
    {
        var logger = new ListLogger();
        using var folder = new AdvisoryFolder()
            .With("good.json", DebianTrackerFixtures.Export)
            .With(name + ".json", content);

        var index = Load(folder, logger);

        var error = Assert.Single(index.Errors);
        Assert.Contains(name + ".json", error, StringComparison.Ordinal);
        Assert.Contains(logger.Warnings, w => w.Contains(name + ".json", StringComparison.Ordinal));
        // The good file is used; nothing of the bad one is (its openssl fix 1-1 would otherwise lower nothing but count).
        Assert.Equal(2, index.TrackerFixFor("openssl", "bookworm", V("3.0.13-1~deb12u1"))!.EntryCount);
    }

    [Fact]
    public void A_file_that_is_not_a_tracker_export_falls_back_to_OSV()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(OsvFixtures.RequestsGhsa));
        Assert.Null(DebianSecurityTracker.TryRead(stream));
        using var array = new MemoryStream(Encoding.UTF8.GetBytes($"[{OsvFixtures.RequestsGhsa}]"));
        Assert.Null(DebianSecurityTracker.TryRead(array));
        using var empty = new MemoryStream(Encoding.UTF8.GetBytes("{}"));
        Assert.Null(DebianSecurityTracker.TryRead(empty));
    }

    [Fact]
    public void A_large_export_is_read_as_a_stream_with_bounded_memory()
    {
        // 96 MiB of tracker JSON (more than the real export's ~80 MB), generated while it is read: a reader that
        // buffered the document would hold at least that much. Each source has hundreds of entries (like linux in
        // the real export), one description is longer than the reader's first buffer, and only three releases per
        // source are kept, so what legitimately stays is small.
        const long Size = 96L * 1024 * 1024;
        const long Bound = 24L * 1024 * 1024;
        using var stream = new GeneratedTrackerStream(Size);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var fixes = DebianSecurityTracker.TryRead(stream, CancellationToken.None);

        Assert.NotNull(fixes);
        Assert.True(stream.Position >= Size);
        Assert.Equal(stream.Sources * 2, fixes.Count); // bookworm and sid; trixie is open everywhere
        var last = fixes[($"src{stream.Sources - 1}", "bookworm")];
        Assert.Equal(V($"1.0-{stream.EntriesOf(stream.Sources - 1)}"), last.FixedVersion);
        var peak = stream.PeakLiveBytes - baseline;
        output.WriteLine($"read {stream.Position / (1024 * 1024)} MiB; live heap grew at most {peak / (1024 * 1024.0):0.0} MiB (bound {Bound / (1024 * 1024)} MiB)");
        Assert.True(peak < Bound, $"live heap grew by {peak} bytes while reading {Size} bytes");
    }

    /// <summary>
    /// Produces tracker JSON on demand, never holding more than one source's text; every 8 MiB it forces a full
    /// collection and records the live heap, which is the memory the reader holds at that moment.
    /// </summary>
    private sealed class GeneratedTrackerStream(long size) : Stream
    {
        private const int EntriesPerSource = 400;
        private readonly long _size = size;
        private byte[] _chunk = Encoding.UTF8.GetBytes("{");
        private int _chunkOffset;
        private long _position;
        private long _nextSample;
        private bool _closed;

        public int Sources { get; private set; }
        public long PeakLiveBytes { get; private set; }
        public int EntriesOf(int source) => EntriesPerSource + source % 7;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_chunkOffset == _chunk.Length)
            {
                if (_closed)
                {
                    return 0;
                }
                _chunk = _position >= _size ? Encoding.UTF8.GetBytes("}\n") : NextSource();
                _closed = _position >= _size;
                _chunkOffset = 0;
            }
            var n = Math.Min(count, _chunk.Length - _chunkOffset);
            Array.Copy(_chunk, _chunkOffset, buffer, offset, n);
            _chunkOffset += n;
            _position += n;
            if (_position >= _nextSample)
            {
                _nextSample += 8 * 1024 * 1024;
                PeakLiveBytes = Math.Max(PeakLiveBytes, GC.GetTotalMemory(forceFullCollection: true));
            }
            return n;
        }

        private byte[] NextSource()
        {
            var s = Sources++;
            var text = new StringBuilder();
            text.Append(s == 0 ? "" : ",").Append($"\n  \"src{s}\": {{");
            for (var e = 1; e <= EntriesOf(s); e++)
            {
                var description = s == 0 && e == 1
                    ? new string('x', 200_000) // one token longer than the reader's first buffer
                    : $"Issue \\\"{e}\\\" in src{s} caf\\u00e9: a use-after-free in the parser may lead to a crash";
                text.Append(e == 1 ? "" : ",").Append($"\n    \"CVE-2024-{s:D5}{e:D3}\": {{ \"scope\": \"remote\", \"debianbug\": {1000000 + e}, \"description\": \"{description}\", \"releases\": {{ ")
                    .Append($"\"bookworm\": {{ \"status\": \"resolved\", \"repositories\": {{ \"bookworm\": \"1.0-1\", \"bookworm-security\": \"1.0-{e}\" }}, \"fixed_version\": \"1.0-{e}\", \"urgency\": \"medium\" }}, ")
                    .Append($"\"trixie\": {{ \"status\": \"open\", \"repositories\": {{ \"trixie\": \"1.0-1\" }}, \"urgency\": \"not yet assigned\" }}, ")
                    .Append($"\"sid\": {{ \"status\": \"resolved\", \"repositories\": {{ \"sid\": \"2.0-1\" }}, \"fixed_version\": \"2.0-{e}\", \"urgency\": \"medium\" }} }} }}");
            }
            text.Append("\n  }");
            return Encoding.UTF8.GetBytes(text.ToString());
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
