using SafeHaven.Core.Packages;
using SafeHaven.Gateway.Ecosystems.Apt.Debian;

namespace SafeHaven.Gateway.Tests.Ecosystems.Apt.Debian;

public sealed class AptRelationsTests
{
    private static List<string> Groups(string field, string architecture = "amd64") =>
        AptRelations.Parse(field, architecture).Select(AptRelations.Format).ToList();

    [Fact]
    public void Reads_alternatives_qualifiers_versions_restrictions_and_profiles()
    {
        var groups = AptRelations.Parse("a (>= 1) | b:any, c [amd64] <!nocheck>", "amd64");

        Assert.Equal(2, groups.Count);
        Assert.Equal(new AptRelation("a", null, RelationOperator.LaterOrEqual, DebianVersion.Parse("1")), groups[0][0]);
        Assert.Equal(new AptRelation("b", "any", null, null), groups[0][1]);
        Assert.Equal(new AptRelation("c", null, null, null), groups[1].Single());
    }

    [Theory]
    [InlineData("a(>=1.0)|b(<<2),c(=1:2-3)", "a (>= 1.0) | b (<< 2)/c (= 1:2-3)")]
    [InlineData("a ( >= 1.0 ) | b", "a (>= 1.0) | b")]
    [InlineData("libc6 (>= 2.34),\n libfoo1 (>> 0.1~),\n\tlibbar:native", "libc6 (>= 2.34)/libfoo1 (>> 0.1~)/libbar:native")]
    [InlineData("  perl:any  ,python3:i386 ", "perl:any/python3:i386")]
    [InlineData("a (<= 1), b (<< 1), c (>> 1)", "a (<= 1)/b (<< 1)/c (>> 1)")]
    [InlineData("a (< 1), b (> 1)", "a (<= 1)/b (>= 1)")] // obsolete operators, read as dpkg reads them
    [InlineData("", "")]
    [InlineData("  \n ", "")]
    public void Reads_relations_with_and_without_white_space(string field, string expected) =>
        Assert.Equal(expected, string.Join('/', Groups(field)));

    [Theory]
    [InlineData("c [amd64]", "amd64", "c")]
    [InlineData("c [i386 amd64]", "amd64", "c")]
    [InlineData("c [i386]", "amd64", "")]
    [InlineData("c [!amd64]", "amd64", "")]
    [InlineData("c [!i386 !armhf]", "amd64", "c")]
    [InlineData("c [linux-any]", "amd64", "c")]
    [InlineData("c [hurd-any]", "amd64", "")]
    [InlineData("c [hurd-any]", "hurd-i386", "c")]
    [InlineData("c [any-amd64]", "amd64", "c")]
    [InlineData("c [any-i386]", "amd64", "")]
    [InlineData("c [any]", "arm64", "c")]
    [InlineData("a [i386] | b, c", "amd64", "b/c")] // a dropped alternative leaves the rest of its group
    [InlineData("a [i386] | b [i386], c", "amd64", "c")] // a group left empty is dropped
    public void Evaluates_architecture_restrictions(string field, string architecture, string expected) =>
        Assert.Equal(expected, string.Join('/', Groups(field, architecture)));

    // No build profile is active when binary packages are installed: "p" is false, "!p" true; terms in one <...> are
    // ANDed, the <...> lists ORed.
    [Theory]
    [InlineData("c <!nocheck>", "c")]
    [InlineData("c <stage1>", "")]
    [InlineData("c <stage1> <!nocheck>", "c")]
    [InlineData("c <!nocheck stage1>", "")]
    [InlineData("c <!nocheck !nodoc>", "c")]
    [InlineData("c (>= 1) [amd64] <!cross>", "c (>= 1)")]
    public void Evaluates_build_profile_formulas(string field, string expected) =>
        Assert.Equal(expected, string.Join('/', Groups(field)));

    [Theory]
    [InlineData("a,,b", "expected a package name")]
    [InlineData("a,", "expected a package name")]
    [InlineData("a |", "expected a package name")]
    [InlineData("| a", "expected a package name")]
    [InlineData("a b", "expected ',' or '|'")]
    [InlineData("a (>= )", "is not a version")]
    [InlineData("a (>= 1.0", "not closed by ')'")]
    [InlineData("a (=> 1)", "not a relation operator")]
    [InlineData("a (1.0)", "not a relation operator")]
    [InlineData("a (>= 1 0)", "not closed by ')'")]
    [InlineData("Apt", "is not a package name")]
    [InlineData("-ab", "is not a package name")]
    [InlineData("ab\u00e9", "is not a package name")]
    [InlineData("a_b", "is not a package name")]
    [InlineData("ab:", "no architecture qualifier")]
    [InlineData("ab [amd64 !i386]", "mixes negated and plain")]
    [InlineData("ab []", "is empty")]
    [InlineData("ab [amd64", "expected an architecture or ']'")]
    [InlineData("ab <>", "is empty")]
    [InlineData("ab <nocheck", "expected a build profile or '>'")]
    [InlineData("ab (>= 1) (>= 2)", "expected ',' or '|'")]
    public void Refuses_malformed_fields(string field, string reason)
    {
        var error = Assert.Throws<FormatException>(() => AptRelations.Parse(field, "amd64"));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<<", "1.0", "0.9", true)]
    [InlineData("<<", "1.0", "1.0", false)]
    [InlineData("<=", "1.0", "1.0-0", true)]
    [InlineData("<=", "1.0", "1.0+b1", false)]
    [InlineData("=", "1:1.0", "1:1.00", true)]
    [InlineData("=", "1.0", "1:1.0", false)]
    [InlineData(">=", "1.0~rc1", "1.0~rc1", true)]
    [InlineData(">=", "1.0", "1.0~rc1", false)]
    [InlineData(">>", "1.0", "1.0-1", true)]
    [InlineData(">>", "1.0", "1.0", false)]
    public void Matches_versions_by_operator(string op, string bound, string candidate, bool expected)
    {
        var relation = AptRelations.Parse($"ab ({op} {bound})", "amd64").Single().Single();
        Assert.Equal(expected, relation.VersionMatches(DebianVersion.Parse(candidate)));
    }

    [Fact]
    public void An_unversioned_relation_matches_any_version() =>
        Assert.True(new AptRelation("ab", null, null, null).VersionMatches(DebianVersion.Parse("0~")));

    [Fact]
    public void Reads_Provides_versioned_with_equals_only()
    {
        var provides = AptRelations.ParseProvides("mail-transport-agent, libfoo-abi (= 2), awk", "amd64");
        Assert.Equal(["mail-transport-agent", "libfoo-abi (= 2)", "awk"], provides.Select(p => p.ToString()));

        Assert.Contains("must use '='", Assert.Throws<FormatException>(() => AptRelations.ParseProvides("ab (>= 2)", "amd64")).Message, StringComparison.Ordinal);
        Assert.Contains("alternatives", Assert.Throws<FormatException>(() => AptRelations.ParseProvides("ab | cd", "amd64")).Message, StringComparison.Ordinal);
        Assert.Contains("qualifier", Assert.Throws<FormatException>(() => AptRelations.ParseProvides("ab:any", "amd64")).Message, StringComparison.Ordinal);
    }
}
