using System.Security.Cryptography;
using System.Text;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

public sealed class Deb822ReaderTests
{
    private static async Task<List<Deb822Paragraph>> Read(string text, Deb822Limits? limits = null) =>
        await Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), limits);

    private static async Task<List<Deb822Paragraph>> Read(Stream stream, Deb822Limits? limits = null)
    {
        var paragraphs = new List<Deb822Paragraph>();
        await foreach (var paragraph in Deb822Reader.ReadAsync(stream, limits ?? new Deb822Limits(), CancellationToken.None))
        {
            paragraphs.Add(paragraph);
        }
        return paragraphs;
    }

    private const string TwoPackages =
        "Package: hello\n" +
        "Version: 2.10-3\n" +
        "Depends: libc6 (>= 2.34),\n" +
        " libfoo1\n" +
        "Description: example package\n" +
        " The GNU hello program.\n" +
        " .\n" +
        " \tIt greets.\n" +
        "\n" +
        "Package: world\n" +
        "Version: 1.0\n" +
        "\n";

    [Fact]
    public async Task Reads_fields_continuation_lines_and_dot_lines_as_written()
    {
        var paragraphs = await Read(TwoPackages);

        Assert.Equal(2, paragraphs.Count);
        var hello = paragraphs[0];
        Assert.Equal(["Package", "Version", "Depends", "Description"], hello.Fields.Select(f => f.Key));
        Assert.Equal("libc6 (>= 2.34),\n libfoo1", hello["Depends"]);
        Assert.Equal("example package\n The GNU hello program.\n .\n \tIt greets.", hello["Description"]);
        Assert.Equal("1.0", paragraphs[1]["Version"]);
    }

    [Fact]
    public async Task Field_names_are_case_insensitive_and_a_repeated_one_is_refused()
    {
        var paragraph = (await Read("Package: a1\nMULTI-ARCH: foreign\n"))[0];
        Assert.Equal("foreign", paragraph["Multi-Arch"]);
        Assert.Null(paragraph["Essential"]);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Read("Package: a1\nVersion: 1\npackage: b1\n"));
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trims_white_space_around_a_simple_value_but_keeps_an_empty_first_line()
    {
        var paragraph = (await Read("Package:   spaced  \t\nSHA256:\n abc 1 x\n"))[0];
        Assert.Equal("spaced", paragraph["Package"]);
        Assert.Equal("\n abc 1 x", paragraph["SHA256"]);
    }

    // Policy 5.1: comment lines are allowed only in a source package's debian/control, never in Packages or Release.
    [Fact]
    public async Task Refuses_comment_lines_in_archive_files()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Read("Package: a1\n# a comment\nVersion: 1\n"));
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("comment", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" continued\nPackage: a1\n", 1, "continuation line")]
    [InlineData("Package: a1\nno colon here\n", 2, "expected 'Field: value'")]
    [InlineData("Package: a1\n\nVer sion: 1\n", 3, "not a field name")]
    [InlineData("Package: a1\n-Bad: 1\n", 2, "not a field name")]
    [InlineData("Package: a1\n: 1\n", 2, "not a field name")]
    public async Task Refuses_malformed_lines_naming_them(string text, int line, string reason)
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Read(text));
        Assert.StartsWith($"line {line}:", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_CRLF_like_LF()
    {
        var crlf = await Read(TwoPackages.Replace("\n", "\r\n", StringComparison.Ordinal));
        var lf = await Read(TwoPackages);
        Assert.Equal(lf.Select(p => p.ToString()), crlf.Select(p => p.ToString()));
    }

    [Fact]
    public async Task Reads_a_last_paragraph_without_trailing_newline_and_extra_blank_lines()
    {
        var paragraphs = await Read("\n \n\nPackage: a1\n\n\t\n\n\nPackage: b1\nVersion: 1");
        Assert.Equal(["a1", "b1"], paragraphs.Select(p => p["Package"]));
        Assert.Equal("1", paragraphs[1]["Version"]);
        Assert.Empty(await Read(""));
        Assert.Empty(await Read("\n\n"));
    }

    [Fact]
    public async Task Refuses_text_that_is_not_UTF8()
    {
        var bytes = Encoding.UTF8.GetBytes("Package: a1\nDescription: caf").Concat(new byte[] { 0xE9, (byte)'\n' }).ToArray();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Read(new MemoryStream(bytes)));
        Assert.Equal("line 2: not valid UTF-8", error.Message);
    }

    [Fact]
    public async Task Enforces_the_field_and_paragraph_limits()
    {
        var limits = new Deb822Limits(MaximumFieldBytes: 100, MaximumParagraphBytes: 300);
        var longField = "Package: a1\nDescription: x\n" + string.Concat(Enumerable.Repeat(" 0123456789\n", 10));
        var fieldError = await Assert.ThrowsAsync<InvalidDataException>(() => Read(longField, limits));
        Assert.Contains("the field 'Description' is longer than the 100-byte limit", fieldError.Message, StringComparison.Ordinal);

        var manyFields = "Package: a1\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Field-{i}: value\n"));
        var paragraphError = await Assert.ThrowsAsync<InvalidDataException>(() => Read(manyFields, limits));
        Assert.Contains("the paragraph is longer than the 300-byte limit", paragraphError.Message, StringComparison.Ordinal);

        // Just under both limits reads.
        Assert.Single(await Read("Package: a1\nDescription: x\n" + string.Concat(Enumerable.Repeat(" 0123456789\n", 5)), limits));
    }

    [Fact]
    public async Task Stops_reading_an_endless_line_at_the_limit_instead_of_buffering_it()
    {
        using var endless = new EndlessStream("Package: a1\nDescription: "u8.ToArray(), (byte)'x');
        var limits = new Deb822Limits(MaximumFieldBytes: 1 << 16, MaximumParagraphBytes: 1 << 18);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => Read(endless, limits));

        Assert.Equal("line 2: a line longer than the 65536-byte field limit", error.Message);
        Assert.True(endless.Served < 4 << 16, $"read {endless.Served} bytes of an endless line before refusing it");
    }

    [Fact]
    public async Task Yields_each_paragraph_before_reading_the_rest_of_the_stream()
    {
        using var stream = new FailingAfterStream(Encoding.UTF8.GetBytes("Package: a1\nVersion: 1\n\nPackage: b1\n"));
        var seen = new List<string?>();

        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var paragraph in Deb822Reader.ReadAsync(stream, new Deb822Limits(), CancellationToken.None))
            {
                seen.Add(paragraph["Package"]);
            }
        });

        Assert.Equal(["a1"], seen);
        Assert.Equal("the upstream connection broke", error.Message);
    }

    [Fact]
    public async Task Honours_cancellation()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Deb822Reader.ReadAsync(new MemoryStream("Package: a1\n"u8.ToArray()), new Deb822Limits(), cancellation.Token))
            {
            }
        });
    }

    [Fact]
    public async Task Writes_back_byte_for_byte_what_it_read()
    {
        var paragraphs = await Read(TwoPackages);
        using var writer = new StringWriter();
        foreach (var paragraph in paragraphs)
        {
            paragraph.WriteTo(writer);
        }
        Assert.Equal(TwoPackages, writer.ToString());
    }

    [Fact]
    public async Task With_replaces_in_place_appends_and_removes()
    {
        var paragraph = (await Read(TwoPackages))[0];

        Assert.Equal(["Package", "version", "Depends", "Description"], paragraph.With("version", "3.0").Fields.Select(f => f.Key));
        Assert.Equal("3.0", paragraph.With("version", "3.0")["Version"]);
        Assert.Equal("Package: hello\nVersion: 2.10-3\n\n", paragraph.With("Depends", null).With("Description", null).ToString());
        Assert.Equal("yes", paragraph.With("Essential", "yes").Fields[^1].Value);
        Assert.Equal("2.10-3", paragraph["Version"]); // the original is unchanged
        Assert.Equal("Package: x1\nSHA256:\n abc 1 Packages\n\n", new Deb822Paragraph([new("Package", "x1")]).With("SHA256", "\n abc 1 Packages").ToString());

        Assert.Throws<ArgumentException>(() => paragraph.With("Description", "two\nlines without indent"));
        Assert.Throws<ArgumentException>(() => paragraph.With("Description", "blank\n \n continuation"));
        Assert.Throws<ArgumentException>(() => paragraph.With("Bad Name", "x"));
        Assert.Throws<ArgumentException>(() => new Deb822Paragraph([new("Package", "a1"), new("PACKAGE", "b1")]));
    }

    /// <summary>
    /// A real <c>Packages</c> index: <c>.deb</c> files made by <c>dpkg-deb --build</c>, indexed by
    /// <c>apt-ftparchive packages</c>, read back entry by entry and re-written byte for byte.
    /// </summary>
    [Fact]
    public async Task Reads_and_rewrites_a_Packages_index_made_by_apt_ftparchive()
    {
        using var archive = new DebianArchive();
        archive.AddDeb("hello", "1:2.10-3", extraControl:
            "Depends: libc6 (>= 2.34) | libc6.1,\n awk\nPre-Depends: dpkg (>= 1.19)\nProvides: greeter (= 2.10)\nMulti-Arch: foreign\n" +
            "Priority: optional\nDescription: greets\n The GNU hello program.\n .\n It greets.\n");
        archive.AddDeb("libgreet1", "0.1~rc1-1", extraControl: "Multi-Arch: same\nEssential: yes\nPriority: required\n");
        archive.AddDeb("greet-data", "0.1~rc1-1", "all");
        var text = archive.WritePackages();

        var paragraphs = await Read(new FileStream(Path.Combine(archive.Root, "dists/stable/main/binary-amd64/Packages"), FileMode.Open, FileAccess.Read));
        var packages = paragraphs.Select(p => AptPackage.FromParagraph(p, "amd64")).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();

        Assert.Equal(["greet-data", "hello", "libgreet1"], packages.Select(p => p.Name));
        var hello = packages[1];
        Assert.Equal("1:2.10-3", hello.Version.ToString());
        Assert.Equal("foreign", hello.MultiArch);
        Assert.Equal(["libc6 (>= 2.34) | libc6.1", "awk"], hello.Depends.Select(AptRelations.Format));
        Assert.Equal("dpkg (>= 1.19)", hello.PreDepends.Single().Single().ToString());
        Assert.Equal("greeter (= 2.10)", hello.Provides.Single().ToString());
        Assert.Equal("greets\n The GNU hello program.\n .\n It greets.", hello.Stanza["Description"]);
        Assert.True(packages[2].Essential);
        Assert.Equal("required", packages[2].Priority);
        Assert.Equal("all", packages[0].Architecture);
        foreach (var package in packages)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(archive.Root, package.Filename));
            Assert.Equal(bytes.LongLength, package.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), package.Sha256);
        }
        using var writer = new StringWriter();
        foreach (var paragraph in paragraphs)
        {
            paragraph.WriteTo(writer);
        }
        Assert.Equal(text, writer.ToString());
    }

    /// <summary>A stream that serves a prefix, then the same byte for ever, counting what it served.</summary>
    private sealed class EndlessStream(byte[] prefix, byte filler) : Stream
    {
        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (var i = 0; i < count; i++)
            {
                buffer[offset + i] = Served + i < prefix.Length ? prefix[Served + i] : filler;
            }
            Served += count;
            return count;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A stream that serves its content once, then fails as a broken connection would.</summary>
    private sealed class FailingAfterStream(byte[] content) : Stream
    {
        private bool _served;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_served)
            {
                throw new IOException("the upstream connection broke");
            }
            _served = true;
            var n = Math.Min(count, content.Length);
            Array.Copy(content, 0, buffer, offset, n);
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
