using SafeHaven.Core.Tiers;

namespace SafeHaven.Core.Tests.Tiers;

public sealed class AllowlistTests
{
    private static string PyPI(string name) => TierPolicyProvider.NormalizeForEcosystem("pypi", name);

    private static Allowlist Parse(params string[] lines) => Allowlist.Parse(lines, PyPI);

    [Fact]
    public void OneNamePerLineWithCommentsAndBlanks()
    {
        var list = Parse(
            "# Approved by the Referee, 2024-02-01",
            "",
            "numpy",
            "   pandas   ",
            "\t",
            "scikit-learn  # model scored 0.93",
            "Jinja2",
            "zope.interface",
            "typing_extensions");

        Assert.Equal(["numpy", "pandas", "scikit-learn", "jinja2", "zope-interface", "typing-extensions"], list.Entries.Select(e => e.Name));
        Assert.All(list.Entries, e => Assert.Empty(e.Extras));
    }

    [Fact]
    public void WindowsLineEndingsAreTolerated()
    {
        var list = Allowlist.Parse("numpy\r\npandas\r\n".Split('\n'), PyPI);

        Assert.Equal(["numpy", "pandas"], list.Entries.Select(e => e.Name));
    }

    [Fact]
    public void ExtrasAreReadAndNormalised()
    {
        var list = Parse("requests[socks, Use_Chardet_On_Py3]", "apache-airflow[postgres]");

        var requests = list.Entries[0];
        Assert.Equal("requests", requests.Name);
        Assert.Equal(new HashSet<string> { "socks", "use-chardet-on-py3" }, requests.Extras);
        Assert.Equal(new HashSet<string> { "postgres" }, list.Entries[1].Extras);
    }

    [Fact]
    public void SpaceBeforeTheBracketIsAllowed()
    {
        var entry = Assert.Single(Parse("requests [socks]").Entries);

        Assert.Equal("requests", entry.Name);
        Assert.Equal(["socks"], entry.Extras);
    }

    [Fact]
    public void EmptyBracketsMeanNoExtras()
    {
        var entry = Assert.Single(Parse("requests[]").Entries);

        Assert.Empty(entry.Extras);
    }

    [Fact]
    public void DuplicatesAreMergedInFirstSeenOrder()
    {
        var list = Parse("requests[socks]", "numpy", "Requests[security]", "REQUESTS", "requests[socks]");

        Assert.Equal(["requests", "numpy"], list.Entries.Select(e => e.Name));
        Assert.Equal(new HashSet<string> { "socks", "security" }, list.Entries[0].Extras);
    }

    [Fact]
    public void NormalisationIsTheEcosystemsOwn()
    {
        var nuget = Allowlist.Parse(["Newtonsoft.Json", "newtonsoft.json", "Serilog"], n => TierPolicyProvider.NormalizeForEcosystem("nuget", n));
        var cran = Allowlist.Parse(["data.table", "Rcpp"], n => TierPolicyProvider.NormalizeForEcosystem("cran", n));

        Assert.Equal(["newtonsoft.json", "serilog"], nuget.Entries.Select(e => e.Name));
        Assert.Equal(["data.table", "Rcpp"], cran.Entries.Select(e => e.Name));
    }

    [Fact]
    public void EmptyInputIsAnEmptyList()
    {
        Assert.Empty(Parse().Entries);
        Assert.Empty(Parse("# nothing approved yet", "").Entries);
        Assert.Empty(Allowlist.Empty.Entries);
    }

    [Theory]
    [InlineData("requests[socks", 3)]      // unclosed
    [InlineData("numpy pandas", 3)]        // two names
    [InlineData("[socks]", 3)]             // extras without a name
    [InlineData("requests>=2.31", 3)]      // a constraint is not a name
    [InlineData("requests==2.31.0", 3)]
    [InlineData("requests]", 3)]
    [InlineData("requests[so cks]", 3)]    // an extra is a name too
    [InlineData("requests[a[b]]", 3)]
    [InlineData("requests; python_version>'3'", 3)]
    [InlineData("https://example.org/x.whl", 3)]
    public void BadLinesAreRejectedWithTheirLineNumber(string bad, int lineNumber)
    {
        var e = Assert.Throws<FormatException>(() => Parse("# header", "numpy", bad, "pandas"));

        Assert.Contains($"line {lineNumber}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadNamesTheFileInErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), "safehaven-allowlist-" + Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllLines(path, ["numpy", "", "bad name"]);
        try
        {
            var e = Assert.Throws<FormatException>(() => Allowlist.Load(path, PyPI));

            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("line 3", e.Message, StringComparison.Ordinal);

            File.WriteAllLines(path, ["numpy", "Pandas[performance]"]);
            var list = Allowlist.Load(path, PyPI);
            Assert.Equal(["numpy", "pandas"], list.Entries.Select(x => x.Name));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void An_entry_may_name_a_version_constraint_after_an_at_sign()
    {
        var list = Allowlist.Parse(["Microsoft.OpenApi@[2.0.0, 3.0.0)  # the 2.x line only", "NuGet.Packaging"], n => TierPolicyProvider.NormalizeForEcosystem("nuget", n));

        Assert.Equal(["microsoft.openapi", "nuget.packaging"], list.Entries.Select(e => e.Name));
        Assert.Equal("[2.0.0, 3.0.0)", list.Entries[0].Constraint);
        Assert.Equal("", list.Entries[1].Constraint);
        Assert.Throws<FormatException>(() => Allowlist.Parse(["NuGet.Packaging@"], PyPI));
    }

    [Fact]
    public void An_approved_package_the_closure_could_not_resolve_is_refused_for_that_reason()
    {
        var registry = new AllowlistClosureRegistry();
        registry.Publish(new AllowlistClosure("nuget", DateTimeOffset.UnixEpoch, ["approved.lib"], [],
            [new UnsatisfiedDependency("approved.lib", ["approved.lib"], "approved.lib", "no visible version of 'approved.lib' satisfies 'any'")],
            new Dictionary<string, IReadOnlySet<string>>()));
        var policy = new PolicySnapshot(1, new TierPolicy(3, TimeSpan.FromDays(7), TimeSpan.FromDays(42), SafeHaven.Core.Advisories.AdvisoryIndex.Empty), new Dictionary<string, Allowlist>());

        var approved = registry.Admit(policy, "nuget", "approved.lib");
        var other = registry.Admit(policy, "nuget", "other.lib");

        Assert.False(approved.Admitted);
        Assert.Equal("tier 3: 'approved.lib' is on the approved list, but no version of it is visible at this tier: no visible version of 'approved.lib' satisfies 'any'", approved.Reason);
        Assert.Contains("is not on the approved list", other.Reason, StringComparison.Ordinal);
    }
}
