using System.Formats.Tar;
using SafeHaven.Airlock.Inspection;
using static SafeHaven.Airlock.Tests.Inspection.HostileArchives;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>
/// rar, read through SharpCompress. No free tool writes rar, so the archives are rar 5 written here from the format's
/// definition (<see cref="Rar5Archive"/>, stored members, real CRCs). A Unix symlink appears two ways: as rar 5 writes
/// it (a file-system redirection record naming the target, no data) and as rar 4 did (mode S_IFLNK, the target as data).
/// </summary>
public sealed partial class FailClosedInspectionTests
{
    private const uint RegularFile = 0x81A4; // 0100644
    private const uint SymbolicLink = 0xA1FF; // 0120777

    [Fact]
    public void The_rar_writer_computes_the_standard_CRC32()
    {
        Assert.Equal(0xCBF43926u, Rar5Archive.Crc32("123456789"u8)); // the CRC-32 check value
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rar_holding_a_symlink_to_etc_is_blocked(bool asRedirection)
    {
        var link = asRedirection
            ? new Rar5Member("etc", [], SymbolicLink, new Rar5Redirection(1, "/etc"))
            : new Rar5Member("etc", Text("/etc"), SymbolicLink);
        var rar = Rar5Archive.Write(new Rar5Member("readme.txt", Text("hello\n"), RegularFile), link);

        var result = await InspectFileAsync("evil.rar", Write("evil.rar", rar));

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal("rar", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "evil.rar!/etc"), (finding.Kind, finding.Path));
        Assert.Contains("absolute path '/etc'", finding.Reason, StringComparison.Ordinal);
        Assert.Equal("/etc", Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.SymbolicLink).LinkTarget);
        Assert.Contains("evil.rar!/readme.txt", result.Entries.Select(e => e.Path));
    }

    [Fact]
    public async Task Harmless_rar_is_listed_and_clean_and_its_members_inspected()
    {
        var rar = Rar5Archive.Write(
            new Rar5Member("docs/readme.txt", Text("read me\n"), RegularFile),
            new Rar5Member("docs/latest.txt", [], SymbolicLink, new Rar5Redirection(1, "readme.txt")),
            new Rar5Member("bin/up.txt", [], SymbolicLink, new Rar5Redirection(1, "../docs/readme.txt")),
            new Rar5Member("data/table.tar.gz", Gzip(Tar(File("table.csv", Text("a,b\n1,2\n")))), RegularFile));

        var result = await InspectFileAsync("good.rar", Write("good.rar", rar));

        AssertClean(result);
        Assert.Equal(
            ["good.rar!/docs/readme.txt", "good.rar!/docs/latest.txt", "good.rar!/bin/up.txt", "good.rar!/data/table.tar.gz", "good.rar!/data/table.tar.gz!/table.tar!/table.csv"],
            result.Entries.Select(e => e.Path));
    }

    [Fact]
    public async Task Rar_chained_symlinks_and_a_tar_inside_with_an_escaping_link_are_blocked()
    {
        var chain = Rar5Archive.Write(
            new Rar5Member("dir/up", [], SymbolicLink, new Rar5Redirection(1, "..")),
            new Rar5Member("dir/out", [], SymbolicLink, new Rar5Redirection(1, "up/..")),
            new Rar5Member("passwd", [], SymbolicLink, new Rar5Redirection(1, "dir/out/etc/passwd")));
        var nested = Rar5Archive.Write(new Rar5Member("inner.tar", Tar(Link(TarEntryType.SymbolicLink, "pw", "../../etc/passwd")), RegularFile));

        AssertChainBlocked(await InspectFileAsync("chain.rar", Write("chain.rar", chain)), "chain.rar");
        var inner = Assert.Single((await InspectFileAsync("nested.rar", Write("nested.rar", nested))).Findings);
        Assert.Equal((FindingKind.LinkEscape, "nested.rar!/inner.tar!/pw"), (inner.Kind, inner.Path));
    }

    [Fact]
    public async Task A_rar_hard_link_is_judged_from_the_archive_root()
    {
        // 'a/b/c' -> '../x' would stay inside as a symbolic link (a/x) but a hard link's target is taken from the root.
        var rar = Rar5Archive.Write(
            new Rar5Member("a/b/x", Text("x"), RegularFile),
            new Rar5Member("a/b/c", [], RegularFile, new Rar5Redirection(4, "../x")),
            new Rar5Member("a/b/d", [], RegularFile, new Rar5Redirection(4, "a/b/x")));

        var result = await InspectFileAsync("hard.rar", Write("hard.rar", rar));

        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "hard.rar!/a/b/c"), (finding.Kind, finding.Path));
        Assert.Contains("hard link 'a/b/c'", finding.Reason, StringComparison.Ordinal);
        Assert.Equal(2, result.Entries.Count(e => e.Kind == ArchiveEntryKind.HardLink));
    }

    [Fact]
    public async Task A_rar_named_harmlessly_is_listed_by_its_bytes_and_a_corrupt_one_is_blocked()
    {
        var rar = Rar5Archive.Write(new Rar5Member("pw", [], SymbolicLink, new Rar5Redirection(1, "/etc/passwd")));
        var corrupt = rar[..(rar.Length - 12)]; // cut inside the member headers: no end of archive

        var listed = await InspectFileAsync("notes.txt", Write("notes.txt", rar));
        var cut = await InspectFileAsync("cut.rar", Write("cut.rar", corrupt));

        Assert.Equal((FindingKind.LinkEscape, "notes.txt!/pw"), Assert.Single(listed.Findings.Select(f => (f.Kind, f.Path))));
        Assert.Equal(InspectionVerdict.Blocked, cut.Verdict);
        var malformed = Assert.Single(cut.Findings);
        Assert.Equal((FindingKind.Malformed, "cut.rar"), (malformed.Kind, malformed.Path));
        Assert.Contains("could not be read as rar", malformed.Reason, StringComparison.Ordinal);
    }
}
