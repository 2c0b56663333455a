using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Tests.Support;
using static SafeHaven.Airlock.Tests.Inspection.HostileArchives;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>
/// Issue 11, item 1: every archive or compressed format is listed or blocked as uninspectable, and links are judged
/// where they lead once extracted. Each hostile case is built at test time with the real tools (tar in its dialects,
/// xz, bzip2, zstd, lz4, cpio, dpkg-deb, git) or System.IO.Compression, next to a harmless twin that must still pass.
/// </summary>
public sealed partial class FailClosedInspectionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    public static TheoryData<string, string, string[]> Compressors => new()
    {
        { "tar.xz", "xz", ["xz", "-c"] },
        { "tar.bz2", "bzip2", ["bzip2", "-c"] },
        { "tar.zst", "zstd", ["zstd", "-q", "-c"] },
        { "tar.lz4", "lz4", ["lz4", "-q", "-c"] },
        { "tar.lzma", "lzma", ["xz", "--format=lzma", "-c"] },
    };

    [Theory]
    [MemberData(nameof(Compressors))]
    public async Task Compressed_tar_holding_a_symlink_to_etc_is_blocked(string extension, string format, string[] compressor)
    {
        var tree = Tree(dir =>
        {
            System.IO.File.WriteAllText(Path.Combine(dir, "readme.txt"), "hello\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "etc"), "/etc");
        });
        var archive = Compress(TarOf(tree, "gnu", "readme.txt", "etc"), compressor, $"evil.{extension}");

        var result = await InspectFileAsync($"evil.{extension}", archive);

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal(format, result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.Equal("evil.tar!/etc", finding.Path[(finding.Path.IndexOf('!') + 2)..]);
        Assert.Contains("absolute path '/etc'", finding.Reason, StringComparison.Ordinal);
        Assert.Contains(result.Entries, e => e.Path.EndsWith("evil.tar!/readme.txt", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Compressors))]
    public async Task Harmless_compressed_tar_is_listed_and_clean(string extension, string format, string[] compressor)
    {
        var tree = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "src"));
            System.IO.File.WriteAllText(Path.Combine(dir, "src", "run.py"), "print(1)\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "latest.py"), "src/run.py");
        });
        var archive = Compress(TarOf(tree, "pax", "src", "src/run.py", "latest.py"), compressor, $"good.{extension}");

        var result = await InspectFileAsync($"good.{extension}", archive);

        AssertClean(result);
        Assert.Equal(format, result.Format);
        Assert.Contains($"good.{extension}!/good.tar!/src/run.py", result.Entries.Select(e => e.Path));
        Assert.Equal("src/run.py", Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.SymbolicLink).LinkTarget);
    }

    [Fact]
    public async Task V7_tar_without_the_ustar_magic_holding_a_character_device_is_blocked()
    {
        // GNU tar cannot put a device in a V7 archive, so the device header is a ustar one with its magic erased
        // (checksum recomputed), placed in front of a real `tar --format=v7` archive: no "ustar" anywhere at 257.
        var tree = Tree(dir => System.IO.File.WriteAllText(Path.Combine(dir, "a.txt"), "a\n"));
        var v7 = System.IO.File.ReadAllBytes(TarOf(tree, "v7", "a.txt"));
        var device = V7Header(new UstarTarEntry(TarEntryType.CharacterDevice, "dev/mem") { DeviceMajor = 1, DeviceMinor = 1 });
        var file = Write("v7.tar", [.. device, .. v7]);
        Assert.NotEqual("ustar"u8.ToArray(), System.IO.File.ReadAllBytes(file)[257..262]);

        var result = await InspectFileAsync("v7.tar", file);

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal("tar", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.SpecialFile, finding.Kind);
        Assert.Equal("v7.tar!/dev/mem", finding.Path);
        Assert.Contains("character device", finding.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v7")]
    [InlineData("gnu")]
    [InlineData("pax")]
    public async Task Tar_dialects_are_recognised_and_their_escaping_links_blocked(string dialect)
    {
        var longName = string.Join('/', Enumerable.Repeat("deep-directory-name", 4)) + "/file.txt";
        var good = Tree(dir =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, longName))!);
            System.IO.File.WriteAllText(Path.Combine(dir, dialect == "v7" ? "short.txt" : longName), "x\n");
        });
        var bad = Tree(dir =>
        {
            System.IO.File.WriteAllText(Path.Combine(dir, "a.txt"), "a\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "pw"), "/etc/passwd");
        });

        var clean = await InspectFileAsync($"{dialect}.tar", TarOf(good, dialect, dialect == "v7" ? ["short.txt"] : [longName]));
        var blocked = await InspectFileAsync($"{dialect}-bad.tar", TarOf(bad, dialect, "a.txt", "pw"));

        AssertClean(clean);
        Assert.Equal("tar", clean.Format);
        Assert.Contains(clean.Entries, e => e.Path.EndsWith(dialect == "v7" ? "/short.txt" : "/" + longName, StringComparison.Ordinal));
        var finding = Assert.Single(blocked.Findings);
        Assert.Equal((FindingKind.LinkEscape, $"{dialect}-bad.tar!/pw"), (finding.Kind, finding.Path));
        Assert.Contains("'/etc/passwd'", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zip_behind_a_self_extracting_prefix_is_found_and_its_escaping_link_blocked()
    {
        var zip = Zip([("readme.txt", Text("read me"), null), ("passwd", Text("/etc/passwd"), 0xA1FF)]);
        var file = Write("setup.run", [.. Stub(4096), .. zip]);

        var result = await InspectFileAsync("setup.run", file);

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "setup.run!/passwd"), (finding.Kind, finding.Path));
        Assert.Contains("'/etc/passwd'", finding.Reason, StringComparison.Ordinal);
        Assert.Contains("setup.run!/readme.txt", result.Entries.Select(e => e.Path));
        Assert.Equal(4096, Assert.Single(result.Entries, e => e.Path == "setup.run!/(prefix)").Size);
    }

    [Fact]
    public async Task Harmless_prefixed_zip_is_listed_and_clean_and_one_hidden_inside_a_tar_is_blocked()
    {
        var zip = Zip(("data/a.csv", Text("a,b\n1,2\n")));
        var file = Write("setup.run", [.. Stub(1000), .. zip]);

        var result = await InspectFileAsync("setup.run", file);
        var nested = await InspectFileAsync("outer.tar", Write("outer.tar", Tar(File("setup.run", [.. Stub(1000), .. zip]))));

        AssertClean(result);
        Assert.Contains("setup.run!/data/a.csv", result.Entries.Select(e => e.Path));
        var finding = Assert.Single(nested.Findings);
        Assert.Equal((FindingKind.Uninspectable, "outer.tar!/setup.run"), (finding.Kind, finding.Path));
        Assert.Contains("self-extracting", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chained_symlinks_each_lexically_inside_are_blocked_in_a_tar()
    {
        // dir/up -> ..   (the root: inside)        dir/out -> up/..   (lexically dir: inside; really above the root)
        // passwd -> dir/out/etc/passwd (lexically inside; really /etc/passwd once extracted at /)
        var tree = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "dir"));
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "dir", "up"), "..");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "dir", "out"), "up/..");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "passwd"), "dir/out/etc/passwd");
        });
        var result = await InspectFileAsync("chain.tar", TarOf(tree, "gnu", "dir", "dir/up", "dir/out", "passwd"));

        AssertChainBlocked(result, "chain.tar");
    }

    [Fact]
    public async Task Chained_symlinks_each_lexically_inside_are_blocked_in_a_zip()
    {
        var zip = Zip([
            ("dir/up", Text(".."), 0xA1FF),
            ("dir/out", Text("up/.."), 0xA1FF),
            ("passwd", Text("dir/out/etc/passwd"), 0xA1FF),
        ]);

        var result = await InspectFileAsync("chain.zip", Write("chain.zip", zip));

        AssertChainBlocked(result, "chain.zip");
    }

    [Fact]
    public async Task Hard_link_through_a_symlinked_directory_and_a_link_defined_before_its_chain_are_blocked()
    {
        var result = await InspectFileAsync("late.tar", Write("late.tar", Tar(
            Link(TarEntryType.SymbolicLink, "a/far", "../b/up/../x"), // harmless when written: b/up does not exist yet
            Link(TarEntryType.SymbolicLink, "b/up", ".."),
            Link(TarEntryType.HardLink, "shadow", "b/up/../etc/shadow"),
            File("ok.txt", Text("ok")))));

        Assert.Equal(
            [("late.tar!/shadow", FindingKind.LinkEscape), ("late.tar!/a/far", FindingKind.LinkEscape)],
            result.Findings.Select(f => (f.Path, f.Kind)));
        Assert.Contains("hard link 'shadow'", result.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Contains("'b/up' -> '..'", result.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Contains("in the extracted tree", result.Findings[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_replaced_by_a_file_is_no_longer_followed()
    {
        var result = await InspectFileAsync("replaced.tar", Write("replaced.tar", Tar(
            Link(TarEntryType.SymbolicLink, "d/x", ".."),
            File("d/x", Text("now a file")),
            Link(TarEntryType.SymbolicLink, "y", "d/x/.."))));

        AssertClean(result);
        Assert.Equal(3, result.Entries.Count);
    }

    [Fact]
    public async Task Git_bundle_whose_history_adds_then_removes_an_escaping_link_is_blocked()
    {
        var bundle = BundleWithHistory(link: "/etc/passwd");

        var result = await InspectFileAsync("code.bundle", bundle);

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.Matches(@"^code\.bundle!/\(history\)/[0-9a-f]{40}/s$", finding.Path);
        Assert.Contains("history, not a head", finding.Reason, StringComparison.Ordinal);
        Assert.Contains("'/etc/passwd'", finding.Reason, StringComparison.Ordinal);
        // The head tree no longer has the link: it is the history that blocks.
        Assert.DoesNotContain(result.Entries, e => e.Path.EndsWith("/s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Git_bundle_whose_history_only_ever_had_harmless_links_is_clean()
    {
        var bundle = BundleWithHistory(link: "a.txt");

        var result = await InspectFileAsync("code.bundle", bundle);

        AssertClean(result);
        Assert.Contains("code.bundle!/refs/heads/main/a.txt", result.Entries.Select(e => e.Path));
    }

    [Theory]
    [InlineData("lz4", new[] { "lz4", "-q", "-c" })]
    [InlineData("lzma", new[] { "xz", "--format=lzma", "-c" })]
    public async Task Lz4_and_lzma_named_harmlessly_are_still_listed_by_their_bytes(string format, string[] compressor)
    {
        var tree = Tree(dir => System.IO.File.CreateSymbolicLink(Path.Combine(dir, "pw"), "/etc/passwd"));
        var compressed = Compress(TarOf(tree, "gnu", "pw"), compressor, "notes.txt");

        var result = await InspectFileAsync("notes.txt", compressed);

        Assert.Equal(format, result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "notes.txt!/(compressed content)!/pw"), (finding.Kind, finding.Path));
        Assert.Contains("'/etc/passwd'", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lz4_legacy_format_which_no_reader_here_lists_stays_blocked_as_uninspectable()
    {
        // `lz4 -l` writes the legacy format (Linux kernel images use it); K4os.Compression.LZ4 reads only frames.
        var plain = Write("plain.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("hello airlock\n", 100))));
        var compressed = Compress(plain, ["lz4", "-q", "-l", "-c"], "data.lz4");

        foreach (var asName in new[] { "data.lz4", "notes.txt" })
        {
            var result = await InspectFileAsync(asName, compressed);

            var finding = Assert.Single(result.Findings);
            Assert.Equal((FindingKind.Uninspectable, asName), (finding.Kind, finding.Path));
            Assert.Contains("is lz4 legacy format content", finding.Reason, StringComparison.Ordinal);
            Assert.Contains("uninspectable", finding.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Lzma_declaring_a_dictionary_larger_than_the_inspector_allocates_is_blocked_before_decoding()
    {
        // A real `xz --format=lzma` file whose header is edited to declare a 1 GiB dictionary (the decoder would
        // allocate it whole); the properties byte and the rest of the stream are untouched.
        var lzma = System.IO.File.ReadAllBytes(Compress(Write("plain.txt", Text("hello airlock\n")), ["xz", "--format=lzma", "-c"], "data.lzma"));
        BitConverter.TryWriteBytes(lzma.AsSpan(1, 4), 1u << 30);

        var result = await InspectFileAsync("data.lzma", Write("data.lzma", lzma));

        Assert.Equal("lzma", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.Uninspectable, finding.Kind);
        Assert.Contains("declares a 1073741824-byte dictionary", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Xz_declaring_a_dictionary_larger_than_the_inspector_allocates_is_blocked_before_decoding()
    {
        // A real `xz` file (one block, LZMA2 with an 8 MiB dictionary) whose first block header is edited to declare
        // 1 GiB: the LZMA2 properties byte is the last byte before the header's padding and CRC32, which is recomputed
        // so the header stays valid and only the dictionary is hostile.
        var xz = System.IO.File.ReadAllBytes(Compress(Write("plain.txt", Text("hello airlock\n")), ["xz", "-c"], "data.xz"));
        Assert.Equal(8L << 20, AirlockInspector.XzDictionaryBytes(xz));
        var headerSize = (xz[12] + 1) * 4;
        var header = xz.AsSpan(12, headerSize);
        var lzma2 = header.IndexOf(new byte[] { 0x21, 0x01 });
        Assert.True(lzma2 > 0, "the block header names the LZMA2 filter");
        header[lzma2 + 2] = 36; // (2 | 0) << (36 / 2 + 11) = 1 GiB
        BitConverter.TryWriteBytes(header[^4..], Crc32(header[..^4]));

        var result = await InspectFileAsync("data.xz", Write("data.xz", xz));

        Assert.Equal("xz", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.Uninspectable, finding.Kind);
        Assert.Contains("declares a 1073741824-byte dictionary", finding.Reason, StringComparison.Ordinal);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }

    [Theory]
    [InlineData("data.lz4", "lz4", new[] { "lz4", "-q", "-c" })]
    [InlineData("data.lzma", "lzma", new[] { "xz", "--format=lzma", "-c" })]
    public async Task Truncated_lz4_and_lzma_are_blocked_as_malformed(string name, string format, string[] compressor)
    {
        var random = new byte[256 * 1024];
        new Random(7).NextBytes(random);
        var whole = System.IO.File.ReadAllBytes(Compress(Write("random.bin", random), compressor, name));

        var result = await InspectFileAsync(name, Write(name, whole[..(whole.Length / 2)]));

        Assert.Equal(format, result.Format);
        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal(FindingKind.Malformed, Assert.Single(result.Findings).Kind);
    }

    [Fact]
    public async Task Random_bytes_named_as_a_7z_archive_are_blocked_as_uninspectable()
    {
        var bytes = new byte[4096];
        new Random(11).NextBytes(bytes);
        bytes[0] = 0x42; // no known magic

        var result = await InspectFileAsync("tools.7z", Write("tools.7z", bytes));

        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.Uninspectable, "tools.7z"), (finding.Kind, finding.Path));
        Assert.Contains("named as 7z", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seven_zip_archives_are_listed_and_their_contents_inspected()
    {
        var buffer = new MemoryStream();
        using (var writer = new SharpCompress.Writers.SevenZip.SevenZipWriter(buffer, new SharpCompress.Writers.SevenZip.SevenZipWriterOptions()))
        {
            writer.Write("docs/readme.txt", new MemoryStream(Text("read me")), null);
            writer.Write("docs/inner.tar", new MemoryStream(Tar(Link(TarEntryType.SymbolicLink, "pw", "../../etc/passwd"))), null);
        }

        var result = await InspectFileAsync("bundle.7z", Write("bundle.7z", buffer.ToArray()));

        Assert.Equal("sevenzip", result.Format);
        Assert.Contains("bundle.7z!/docs/readme.txt", result.Entries.Select(e => e.Path));
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "bundle.7z!/docs/inner.tar!/pw"), (finding.Kind, finding.Path));
    }

    [Fact]
    public async Task Debian_package_is_listed_through_ar_and_its_data_tar_and_an_escaping_link_inside_blocks_it()
    {
        var good = Deb("good", root => System.IO.File.WriteAllText(Path.Combine(root, "usr", "share", "doc", "readme"), "hi\n"));
        var bad = Deb("bad", root => System.IO.File.CreateSymbolicLink(Path.Combine(root, "usr", "share", "doc", "shadow"), "../../../../etc/shadow"));

        var clean = await InspectFileAsync("good.deb", good);
        var blocked = await InspectFileAsync("bad.deb", bad);

        AssertClean(clean);
        Assert.Equal("ar", clean.Format);
        Assert.Contains(clean.Entries, e => e.Path.StartsWith("good.deb!/data.tar", StringComparison.Ordinal) && e.Path.EndsWith("usr/share/doc/readme", StringComparison.Ordinal));
        var finding = Assert.Single(blocked.Findings);
        Assert.Equal(FindingKind.LinkEscape, finding.Kind);
        Assert.EndsWith("usr/share/doc/shadow", finding.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zeros.xz", "xz", new[] { "xz", "-c" })]
    [InlineData("zeros.zst", "zstd", new[] { "zstd", "-q", "-c" })]
    [InlineData("zeros.bz2", "bzip2", new[] { "bzip2", "-c" })]
    [InlineData("zeros.lz4", "lz4", new[] { "lz4", "-q", "-9", "-c" })]
    [InlineData("zeros.lzma", "lzma", new[] { "xz", "--format=lzma", "-c" })]
    public async Task Bomb_limits_apply_to_every_decompressor_while_streaming(string name, string format, string[] compressor)
    {
        var zeros = Write("zeros", new byte[16 * 1024 * 1024]);
        var bomb = Compress(zeros, compressor, name);
        Assert.True(new FileInfo(bomb).Length < 16 * 1024 * 1024 / 100, "the fixture compresses better than the limit");

        var result = await InspectFileAsync(name, bomb);

        Assert.Equal(format, result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(FindingKind.DecompressionBomb, finding.Kind);
        Assert.Contains("stopped while decompressing", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zip64_behind_a_prefix_is_found_from_its_zip64_end_record()
    {
        // More than 65,535 entries makes System.IO.Compression write zip64 end records.
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (var i = 0; i < 65_600; i++)
            {
                zip.CreateEntry($"f/{i}", CompressionLevel.NoCompression);
            }
            using var last = zip.CreateEntry("zz-last.txt").Open();
            last.Write(Text("the last entry"));
        }
        var bytes = buffer.ToArray();
        Assert.Equal("PK\u0006\u0006"u8.ToArray(), bytes[(bytes.Length - 22 - 20 - 56)..(bytes.Length - 22 - 20 - 52)]);

        var result = await InspectFileAsync("big.run", Write("big.run", [.. Stub(512), .. bytes]));

        AssertClean(result);
        Assert.Equal(65_600 + 2, result.Entries.Count);
        Assert.Contains("big.run!/zz-last.txt", result.Entries.Select(e => e.Path));
        Assert.Equal(512, Assert.Single(result.Entries, e => e.Path == "big.run!/(prefix)").Size);
    }

    private static void AssertClean(FileInspection result) =>
        Assert.True(result.Verdict == InspectionVerdict.Clean, string.Join("\n", result.Findings.Select(f => $"{f.Path}: {f.Kind}: {f.Reason}")));

    private static void AssertChainBlocked(FileInspection result, string archive)
    {
        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal([$"{archive}!/dir/out", $"{archive}!/passwd"], result.Findings.Select(f => f.Path));
        Assert.All(result.Findings, f => Assert.Equal(FindingKind.LinkEscape, f.Kind));
        Assert.Contains("'dir/up' -> '..'", result.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Contains("'dir/out' -> 'up/..'", result.Findings[1].Reason, StringComparison.Ordinal);
        Assert.Contains("resolves outside the archive root", result.Findings[1].Reason, StringComparison.Ordinal);
    }

    private async Task<FileInspection> InspectFileAsync(string name, string file)
    {
        var spool = Path.Combine(_temp.Path, "spool");
        Directory.CreateDirectory(spool);
        var inspector = new AirlockInspector(new InspectionOptions { TempDirectory = spool });
        // Forward-only, as from the S3 store, so spooling (7z, prefixed zip, bundles) is exercised.
        var bytes = await System.IO.File.ReadAllBytesAsync(file, Ct);
        var result = await inspector.InspectAsync(name, _ => Task.FromResult<Stream>(new AirlockInspectorTests.ForwardOnlyStream(bytes)), null, Ct);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spool));
        return result;
    }

    private string Tree(Action<string> populate)
    {
        var dir = Path.Combine(_temp.Path, "tree-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        populate(dir);
        return dir;
    }

    /// <summary>The members, in this order and not recursed into, archived by GNU tar in the given format.</summary>
    private string TarOf(string dir, string format, params string[] members)
    {
        var file = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + ".tar");
        Run(dir, "tar", ["--format=" + format, "--no-recursion", "-cf", file, "--", .. members]);
        return file;
    }

    private string Compress(string input, string[] command, string name)
    {
        var output = Run(_temp.Path, command[0], [.. command[1..], input]);
        return Write(name, output);
    }

    private string Write(string name, byte[] content)
    {
        var file = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + "-" + name);
        System.IO.File.WriteAllBytes(file, content);
        return file;
    }

    private string Deb(string name, Action<string> populate)
    {
        var root = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "DEBIAN"));
            System.IO.File.WriteAllText(Path.Combine(dir, "DEBIAN", "control"),
                $"Package: fixture-{name}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: fixture\n");
            Directory.CreateDirectory(Path.Combine(dir, "usr", "share", "doc"));
            populate(dir);
        });
        var deb = Path.Combine(_temp.Path, name + ".deb");
        Run(_temp.Path, "dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb]);
        return deb;
    }

    /// <summary>Commit 1 adds <c>s -> link</c>, commit 2 removes it; the bundle holds both.</summary>
    private string BundleWithHistory(string link)
    {
        var repo = Tree(_ => { });
        Git(repo, "init", "-q", "-b", "main");
        System.IO.File.WriteAllText(Path.Combine(repo, "a.txt"), "a\n");
        System.IO.File.CreateSymbolicLink(Path.Combine(repo, "s"), link);
        Git(repo, "add", "-A");
        Git(repo, "commit", "-q", "-m", "add s");
        Git(repo, "rm", "-q", "s");
        Git(repo, "commit", "-q", "-m", "remove s");
        var bundle = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + ".bundle");
        Git(repo, "bundle", "create", "-q", bundle, "--all");
        return bundle;
    }

    private static void Git(string repo, params string[] args) =>
        Run(repo, "git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", .. args]);

    private static byte[] Run(string directory, string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = directory };
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {stderr.Result}");
        return output.ToArray();
    }

    /// <summary>A shell stub of <paramref name="size"/> bytes, as a self-extracting archive starts.</summary>
    private static byte[] Stub(int size)
    {
        var stub = Encoding.ASCII.GetBytes("#!/bin/sh\necho self-extracting; exit 0\n").ToList();
        while (stub.Count < size)
        {
            stub.Add((byte)'#');
        }
        stub[size - 1] = (byte)'\n';
        return [.. stub.Take(size)];
    }

    /// <summary>One tar header block for <paramref name="entry"/> with the ustar magic and version erased (V7 style).</summary>
    private static byte[] V7Header(TarEntry entry)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(entry);
        }
        var header = buffer.ToArray()[..512];
        Array.Clear(header, 257, 8 + 32 + 32 + 8 + 8 + 155); // magic, version, uname, gname, devmajor, devminor, prefix
        // Keep the device numbers out (V7 has no fields for them); the type flag '3' stays.
        Array.Fill(header, (byte)' ', 148, 8);
        var sum = header.Sum(b => (long)b);
        var checksum = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        checksum.CopyTo(header, 148);
        return header;
    }

    public void Dispose() => _temp.Dispose();
}
