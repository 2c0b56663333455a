using SafeHaven.Gateway.Ecosystems.Apt.Closure;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;
using static SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure.AptClosureSourceTests;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Closure;

public sealed class AptUniverseTests
{
    private static AptRelation Relation(string text) => AptRelations.Parse(text, "amd64").Single().Single();

    private static readonly AptUniverse Universe = new(
        [
            Pkg("libz", "1.2"),
            Pkg("libz", "1:0.9"),
            Pkg("libz", "1.10"),
            Pkg("libz", "1.10"), // listed by a second suite: counted once
            PkgArch("libz", "9.9", "i386"), // another architecture: left out
            PkgArch("tzdata", "2024a", "all"),
            Pkg("mawk", "1.3.4", "Provides: awk"),
            Pkg("gawk", "5.2", "Provides: awk, libfoo-abi (= 2)"),
            Pkg("awk", "0.1"),
        ],
        "amd64");

    [Fact]
    public void Lists_versions_newest_first_once_each_for_the_native_architecture_and_all()
    {
        Assert.Equal(["1:0.9", "1.10", "1.2"], Universe.Candidates("libz").Select(p => p.Version.ToString()));
        Assert.Equal("1:0.9", Universe.Candidate("libz")!.Version.ToString());
        Assert.Equal("all", Universe.Candidate("tzdata")!.Architecture);
        Assert.Empty(Universe.Candidates("nothere"));
        Assert.Null(Universe.Candidate("nothere"));
        Assert.Equal("1.10", Universe.Find("libz", "1.010")!.Version.ToString());
        Assert.Null(Universe.Find("libz", "9.9"));
        Assert.Equal(["awk", "gawk", "libz", "mawk", "tzdata"], Universe.Names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Providers_are_the_virtual_ones_only_and_Satisfiers_put_the_real_package_first()
    {
        Assert.Equal(["gawk", "mawk"], Universe.Providers(Relation("awk")).Select(p => p.Name));
        Assert.Equal(["awk", "gawk", "mawk"], Universe.Satisfiers(Relation("awk")).Select(p => p.Name));
        Assert.Empty(Universe.Satisfiers(Relation("awk (>= 1)"))); // the real one is too old, the Provides are unversioned
        Assert.Equal(["gawk"], Universe.Satisfiers(Relation("libfoo-abi (<< 3)")).Select(p => p.Name));
        Assert.Equal(["awk", "mawk", "gawk"], Universe.Satisfiers(Relation("awk"), new HashSet<string> { "mawk" }, out _).Select(p => p.Name));
    }

    [Fact]
    public void Says_whether_a_group_of_alternatives_can_be_met()
    {
        Assert.True(Universe.CanSatisfy(AptRelations.Parse("nothere | libz (>= 1:0)", "amd64").Single()));
        Assert.False(Universe.CanSatisfy(AptRelations.Parse("nothere | libz (>= 2:0)", "amd64").Single()));
        Assert.False(Universe.CanSatisfy(AptRelations.Parse("libz:any", "amd64").Single()));
    }
}
