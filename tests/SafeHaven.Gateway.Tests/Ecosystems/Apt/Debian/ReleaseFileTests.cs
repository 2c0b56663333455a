using System.Security.Cryptography;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

public sealed class ReleaseFileTests
{
    private const string Hash1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Hash2 = "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210";

    // The shape of a Debian suite's Release (what InRelease signs), shortened.
    private const string Sample =
        "Origin: Debian\n" +
        "Label: Debian\n" +
        "Suite: stable\n" +
        "Version: 12.8\n" +
        "Codename: bookworm\n" +
        "Changelogs: http://deb.upstream.example/changelogs/@CHANGEPATH@_changelog\n" +
        "Date: Sat, 9 Nov 2024 10:46:12 UTC\n" +
        "Valid-Until: Sat, 16 Nov 2024 10:46:12 UTC\n" +
        "Acquire-By-Hash: yes\n" +
        "No-Support-for-Architecture-all: Packages\n" +
        "Architectures: all amd64 arm64\n" +
        "Components: main contrib non-free-firmware\n" +
        "Description: Debian 12.8 Released 09 November 2024\n" +
        "MD5Sum:\n" +
        " 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 contrib/Contents-all\n" +
        "SHA256:\n" +
        " " + Hash1 + "  1484322 main/binary-amd64/Packages.xz\n" +
        " " + Hash2 + "       93 main/binary-amd64/Release\n";

    [Fact]
    public void Reads_the_fields_apt_uses()
    {
        var release = ReleaseFile.Parse(Sample);

        Assert.Equal(("Debian", "Debian", "stable", "bookworm", "12.8"), (release.Origin, release.Label, release.Suite, release.Codename, release.Version));
        Assert.Equal(new DateTimeOffset(2024, 11, 9, 10, 46, 12, TimeSpan.Zero), release.Date);
        Assert.Equal(new DateTimeOffset(2024, 11, 16, 10, 46, 12, TimeSpan.Zero), release.ValidUntil);
        Assert.Equal(["all", "amd64", "arm64"], release.Architectures);
        Assert.Equal(["main", "contrib", "non-free-firmware"], release.Components);
        Assert.True(release.AcquireByHash);
        Assert.Equal(
            [new ReleaseEntry("main/binary-amd64/Packages.xz", 1484322, Hash1), new ReleaseEntry("main/binary-amd64/Release", 93, Hash2.ToLowerInvariant())],
            release.Sha256);
        Assert.Null(release.Find("contrib/Contents-all")); // listed under MD5Sum only: not trusted
        Assert.Equal("Packages", release.Fields["No-Support-for-Architecture-all"]);
    }

    [Theory]
    [InlineData("Sat, 09 Nov 2024 10:46:12 UTC")]
    [InlineData("Sat, 9 Nov 2024 10:46:12 GMT")]
    [InlineData("Sat, 09 Nov 2024 10:46:12 +0000")]
    [InlineData("Sat, 09 Nov 2024 11:46:12 +0100")]
    [InlineData("09 Nov 2024 10:46:12 Z")]
    public void Reads_RFC_2822_dates(string date) =>
        Assert.Equal(new DateTimeOffset(2024, 11, 9, 10, 46, 12, TimeSpan.Zero), ReleaseFile.Parse($"Suite: s\nDate: {date}\n").Date);

    [Theory]
    [InlineData("Suite: s\nDate: 2024-11-09T10:46:12Z\n", "not an RFC 2822 date")]
    [InlineData("Suite: s\nValid-Until: Sat, 09 Nov 2024 10:46:12 CEST\n", "not an RFC 2822 date")]
    [InlineData("Suite: s\nSHA256:\n " + Hash1 + " 12\n", "is not '<sha256> <size> <path>'")]
    [InlineData("Suite: s\nSHA256:\n abc 12 main/Packages\n", "not 64 hexadecimal digits")]
    [InlineData("Suite: s\nSHA256:\n " + Hash1 + " -1 main/Packages\n", "not a non-negative number")]
    [InlineData("Suite: s\nSHA256:\n " + Hash1 + " 1 ../../etc/passwd\n", "'..' segment")]
    [InlineData("Suite: s\nSHA256:\n " + Hash1 + " 1 /etc/passwd\n", "is absolute")]
    [InlineData("Suite: s\nSHA256:\n " + Hash1 + " 1 main/Packages\n " + Hash1 + " 2 main/Packages\n", "twice")]
    [InlineData("Suite: s\nSHA256: " + Hash1 + " 1 main/Packages\n", "first line")]
    [InlineData("Suite: s\n\nSuite: t\n", "exactly one paragraph")]
    [InlineData("", "exactly one paragraph")]
    public void Refuses_what_it_cannot_read_exactly(string text, string reason)
    {
        var error = Assert.Throws<InvalidDataException>(() => ReleaseFile.Parse(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A Release made by <c>apt-ftparchive release</c> over a suite whose Packages it also made.</summary>
    [Fact]
    public void Reads_a_Release_made_by_apt_ftparchive()
    {
        using var archive = new DebianArchive();
        archive.AddDeb("hello", "2.10-3");
        archive.WritePackages();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var release = ReleaseFile.Parse(archive.Release("stable",
            ("Origin", "SafeHaven Tests"), ("Suite", "stable"), ("Codename", "testing-fixture"), ("Architectures", "amd64 all"), ("Components", "main")));

        Assert.Equal(("SafeHaven Tests", "stable", "testing-fixture"), (release.Origin, release.Suite, release.Codename));
        Assert.InRange(release.Date!.Value, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(["amd64", "all"], release.Architectures);
        var packages = File.ReadAllBytes(Path.Combine(archive.Root, "dists/stable/main/binary-amd64/Packages"));
        Assert.Equal(new ReleaseEntry("main/binary-amd64/Packages", packages.LongLength, Convert.ToHexStringLower(SHA256.HashData(packages))),
            release.Find("main/binary-amd64/Packages"));
    }
}
