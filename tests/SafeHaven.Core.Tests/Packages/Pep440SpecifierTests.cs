using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

public sealed class Pep440SpecifierTests
{
    // Columns of the match matrix below.
    private static readonly string[] Candidates =
    [
        "0.9", "0.9a1", "1.0.dev1", "1.0a1", "1.0rc1", "1.0", "1.0.0", "1.0+local", "1.0.post1", "1.0.post1+l", "1.0.post2",
        "1.0.1", "1.1", "1.4.5", "1.4.6", "1.5", "1!1.0", "2.0", "2.2.post3", "2.3", "1.0a2", "1.0a1.post1",
    ];

    // One row per specifier: T/F per candidate column, produced by
    // `packaging.specifiers.Specifier(spec).contains(candidate, prereleases=True)` (pip's vendored packaging 21.3).
    // IsSatisfiedBy is the raw PEP 440 match; pre-release exclusion is SpecifierSet.Filter's job.
    //
    //                                            0.9 a1  dev1 a1 rc1 1.0 1.0.0 +loc p1 p1+l p2 1.0.1 1.1 1.4.5 1.4.6 1.5 1!1.0 2.0 2.2p3 2.3 1.0a2 1.0a1p1
    private static readonly (string Spec, string Row)[] Matrix =
    [
        ("<1.0",          "TTFFFFFFFFFFFFFFFFFFFF"), // < excludes pre-releases of 1.0 itself
        ("<1.0rc1",       "TTTTFFFFFFFFFFFFFFFFTT"), // ...unless the bound is itself a pre-release
        ("<=1.0",         "TTTTTTTTFFFFFFFFFFFFTT"),
        (">1.0",          "FFFFFFFFFFFTTTTTTTTTFF"), // > excludes post-releases and local versions of 1.0
        (">1.0.post1",    "FFFFFFFFFFTTTTTTTTTTFF"), // ...but a later post-release of a post-release bound is fine
        (">=1.0",         "FFFFFTTTTTTTTTTTTTTTFF"),
        ("==1.0",         "FFFFFTTTFFFFFFFFFFFFFF"), // local label of the candidate ignored, zero padding
        ("==1.0+local",   "FFFFFFFTFFFFFFFFFFFFFF"),
        ("!=1.0",         "TTTTTFFFTTTTTTTTTTTTTT"),
        ("==1.*",         "FFTTTTTTTTTTTTTTFFFFTT"),
        ("==1.0.*",       "FFTTTTTTTTTTFFFFFFFFTT"),
        ("!=1.*",         "TTFFFFFFFFFFFFFFTTTTFF"),
        ("~=1.0",         "FFFFFTTTTTTTTTTTFFFFFF"),
        ("~=1.4.5",       "FFFFFFFFFFFFFTTFFFFFFF"),
        ("~=1.4.5a4",     "FFFFFFFFFFFFFTTFFFFFFF"),
        ("~=2.2.post3",   "FFFFFFFFFFFFFFFFFFTTFF"),
        ("===1.0",        "FFFFFTFFFFFFFFFFFFFFFF"),
        ("==1!1.*",       "FFFFFFFFFFFFFFFFTFFFFF"),
        (">1.0a1",        "FFFFTTTFFFFTTTTTTTTTTF"), // packaging compares base versions: 1.0.post1 and 1.0+local are excluded
        ("<1!0.5",        "TTTTTTTTTTTTTTTTFTTTTT"),
        (">=1.0.dev0",    "FFTTTTTTTTTTTTTTTTTTTT"),
    ];

    public static TheoryData<string, string, bool> MatrixCells()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (spec, row) in Matrix)
        {
            Assert.Equal(Candidates.Length, row.Length);
            for (var i = 0; i < Candidates.Length; i++)
            {
                data.Add(spec, Candidates[i], row[i] == 'T');
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MatrixCells))]
    public void IsSatisfiedByMatchesPackaging(string spec, string candidate, bool expected)
    {
        Assert.Equal(expected, Pep440Specifier.Parse(spec).IsSatisfiedBy(Pep440Version.Parse(candidate)));
    }

    [Theory]
    // Examples from PEP 440's text.
    [InlineData("~=2.2", "2.3", true)]
    [InlineData("~=2.2", "3.0", false)]
    [InlineData("~=1.4.5", "1.4.5", true)]
    [InlineData("~=1.4.5", "1.5.0", false)]
    [InlineData("~=2.2.0", "2.2.9", true)]
    [InlineData("~=2.2.0", "2.3", false)]
    [InlineData("~=1.4.5a4", "1.4.5a4", true)]
    [InlineData("~=1.4.5a4", "1.4.5a3", false)]
    [InlineData("~=1!2.0", "1!2.5", true)]
    [InlineData("~=1!2.0", "2.5", false)]
    [InlineData("==1.1.*", "1.1.post1", true)]
    [InlineData("==1.1.*", "1.1a1", true)]
    [InlineData("==1.1", "1.1a1", false)]
    [InlineData("==1.1a1", "1.1a1", true)]
    [InlineData("==1.1.post1", "1.1.post1", true)]
    [InlineData("==1.1", "1.1.post1", false)]
    [InlineData("==1.0.*", "1", true)] // zero padding of the candidate
    [InlineData("==1.0.0.*", "1.0", true)]
    [InlineData("==1.1.*", "1.10", false)]
    [InlineData("==1.*", "1.0+local", true)]
    [InlineData("==1.0+local", "1.0+other", false)]
    [InlineData("==1.0+local", "1.0.0+local", true)]
    [InlineData("!=1.0+local", "1.0", true)]
    [InlineData("==1.0", "1.0.0+abc", true)]
    [InlineData("==v1.0", "1.0", true)]
    [InlineData(">=1.0", "1.0+local", true)]
    [InlineData("<=1.0", "1.0+local", true)]
    [InlineData("<1.0", "1.0+local", false)]
    [InlineData("<1.0", "0.9+local", true)]
    [InlineData("<1.0.post1", "1.0.post1.dev1", false)] // a dev release of 1.0.post1 is a pre-release of it
    [InlineData("<1.0.post1", "1.0.post0", true)]
    [InlineData(">1.0", "1.0.post1.dev1", false)]
    [InlineData(">1.0", "1.0.1.dev1", true)]
    [InlineData(">1.0.dev1", "1.0.dev2", true)]
    [InlineData("<2.0", "2.0.dev1", false)]
    [InlineData("<2.0", "1.9.9a1", true)]
    [InlineData("<2!1.0", "1!99.0", true)]
    [InlineData("===1.0", "1.0.0", false)]
    [InlineData("===1.0+LOCAL", "1.0+local", true)]
    [InlineData("===1.0rc1", "1.0rc1", true)]
    public void PepExamples(string spec, string candidate, bool expected)
    {
        Assert.Equal(expected, Pep440Specifier.Parse(spec).IsSatisfiedBy(Pep440Version.Parse(candidate)));
    }

    [Theory]
    [InlineData("==1.0", "==", "1.0", false)]
    [InlineData("== 1.0", "==", "1.0", false)]
    [InlineData(" >= 1.0 ", ">=", "1.0", false)]
    [InlineData("~= 1.0", "~=", "1.0", false)]
    [InlineData("~=1.0.dev1", "~=", "1.0.dev1", false)]
    [InlineData("~=2.2.post3", "~=", "2.2.post3", false)]
    [InlineData("~=1!2.0", "~=", "1!2.0", false)]
    [InlineData("==1.*", "==", "1.*", true)]
    [InlineData("!=1.0.*", "!=", "1.0.*", true)]
    [InlineData("==1!1.*", "==", "1!1.*", true)]
    [InlineData("==1.0+local", "==", "1.0+local", false)]
    [InlineData("!=1.0+local", "!=", "1.0+local", false)]
    [InlineData("!=1.0a1", "!=", "1.0a1", false)]
    [InlineData(">1!2.0", ">", "1!2.0", false)]
    [InlineData("<3", "<", "3", false)]
    [InlineData("<=3", "<=", "3", false)]
    [InlineData("===anything", "===", "anything", false)]
    [InlineData("=== 1.0", "===", "1.0", false)]
    public void ValidSpecifiersParse(string text, string op, string versionText, bool wildcard)
    {
        var specifier = Pep440Specifier.Parse(text);

        Assert.Equal(op, specifier.Operator);
        Assert.Equal(versionText, specifier.VersionText);
        Assert.Equal(wildcard, specifier.IsWildcard);
        Assert.Equal(op == "===", specifier.Version is null);
        Assert.Equal(op + versionText, specifier.ToString());
    }

    // Every one of these raises InvalidSpecifier in packaging.
    [Theory]
    [InlineData("")]
    [InlineData("1.0")]
    [InlineData("=1.0")]
    [InlineData("==")]
    [InlineData("<>1.0")]
    [InlineData("=>1.0")]
    [InlineData("~=1")] // ~= needs at least two release segments
    [InlineData("~=1.*")]
    [InlineData("~=1.0+local")] // local labels only with == and !=
    [InlineData(">=1.0+local")]
    [InlineData("<=1.0+local")]
    [InlineData("<1.0+local")]
    [InlineData(">1.0+local")]
    [InlineData(">=1.*")] // wildcards only with == and !=
    [InlineData("<1.*")]
    [InlineData("==1.0+local.*")]
    [InlineData("==1.0.*+local")]
    [InlineData("==1.*.*")]
    [InlineData("==*")]
    [InlineData("==1.0 .*")]
    [InlineData("==1.0-")]
    [InlineData(">=1.0,")]
    [InlineData("=== foo bar")]
    public void InvalidSpecifiersAreRejected(string text)
    {
        Assert.Throws<FormatException>(() => Pep440Specifier.Parse(text));
    }

    [Theory]
    // packaging's Specifier.prereleases: the clause names a pre-release (and != never counts).
    [InlineData(">=1.0a1", true)]
    [InlineData("==1.0rc1", true)]
    [InlineData("<=2.0.dev1", true)]
    [InlineData("~=1.0b1", true)]
    [InlineData("==1.0.*", false)]
    [InlineData(">=1.0", false)]
    [InlineData("==1.0.post1", false)]
    [InlineData("!=1.0a1", false)]
    [InlineData("<1.0a1", true)]
    [InlineData(">1.0a1", true)]
    public void MentionsPrerelease(string text, bool expected)
    {
        Assert.Equal(expected, Pep440Specifier.Parse(text).MentionsPrerelease);
    }
}

public sealed class Pep440SpecifierSetTests
{
    private static Pep440Version[] Versions(params string[] texts) => texts.Select(Pep440Version.Parse).ToArray();

    private static string[] Filter(string specifiers, params string[] candidates) =>
        Pep440SpecifierSet.Parse(specifiers).Filter(Versions(candidates)).Select(v => v.ToString()).ToArray();

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void EmptyTextIsAny(string text)
    {
        var set = Pep440SpecifierSet.Parse(text);

        Assert.Same(Pep440SpecifierSet.Any, set);
        Assert.Empty(set.Specifiers);
        Assert.True(set.IsSatisfiedBy(Pep440Version.Parse("0.0.dev0")));
        Assert.Equal("", set.ToString());
    }

    [Fact]
    public void ClausesAreSplitOnCommasAndTrimmed()
    {
        var set = Pep440SpecifierSet.Parse(" >= 1.0 , < 2.0 ,!=1.5.*");

        Assert.Equal([">=", "<", "!="], set.Specifiers.Select(s => s.Operator));
        Assert.Equal(">=1.0,<2.0,!=1.5.*", set.ToString());
    }

    [Theory]
    [InlineData(">=1.0,")]
    [InlineData(",>=1.0")]
    [InlineData(">=1.0,,<2")]
    [InlineData(">=1.0;<2")]
    [InlineData(">=1.0 <2")]
    public void InvalidSetsAreRejected(string text)
    {
        Assert.Throws<FormatException>(() => Pep440SpecifierSet.Parse(text));
    }

    [Theory]
    [InlineData(">=1.0,<2.0", "1.0", true)]
    [InlineData(">=1.0,<2.0", "1.9.9", true)]
    [InlineData(">=1.0,<2.0", "2.0", false)]
    [InlineData(">=1.0,<2.0", "0.9", false)]
    [InlineData(">=1.0,<2.0", "2.0.dev1", false)]
    [InlineData(">=1.0,<2.0,!=1.5.*", "1.5.3", false)]
    [InlineData(">=1.0,<2.0,!=1.5.*", "1.6", true)]
    [InlineData("~=1.2,!=1.3", "1.3", false)]
    [InlineData("~=1.2,!=1.3", "1.3.1", true)]
    [InlineData("==1.*,>1.0", "1.0.post1", false)]
    [InlineData("==1.*,>1.0", "1.0.1", true)]
    public void AllClausesMustHold(string specifiers, string candidate, bool expected)
    {
        Assert.Equal(expected, Pep440SpecifierSet.Parse(specifiers).IsSatisfiedBy(Pep440Version.Parse(candidate)));
    }

    [Fact]
    public void FilterDropsPrereleasesWhenFinalsMatch()
    {
        Assert.Equal(["1.0", "1.1"], Filter(">=1.0", "0.9", "1.0", "1.1a1", "1.1", "2.0.dev1"));
        Assert.Equal(["0.9", "1.0"], Filter("", "0.9", "1.0", "1.1a1"));
    }

    [Fact]
    public void FilterKeepsPrereleasesWhenAClauseNamesOne()
    {
        Assert.Equal(["1.1a1", "1.1", "2.0.dev1"], Filter(">=1.1a1", "1.0", "1.1a1", "1.1", "2.0.dev1"));
        Assert.Equal(["2.0rc1"], Filter("==2.0rc1", "1.0", "2.0rc1"));
        Assert.Equal(["1.0", "1.1a1"], Filter(">=1.0,<=1.1a1", "1.0", "1.1a1", "1.1"));
    }

    [Fact]
    public void ExcludingAPrereleaseDoesNotOptIntoPrereleases()
    {
        Assert.Equal(["1.0"], Filter("!=1.1a1", "1.0", "1.1a1", "1.1a2"));
    }

    [Fact]
    public void FilterFallsBackToPrereleasesWhenNothingElseMatches()
    {
        // PEP 440: accept pre-releases "where there is no final or post release that satisfies the version specifier".
        // (packaging 21.3 only does this for an empty specifier set; with clauses it returns nothing.)
        Assert.Equal(["1.0a1", "1.0b1"], Filter("", "1.0a1", "1.0b1"));
        Assert.Equal(["2.0a1"], Filter(">1.0", "1.0", "2.0a1"));
        Assert.Equal(["1.2b1", "1.3rc1"], Filter(">=1.1,<2", "1.0", "1.2b1", "1.3rc1", "2.0"));
        Assert.Empty(Filter(">=3.0", "1.0", "2.0a1"));
    }

    [Fact]
    public void PostReleasesAreNotPrereleases()
    {
        Assert.Equal(["1.0", "1.0.post1"], Filter(">=1.0", "1.0", "1.0.post1", "1.1.dev0"));
        // A post-release of a pre-release is still a pre-release.
        Assert.Equal(["1.0"], Filter(">=0.9", "1.0", "1.1a1.post1"));
    }

    [Fact]
    public void FilterPreservesInputOrderAndDuplicates()
    {
        Assert.Equal(["2.0", "1.0", "1.0.0"], Filter(">=1.0", "2.0", "0.1", "1.0", "1.0.0"));
    }

    [Fact]
    public void ConstructorKeepsTheClauses()
    {
        var clauses = new[] { Pep440Specifier.Parse(">=1"), Pep440Specifier.Parse("<2") };
        var set = new Pep440SpecifierSet(clauses);

        Assert.Same(clauses, set.Specifiers);
        Assert.True(set.IsSatisfiedBy(Pep440Version.Parse("1.5")));
    }
}
