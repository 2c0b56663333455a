using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

public sealed class AptPackageTests
{
    private const string Sha = "6dca5ee29cabed4f421c2913ac94c50973a548d17f08108ebb5841c40cd260c6";

    private static readonly string Entry =
        "Package: hello\n" +
        "Architecture: amd64\n" +
        "Version: 1:2.10-3\n" +
        "Multi-Arch: foreign\n" +
        "Priority: optional\n" +
        "Pre-Depends: dpkg (>= 1.19)\n" +
        "Depends: libc6 (>= 2.34) | libc6.1, awk [!i386]\n" +
        "Provides: greeter (= 2.10)\n" +
        "Filename: pool/main/h/hello/hello_2.10-3_amd64.deb\n" +
        "Size: 768\n" +
        "SHA256: " + Sha.ToUpperInvariant() + "\n" +
        "Description: greets\n";

    private static AptPackage Read(string text, string architecture = "amd64") =>
        AptPackage.FromParagraph(Deb822Reader.Parse(text).Single(), architecture);

    [Fact]
    public void Reads_an_entry()
    {
        var package = Read(Entry);

        Assert.Equal(("hello", "1:2.10-3", "amd64", "foreign"), (package.Name, package.Version.ToString(), package.Architecture, package.MultiArch));
        Assert.Equal(["libc6 (>= 2.34) | libc6.1", "awk"], package.Depends.Select(AptRelations.Format));
        Assert.Equal(["dpkg (>= 1.19)"], package.PreDepends.Select(AptRelations.Format));
        Assert.Equal("greeter (= 2.10)", package.Provides.Single().ToString());
        Assert.Equal(("optional", false), (package.Priority, package.Essential));
        Assert.Equal(("pool/main/h/hello/hello_2.10-3_amd64.deb", 768L, Sha), (package.Filename, package.Size, package.Sha256));
        Assert.Equal("greets", package.Stanza["Description"]);
    }

    [Fact]
    public void Evaluates_architecture_restrictions_for_the_index_architecture() =>
        Assert.Equal(["libc6 (>= 2.34) | libc6.1"], Read(Entry, "i386").Depends.Select(AptRelations.Format));

    [Fact]
    public void Defaults_what_an_entry_may_leave_out()
    {
        var package = Read("Package: tiny\nVersion: 1\nArchitecture: all\nFilename: pool/t/tiny.deb\nSize: 0\nSHA256: " + Sha + "\n");
        Assert.Equal(("no", false, ""), (package.MultiArch, package.Essential, package.Priority));
        Assert.Empty(package.Depends);
        Assert.Empty(package.PreDepends);
        Assert.Empty(package.Provides);
    }

    [Theory]
    [InlineData("Package", null, "no Package field")]
    [InlineData("Version", null, "no Version field")]
    [InlineData("Architecture", null, "no Architecture field")]
    [InlineData("Filename", null, "no Filename field")]
    [InlineData("Size", null, "no Size field")]
    [InlineData("SHA256", null, "no SHA256 field")]
    [InlineData("Package", "Hello", "not a Debian package name")]
    [InlineData("Version", "two", "not a Debian version")]
    [InlineData("Architecture", "amd64 i386", "not one architecture name")]
    [InlineData("Filename", "../../secret.deb", "'..' segment")]
    [InlineData("Filename", "/etc/shadow", "is absolute")]
    [InlineData("Size", "-5", "not a non-negative number")]
    [InlineData("Size", "12kB", "not a non-negative number")]
    [InlineData("SHA256", "abc", "not 64 hexadecimal digits")]
    [InlineData("Multi-Arch", "maybe", "not one of no, same, foreign, allowed")]
    [InlineData("Essential", "true", "neither yes nor no")]
    [InlineData("Depends", "libc6 (>= )", "is not a version")]
    [InlineData("Pre-Depends", "dpkg,,", "expected a package name")]
    [InlineData("Provides", "greeter (>= 2)", "must use '='")]
    public void Refuses_an_entry_it_cannot_read_exactly(string field, string? value, string reason)
    {
        var paragraph = Deb822Reader.Parse(Entry).Single().With(field, value);
        var error = Assert.Throws<InvalidDataException>(() => AptPackage.FromParagraph(paragraph, "amd64"));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
