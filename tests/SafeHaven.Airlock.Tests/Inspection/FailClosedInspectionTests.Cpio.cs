using System.Diagnostics;
using System.Text;
using SafeHaven.Airlock.Inspection;
using static SafeHaven.Airlock.Tests.Inspection.HostileArchives;

namespace SafeHaven.Airlock.Tests.Inspection;

/// <summary>
/// cpio, listed by the inspector's own reader (<c>CpioLister</c>). The archives are made by GNU cpio (Debian
/// <c>cpio</c>) in each format it writes: newc and crc (rpm payloads, initramfs), odc and the old binary format. Device
/// nodes need root to create, so that one case is a newc header written here by the format's definition.
/// </summary>
public sealed partial class FailClosedInspectionTests
{
    public static TheoryData<string> CpioFormats => new() { "newc", "crc", "odc", "bin" };

    [Theory]
    [MemberData(nameof(CpioFormats))]
    public async Task Cpio_holding_a_symlink_to_etc_is_blocked_in_every_format(string format)
    {
        var tree = Tree(dir =>
        {
            System.IO.File.WriteAllText(Path.Combine(dir, "readme.txt"), "hello\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "etc"), "/etc");
        });

        var result = await InspectFileAsync("evil.cpio", CpioOf(tree, format, "readme.txt", "etc"));

        Assert.Equal(InspectionVerdict.Blocked, result.Verdict);
        Assert.Equal("cpio", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "evil.cpio!/etc"), (finding.Kind, finding.Path));
        Assert.Contains("absolute path '/etc'", finding.Reason, StringComparison.Ordinal);
        Assert.Contains("evil.cpio!/readme.txt", result.Entries.Select(e => e.Path));
    }

    [Theory]
    [MemberData(nameof(CpioFormats))]
    public async Task Harmless_cpio_is_listed_and_clean_in_every_format_and_its_files_inspected(string format)
    {
        var tree = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "src"));
            System.IO.File.WriteAllText(Path.Combine(dir, "src", "run.py"), "print(1)\n");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "latest.py"), "src/run.py");
            System.IO.File.WriteAllBytes(Path.Combine(dir, "src", "data.tar.gz"), Gzip(Tar(File("table.csv", Text("a,b\n1,2\n")))));
            System.IO.File.WriteAllText(Path.Combine(dir, "odd"), "x"); // a 1-byte file: every padding rule is exercised
        });

        var result = await InspectFileAsync("good.cpio", CpioOf(tree, format, ".", "src", "src/run.py", "odd", "latest.py", "src/data.tar.gz"));

        AssertClean(result);
        Assert.Equal(
            ["good.cpio!/.", "good.cpio!/src", "good.cpio!/src/run.py", "good.cpio!/odd", "good.cpio!/latest.py", "good.cpio!/src/data.tar.gz", "good.cpio!/src/data.tar.gz!/data.tar!/table.csv"],
            result.Entries.Select(e => e.Path));
        Assert.Equal("src/run.py", Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.SymbolicLink).LinkTarget);
        Assert.Equal(9, Assert.Single(result.Entries, e => e.Path == "good.cpio!/src/run.py").Size);
    }

    [Fact]
    public async Task Chained_symlinks_each_lexically_inside_are_blocked_in_a_cpio()
    {
        var tree = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "dir"));
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "dir", "up"), "..");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "dir", "out"), "up/..");
            System.IO.File.CreateSymbolicLink(Path.Combine(dir, "passwd"), "dir/out/etc/passwd");
        });

        var result = await InspectFileAsync("chain.cpio", CpioOf(tree, "newc", "dir", "dir/up", "dir/out", "passwd"));

        AssertChainBlocked(result, "chain.cpio");
    }

    [Fact]
    public async Task Hard_links_are_replayed_as_links_to_the_first_name_of_the_inode()
    {
        // GNU cpio's newc stores a hard-linked file's data only with its last name; the other names are empty headers.
        var tree = Tree(dir =>
        {
            System.IO.File.WriteAllText(Path.Combine(dir, "a.txt"), "shared\n");
            Run(dir, "ln", ["a.txt", "b.txt"]);
        });

        var result = await InspectFileAsync("links.cpio", CpioOf(tree, "newc", "a.txt", "b.txt"));

        AssertClean(result);
        var link = Assert.Single(result.Entries, e => e.Kind == ArchiveEntryKind.HardLink);
        Assert.Equal(("links.cpio!/b.txt", "a.txt", 7L), (link.Path, link.LinkTarget, link.Size));
    }

    [Fact]
    public async Task A_file_written_through_an_earlier_symlink_is_blocked()
    {
        // Two runs of GNU cpio: the second appends (-A) a directory's file under the name the first archived as a link.
        var first = Tree(dir => System.IO.File.CreateSymbolicLink(Path.Combine(dir, "d"), "/etc"));
        var second = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "d"));
            System.IO.File.WriteAllText(Path.Combine(dir, "d", "cron.hourly"), "* * * * * root sh -c 'id'\n");
        });
        var archive = CpioOf(first, "newc", "d");
        RunWithInput(second, "cpio", ["--quiet", "-o", "-A", "-H", "newc", "-F", archive], "d/cron.hourly\n");

        var result = await InspectFileAsync("through.cpio", archive);

        Assert.Equal(
            [("through.cpio!/d", FindingKind.LinkEscape), ("through.cpio!/d/cron.hourly", FindingKind.LinkEscape)],
            result.Findings.Select(f => (f.Path, f.Kind)));
        Assert.Contains("written through the link 'd'", result.Findings[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_that_climb_out_or_are_absolute_are_blocked()
    {
        // GNU cpio archives the names it is given as they are: '../' and absolute ones included.
        var tree = Tree(dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "inner"));
            System.IO.File.WriteAllText(Path.Combine(dir, "outside.txt"), "o\n");
        });
        var archive = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + ".cpio");
        var absolute = Path.Combine(tree, "outside.txt");
        RunWithInput(Path.Combine(tree, "inner"), "cpio", ["--quiet", "-o", "-H", "newc", "-F", archive], $"../outside.txt\n{absolute}\n");

        var result = await InspectFileAsync("names.cpio", archive);

        Assert.Equal(
            [("names.cpio!/../outside.txt", FindingKind.PathTraversal), ($"names.cpio!/{absolute}", FindingKind.AbsolutePath)],
            result.Findings.Select(f => (f.Path, f.Kind)));
    }

    [Fact]
    public async Task Device_and_FIFO_entries_are_blocked()
    {
        var fifo = Tree(dir => Run(dir, "mkfifo", ["pipe"]));
        var archive = System.IO.File.ReadAllBytes(CpioOf(fifo, "newc", "pipe"));
        // A character device 'dev/mem' (1, 1), written by the newc definition (creating one needs root), in front.
        var device = NewcEntry("dev/mem", mode: 0x2000 | 0x1A4, data: [], rdevMajor: 1, rdevMinor: 1);

        var result = await InspectFileAsync("nodes.cpio", Write("nodes.cpio", [.. device, .. archive]));

        Assert.Equal(
            [("nodes.cpio!/dev/mem", FindingKind.SpecialFile), ("nodes.cpio!/pipe", FindingKind.SpecialFile)],
            result.Findings.Select(f => (f.Path, f.Kind)));
        Assert.Contains("character device", result.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Contains("FIFO", result.Findings[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpio_named_harmlessly_and_compressed_as_an_initramfs_is_listed_by_its_bytes()
    {
        var tree = Tree(dir => System.IO.File.CreateSymbolicLink(Path.Combine(dir, "pw"), "/etc/passwd"));
        var initramfs = Compress(CpioOf(tree, "newc", "pw"), ["gzip", "-n", "-c"], "initrd.img");

        var result = await InspectFileAsync("notes.txt", initramfs);

        Assert.Equal("gzip", result.Format);
        var finding = Assert.Single(result.Findings);
        Assert.Equal((FindingKind.LinkEscape, "notes.txt!/(compressed content)!/pw"), (finding.Kind, finding.Path));
    }

    [Fact]
    public async Task Concatenated_archives_are_all_listed_and_anything_else_after_a_trailer_is_blocked()
    {
        // The kernel unpacks every cpio archive of an initramfs into one root; the second one here escapes.
        var one = CpioOf(Tree(dir => System.IO.File.WriteAllText(Path.Combine(dir, "a"), "a\n")), "newc", "a");
        var two = CpioOf(Tree(dir => System.IO.File.CreateSymbolicLink(Path.Combine(dir, "b"), "../../etc")), "newc", "b");
        var both = Write("both.cpio", [.. System.IO.File.ReadAllBytes(one), .. System.IO.File.ReadAllBytes(two)]);
        var trailing = Write("tail.cpio", [.. System.IO.File.ReadAllBytes(one), .. Gzip(Text("hidden"))]);

        var listed = await InspectFileAsync("both.cpio", both);
        var blocked = await InspectFileAsync("tail.cpio", trailing);

        Assert.Equal(["both.cpio!/a", "both.cpio!/b"], listed.Entries.Select(e => e.Path));
        Assert.Equal(("both.cpio!/b", FindingKind.LinkEscape), Assert.Single(listed.Findings.Select(f => (f.Path, f.Kind))));
        var finding = Assert.Single(blocked.Findings);
        Assert.Equal((FindingKind.Uninspectable, "tail.cpio"), (finding.Kind, finding.Path));
        Assert.Contains("after its cpio trailer", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_or_oversized_cpio_headers_are_blocked_as_malformed()
    {
        var whole = System.IO.File.ReadAllBytes(CpioOf(Tree(dir => System.IO.File.WriteAllText(Path.Combine(dir, "a"), new string('a', 1000))), "newc", "a"));
        var hugeName = NewcEntry(new string('n', 5000), mode: 0x8000 | 0x1A4, data: []);

        var truncated = await InspectFileAsync("cut.cpio", Write("cut.cpio", whole[..300]));
        var named = await InspectFileAsync("long.cpio", Write("long.cpio", hugeName));

        Assert.Equal(FindingKind.Malformed, Assert.Single(truncated.Findings).Kind);
        Assert.Contains("truncated", truncated.Findings[0].Reason, StringComparison.Ordinal);
        Assert.Equal(FindingKind.Malformed, Assert.Single(named.Findings).Kind);
        Assert.Contains("1 to 4096 allowed", named.Findings[0].Reason, StringComparison.Ordinal);
    }

    /// <summary>The members, in this order, archived by GNU cpio in the given format (names read from standard input).</summary>
    private string CpioOf(string dir, string format, params string[] members)
    {
        var file = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N") + ".cpio");
        RunWithInput(dir, "cpio", ["--quiet", "-o", "-H", format, "-F", file], string.Concat(members.Select(m => m + "\n")));
        return file;
    }

    /// <summary>One newc entry (header, name, data, padding) as the format defines it; no trailer.</summary>
    private static byte[] NewcEntry(string name, int mode, byte[] data, int rdevMajor = 0, int rdevMinor = 0)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        int[] fields = [1, mode, 0, 0, 1, 0, data.Length, 0, 0, rdevMajor, rdevMinor, nameBytes.Length, 0];
        var entry = new List<byte>(Encoding.ASCII.GetBytes("070701" + string.Concat(fields.Select(v => v.ToString("X8", System.Globalization.CultureInfo.InvariantCulture)))));
        entry.AddRange(nameBytes);
        while (entry.Count % 4 != 0)
        {
            entry.Add(0);
        }
        entry.AddRange(data);
        while (entry.Count % 4 != 0)
        {
            entry.Add(0);
        }
        return [.. entry];
    }

    private static void RunWithInput(string directory, string program, string[] args, string input)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardInput = true, RedirectStandardOutput = true, WorkingDirectory = directory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)}: {stderr.Result}{stdout.Result}");
    }
}
