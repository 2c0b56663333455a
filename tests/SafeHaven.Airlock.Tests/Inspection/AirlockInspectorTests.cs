using System.Diagnostics;
using System.Formats.Tar;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Blobs;
using static SafeHaven.Airlock.Tests.Inspection.HostileArchives;

namespace SafeHaven.Airlock.Tests.Inspection;

public sealed class AirlockInspectorTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly InspectionOptions _options;

    public AirlockInspectorTests()
    {
        Directory.CreateDirectory(_temp.Combine("spool"));
        _options = new InspectionOptions { TempDirectory = _temp.Combine("spool") };
    }

    private static CancellationToken Ct => TestContext.Token;

    private async Task<FileInspection> InspectAsync(string path, byte[] content, InspectionOptions? options = null, IMalwareScanner? scanner = null)
    {
        var inspector = new AirlockInspector(options ?? _options, scanner);
        // Forward-only, as from the S3 store, so the spooling paths are exercised too.
        var result = await inspector.InspectAsync(path, _ => Task.FromResult<Stream>(new ForwardOnlyStream(content)), null, Ct);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_temp.Combine("spool")));
        return result;
    }

    [Fact]
    public async Task Plain_file_gets_its_manifest_line_and_is_clean()
    {
        var content = Text("hello airlock\n");
        var result = await InspectAsync("notes.txt", content);

        Assert.Equal(InspectionVerdict.Clean, result.Verdict);
        Assert.Equal(content.Length, result.Size);
        Assert.Equal(BlobDigest.Compute(content), result.Sha256);
        Assert.Equal("plain", result.Format);
    }

    [Fact]
    public async Task Clean_tar_gz_with_a_nested_zip_is_listed_entry_by_entry()
    {
        var inner = Zip(("data/a.csv", Text("a,b\n1,2\n")), ("README", Text("read me")));
        var archive = Gzip(Tar(File("project/run.py", Text("print(1)\n")), File("project/inputs.zip", inner),
            Link(TarEntryType.SymbolicLink, "project/latest", "run.py")));

        var result = await InspectAsync("upload.tar.gz", archive);

        Assert.Equal(InspectionVerdict.Clean, result.Verdict);
        Assert.Equal("gzip", result.Format);
        var paths = result.Entries.Select(e => e.Path).ToList();
        Assert.Contains("upload.tar.gz!/upload.tar!/project/run.py", paths);
        Assert.Contains("upload.tar.gz!/upload.tar!/project/inputs.zip!/data/a.csv", paths);
        Assert.Contains("upload.tar.gz!/upload.tar!/project/inputs.zip!/README", paths);
        Assert.Equal("run.py", Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.SymbolicLink).LinkTarget);
    }

    [Fact]
    public async Task Zip_slip_entry_is_blocked_as_path_traversal()
    {
        var result = await InspectAsync("slip.zip", Zip(("ok.txt", Text("fine")), ("../../etc/passwd", Text("root::0:0::/:/bin/sh\n"))));

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.PathTraversal, finding.Kind);
        Assert.Equal("slip.zip!/../../etc/passwd", finding.Path);
        Assert.Contains("'..'", finding.Reason, StringComparison.Ordinal);
        Assert.False(System.IO.File.Exists(Path.Combine(Path.GetTempPath(), "..", "etc", "passwd.airlock-test")));
    }

    [Fact]
    public async Task Backslash_traversal_in_a_zip_is_blocked_too()
    {
        var result = await InspectAsync("win.zip", Zip(("..\\..\\Windows\\evil.dll", Text("MZ"))));

        Assert.Equal(FindingKind.PathTraversal, Assert.Single(result.Findings).Kind);
    }

    [Fact]
    public async Task Absolute_paths_are_blocked_in_tar_and_zip()
    {
        var tar = await InspectAsync("abs.tar", Tar(File("/etc/cron.d/evil", Text("* * * * * root sh\n"))));
        var zip = await InspectAsync("abs.zip", Zip(("/root/.ssh/authorized_keys", Text("ssh-ed25519 AAAA"))));

        Assert.Equal(FindingKind.AbsolutePath, Assert.Single(tar.Findings).Kind);
        Assert.Contains("absolute path", tar.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Equal(FindingKind.AbsolutePath, Assert.Single(zip.Findings).Kind);
    }

    [Fact]
    public async Task Symlink_escaping_the_archive_root_in_a_tar_is_blocked()
    {
        var result = await InspectAsync("links.tar", Tar(
            File("dir/ok.txt", Text("ok")),
            Link(TarEntryType.SymbolicLink, "dir/inside", "../dir/ok.txt"),
            Link(TarEntryType.SymbolicLink, "dir/escape", "../../etc/shadow")));

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.Equal("links.tar!/dir/escape", finding.Path);
        Assert.Contains("outside the archive root", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Absolute_symlink_hard_link_escape_and_entries_written_through_a_link_are_blocked()
    {
        var result = await InspectAsync("links.tar", Tar(
            Link(TarEntryType.SymbolicLink, "etc", "/etc"),
            File("etc/cron.d/evil", Text("* * * * * root sh\n")),
            Link(TarEntryType.HardLink, "shadow", "../etc/shadow")));

        Assert.Equal(
            [("links.tar!/etc", FindingKind.LinkEscape), ("links.tar!/etc/cron.d/evil", FindingKind.LinkEscape), ("links.tar!/shadow", FindingKind.LinkEscape)],
            result.Findings.Select(f => (f.Path, f.Kind)));
        Assert.Contains("through the link 'etc'", result.Findings[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zip_symlink_entry_pointing_outside_is_blocked()
    {
        var result = await InspectAsync("link.zip", Zip([("passwd", Text("/etc/passwd"), 0xA1FF)]));

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.Equal("/etc/passwd", Assert.Single(result.Entries).LinkTarget);
    }

    [Fact]
    public async Task Device_and_fifo_entries_in_a_tar_are_blocked()
    {
        var result = await InspectAsync("dev.tar", Tar(
            new PaxTarEntry(TarEntryType.BlockDevice, "dev/sda") { DeviceMajor = 8, DeviceMinor = 0 },
            new PaxTarEntry(TarEntryType.CharacterDevice, "dev/mem") { DeviceMajor = 1, DeviceMinor = 1 },
            new PaxTarEntry(TarEntryType.Fifo, "pipe")));

        Assert.Equal(3, result.Findings.Count);
        Assert.All(result.Findings, f => Assert.Equal(FindingKind.SpecialFile, f.Kind));
        Assert.Contains("block device", result.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Contains("character device", result.Findings[1].Reason, StringComparison.Ordinal);
        Assert.Contains("FIFO", result.Findings[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ten_GiB_gzip_bomb_of_about_a_kilobyte_is_blocked_while_streaming()
    {
        var watch = Stopwatch.StartNew();
        var bomb = GzipBomb(10L * 1024 * 1024 * 1024);
        var built = watch.Elapsed;
        Assert.True(bomb.Length < 4096, $"bomb is {bomb.Length} bytes");

        var result = await InspectAsync("data.csv.gz.gz.gz", bomb);

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.DecompressionBomb, finding.Kind);
        Assert.Contains("stopped while decompressing", finding.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Entries);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"built in {built}, inspected in {watch.Elapsed - built}");
    }

    [Fact]
    public async Task Bomb_under_the_ratio_limit_is_stopped_by_the_total_size_limit()
    {
        var options = new InspectionOptions { TempDirectory = _options.TempDirectory, MaxCompressionRatio = 1_000_000, MaxTotalUncompressedBytes = 64L * 1024 * 1024 };

        var result = await InspectAsync("big.gz.gz.gz", GzipBomb(10L * 1024 * 1024 * 1024), options);

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.DecompressionBomb, finding.Kind);
        Assert.Contains("in total", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zip_bomb_entry_is_blocked_by_ratio()
    {
        var result = await InspectAsync("zeros.zip", ZipOfZeros(64L * 1024 * 1024));

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.DecompressionBomb, finding.Kind);
        Assert.Equal("zeros.zip!/zeros.bin", finding.Path);
    }

    [Fact]
    public async Task Archives_nested_too_deep_are_blocked()
    {
        var nested = Zip(("leaf.txt", Text("deep")));
        for (var i = 0; i < 5; i++)
        {
            nested = Zip(($"level{i}.zip", nested));
        }

        var result = await InspectAsync("russian-doll.zip", nested, new InspectionOptions { TempDirectory = _options.TempDirectory, MaxNestingDepth = 3 });

        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.NestingTooDeep, finding.Kind);
        Assert.Equal(4, finding.Path.Split("!/").Length - 1);
    }

    [Fact]
    public async Task Truncated_archive_is_blocked_as_malformed()
    {
        var tar = Gzip(Tar(File("a.txt", SafeHaven.Airlock.Tests.Blobs.BlobStoreContractTests.Bytes(10_000, seed: 1))));
        var result = await InspectAsync("cut.tar.gz", tar[..(tar.Length / 2)]);

        Assert.Equal(FindingKind.Malformed, Assert.Single(result.Findings).Kind);
    }

    [Fact]
    public async Task Stored_content_that_does_not_match_its_recorded_digest_is_reported()
    {
        var inspector = new AirlockInspector(_options);
        var recorded = BlobDigest.Compute("what was deposited"u8);

        var result = await inspector.InspectAsync("x.txt", _ => Task.FromResult<Stream>(new MemoryStream(Text("tampered"))), recorded, Ct);

        Assert.Equal(FindingKind.IntegrityMismatch, Assert.Single(result.Findings).Kind);
    }

    [Fact]
    public void Link_and_name_rules()
    {
        Assert.Null(ArchivePaths.CheckName("a/b/../c"[..3]));
        Assert.Equal(FindingKind.PathTraversal, ArchivePaths.CheckName("a/../../b")?.Kind);
        Assert.Equal(FindingKind.AbsolutePath, ArchivePaths.CheckName("C:\\Windows")?.Kind);
        Assert.Null(ArchivePaths.CheckLink("a/b/link", "../c", symbolic: true));
        Assert.Null(ArchivePaths.CheckLink("a/b/link", "../../c", symbolic: true));
        Assert.Equal(FindingKind.LinkEscape, ArchivePaths.CheckLink("a/b/link", "../../../c", symbolic: true)?.Kind);
        Assert.Equal(FindingKind.LinkEscape, ArchivePaths.CheckLink("a/link", "..", symbolic: false)?.Kind);
        Assert.Null(ArchivePaths.CheckLink("a/link", "a/file", symbolic: false));
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>A non-seekable view of bytes, like the body of an S3 GET.</summary>
    internal sealed class ForwardOnlyStream(byte[] content) : Stream
    {
        private readonly MemoryStream _inner = new(content, writable: false);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
