using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

public sealed class Pep508RequirementTests
{
    private static readonly MarkerEnvironment Py27 = new(
        new Dictionary<string, string> { ["python_version"] = "2.7", ["platform_version"] = "2" },
        new HashSet<string>());

    // Name, extras, specifiers and URL as reported by `packaging.requirements.Requirement`
    // (extras normalised per PEP 685; "|" separates extras).
    [Theory]
    [InlineData("requests", "requests", "", "", null)]
    [InlineData("requests>=2.8.1", "requests", "", ">=2.8.1", null)]
    [InlineData("requests >= 2.8.1, < 3", "requests", "", ">=2.8.1,<3", null)]
    [InlineData("requests (>=2.8.1,<3)", "requests", "", ">=2.8.1,<3", null)]
    [InlineData("requests ( >=2.8.1 , <3 )", "requests", "", ">=2.8.1,<3", null)]
    [InlineData("requests(==1.0.*)", "requests", "", "==1.0.*", null)]
    [InlineData("requests==2.*", "requests", "", "==2.*", null)]
    [InlineData("requests ~= 2.8", "requests", "", "~=2.8", null)]
    [InlineData("requests===2.8-custom", "requests", "", "===2.8-custom", null)]
    [InlineData("requests[security,socks] (>=2.8.1) ; python_version < \"2.7\"", "requests", "security|socks", ">=2.8.1", null)]
    [InlineData("requests[ security , socks ]>=2.8", "requests", "security|socks", ">=2.8", null)]
    [InlineData("requests [security]", "requests", "security", "", null)]
    [InlineData("requests[Socks_Extra]", "requests", "socks-extra", "", null)]
    [InlineData("requests[]", "requests", "", "", null)]
    [InlineData("A.B-C_D", "A.B-C_D", "", "", null)]
    [InlineData("  requests  ", "requests", "", "", null)]
    [InlineData("x", "x", "", "", null)]
    [InlineData("name@http://foo.com", "name", "", "", "http://foo.com")]
    [InlineData("pip @ file:///localbuilds/pip-1.3.1.zip", "pip", "", "", "file:///localbuilds/pip-1.3.1.zip")]
    [InlineData("req[a,b]@https://x/y.whl", "req", "a|b", "", "https://x/y.whl")]
    [InlineData("name @ https://x.org/p-1.0.whl ; python_version >= \"3\"", "name", "", "", "https://x.org/p-1.0.whl")]
    // Without whitespace the ';' belongs to the URL.
    [InlineData("name @ https://x.org/p.whl;python_version>=\"3\"", "name", "", "", "https://x.org/p.whl;python_version>=\"3\"")]
    [InlineData("name @ https://user@x.org/p.whl#sha256=ab", "name", "", "", "https://user@x.org/p.whl#sha256=ab")]
    public void ParsesTheParts(string text, string name, string extras, string specifiers, string? url)
    {
        var requirement = Pep508Requirement.Parse(text);

        Assert.Equal(name, requirement.Name);
        Assert.Equal(extras, string.Join('|', requirement.Extras));
        Assert.Equal(specifiers, requirement.Specifiers.ToString());
        Assert.Equal(url, requirement.Url);
    }

    [Theory]
    [InlineData("requests", null)]
    [InlineData("requests;python_version<\"3\"", "python_version < \"3\"")]
    [InlineData("requests ; python_version < \"3\"", "python_version < \"3\"")]
    [InlineData("requests>=2.8.1;os_name==\"nt\"or os_name==\"posix\"", "os_name == \"nt\" or os_name == \"posix\"")]
    [InlineData("name @ https://x.org/p-1.0.whl ; python_version >= \"3\"", "python_version >= \"3\"")]
    [InlineData("name @ https://x.org/p.whl;python_version>=\"3\"", null)]
    [InlineData("requests; platform_version == \"a@b\"", "platform_version == \"a@b\"")]
    public void SplitsOffTheMarker(string text, string? marker)
    {
        Assert.Equal(marker, Pep508Requirement.Parse(text).Marker?.ToString());
    }

    [Fact]
    public void Pep508ExampleWithMarkerEvaluates()
    {
        // From PEP 508's examples.
        var requirement = Pep508Requirement.Parse("name[quux, strange];python_version<'2.7' and platform_version=='2'");

        Assert.Equal("name", requirement.Name);
        Assert.Equal(["quux", "strange"], requirement.Extras);
        Assert.Empty(requirement.Specifiers.Specifiers);
        Assert.NotNull(requirement.Marker);
        Assert.Equal(MarkerTruth.False, requirement.Marker.Evaluate(Py27));
        Assert.Equal(MarkerTruth.Unknown, requirement.Marker.Evaluate(MarkerEnvironment.Empty));
    }

    [Fact]
    public void ExtraMarkerEvaluatesAgainstRequestedExtras()
    {
        var requirement = Pep508Requirement.Parse("pytest>=7; extra == \"Test\"");

        Assert.True(requirement.Marker!.MentionsExtra);
        Assert.Equal(MarkerTruth.False, requirement.Marker.Evaluate(MarkerEnvironment.Empty));
        Assert.Equal(MarkerTruth.True, requirement.Marker.Evaluate(MarkerEnvironment.Empty.WithExtras(["test"])));
    }

    [Fact]
    public void SpecifiersAreUsable()
    {
        var requirement = Pep508Requirement.Parse("Django (>=4.2, <5, !=4.2.3)");

        Assert.True(requirement.Specifiers.IsSatisfiedBy(Pep440Version.Parse("4.2.7")));
        Assert.False(requirement.Specifiers.IsSatisfiedBy(Pep440Version.Parse("4.2.3")));
        Assert.False(requirement.Specifiers.IsSatisfiedBy(Pep440Version.Parse("5.0")));
        Assert.False(requirement.Specifiers.IsSatisfiedBy(Pep440Version.Parse("5.0a1")));
    }

    [Theory]
    [InlineData("A.B-C_D", "a-b-c-d")]
    [InlineData("Django", "django")]
    [InlineData("zope.interface>=5", "zope-interface")]
    [InlineData("Foo__Bar[x]", "foo-bar")]
    public void NormalizedName(string text, string expected)
    {
        Assert.Equal(expected, Pep508Requirement.Parse(text).NormalizedName);
    }

    // Every one of these raises InvalidRequirement in packaging.
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-requests")]
    [InlineData("requests-")]
    [InlineData(".requests")]
    [InlineData("requests !")]
    [InlineData("requests[security")]
    [InlineData("requests[sec urity]")]
    [InlineData("requests[-security]")]
    [InlineData("requests[a,]")]
    [InlineData("requests[a,,b]")]
    [InlineData("requests (>=2.8")]
    [InlineData("requests >=2.8)")]
    [InlineData("requests 2.8")]
    [InlineData("requests>=2.8 extra")]
    [InlineData("requests ==1.0,")]
    [InlineData("requests>=1.0+local")]
    [InlineData("requests ; ")]
    [InlineData("requests; python_version >= ")]
    [InlineData("requests; foo == \"1\"")]
    [InlineData("name @ ")]
    [InlineData("name @")]
    public void InvalidRequirementsAreRejected(string text)
    {
        Assert.Throws<FormatException>(() => Pep508Requirement.Parse(text));
        Assert.False(Pep508Requirement.TryParse(text, out var requirement));
        Assert.Null(requirement);
    }

    [Fact]
    public void TryParseSucceedsOnValidInput()
    {
        Assert.True(Pep508Requirement.TryParse("requests[socks]>=2; python_version >= \"3\"", out var requirement));
        Assert.Equal("requests", requirement.Name);
    }

    [Fact]
    public void NullIsAnArgumentError()
    {
        Assert.Throws<ArgumentNullException>(() => Pep508Requirement.Parse(null!));
    }

    [Theory]
    [InlineData("requests", "requests")]
    [InlineData("requests [Security, socks] ( >=2.8.1, <3 ) ; python_version < \"2.7\"", "requests[security,socks]>=2.8.1,<3; python_version < \"2.7\"")]
    [InlineData("pip @ file:///localbuilds/pip-1.3.1.zip ; os_name == 'nt'", "pip @ file:///localbuilds/pip-1.3.1.zip ; os_name == \"nt\"")]
    [InlineData("x[a] @ https://h/x.whl", "x[a] @ https://h/x.whl")]
    public void ToStringIsCanonicalAndReparses(string text, string expected)
    {
        var requirement = Pep508Requirement.Parse(text);

        Assert.Equal(expected, requirement.ToString());
        var reparsed = Pep508Requirement.Parse(requirement.ToString());
        Assert.Equal(requirement.Name, reparsed.Name);
        Assert.Equal(requirement.Extras, reparsed.Extras);
        Assert.Equal(requirement.Specifiers.ToString(), reparsed.Specifiers.ToString());
        Assert.Equal(requirement.Url, reparsed.Url);
        Assert.Equal(requirement.Marker?.ToString(), reparsed.Marker?.ToString());
    }
}
