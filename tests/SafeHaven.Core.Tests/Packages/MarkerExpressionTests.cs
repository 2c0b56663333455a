using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

public sealed class MarkerExpressionTests
{
    private static readonly MarkerEnvironment Linux310 = new(
        new Dictionary<string, string>
        {
            ["python_version"] = "3.10",
            ["python_full_version"] = "3.10.4",
            ["os_name"] = "posix",
            ["sys_platform"] = "linux",
            ["platform_machine"] = "x86_64",
            ["platform_python_implementation"] = "CPython",
            ["platform_release"] = "5.15.0",
            ["platform_system"] = "Linux",
            ["platform_version"] = "#1 SMP",
            ["implementation_name"] = "cpython",
            ["implementation_version"] = "3.10.4",
        },
        new HashSet<string>());

    private static MarkerEnvironment Only(params (string Name, string Value)[] variables) =>
        new(variables.ToDictionary(v => v.Name, v => v.Value), new HashSet<string>());

    private static MarkerTruth Truth(bool value) => value ? MarkerTruth.True : MarkerTruth.False;

    // Expected values: `packaging.markers.Marker(m).evaluate(env)` with the same full environment.
    [Theory]
    [InlineData("python_version >= \"3.8\"", true)]
    [InlineData("python_version > \"3.9\"", true)] // 3.10 > 3.9 as versions, not as strings
    [InlineData("python_version < \"3.9\"", false)]
    [InlineData("python_version == \"3.10\"", true)]
    [InlineData("python_version == \"3.1\"", false)]
    [InlineData("python_version != \"3.10\"", false)]
    [InlineData("python_version ~= \"3.8\"", true)]
    [InlineData("python_version == \"3.*\"", true)]
    [InlineData("python_version < \"3.10.1\"", true)]
    [InlineData("\"3.8\" <= python_version", true)]
    [InlineData("python_full_version >= \"3.10.4\"", true)]
    [InlineData("python_full_version > \"3.10\"", true)]
    [InlineData("python_version in \"3.8 3.9 3.10\"", true)]
    [InlineData("python_version in \"3.1\"", false)]
    [InlineData("python_version not in \"3.8 3.9\"", true)]
    [InlineData("\"linux\" in sys_platform", true)]
    [InlineData("\"win\" in sys_platform", false)]
    [InlineData("\"win\" not in sys_platform", true)]
    [InlineData("sys_platform == \"linux\"", true)]
    [InlineData("sys_platform == \"Linux\"", false)]
    [InlineData("os_name == \"nt\" or sys_platform == \"linux\"", true)]
    [InlineData("os_name == \"nt\" and sys_platform == \"linux\"", false)]
    [InlineData("(os_name == \"nt\" or os_name == \"posix\") and python_version >= \"3\"", true)]
    [InlineData("os_name == \"nt\" or os_name == \"posix\" and python_version < \"3\"", false)]
    [InlineData("(os_name == \"nt\" or os_name == \"posix\") and python_version < \"3\"", false)]
    [InlineData("os_name == \"posix\" or os_name == \"nt\" and python_version < \"3\"", true)] // and binds tighter than or
    [InlineData("platform_machine == 'x86_64'", true)]
    [InlineData("platform_release >= '5.4'", true)]
    [InlineData("platform_system != 'Windows' and implementation_name == 'cpython'", true)]
    [InlineData("implementation_version >= \"3.10.4\"", true)]
    [InlineData("platform_version == \"#1 SMP\"", true)]
    [InlineData("os.name == \"posix\"", true)]
    [InlineData("sys.platform == \"linux\"", true)]
    [InlineData("python_implementation == \"CPython\"", true)]
    [InlineData("platform.python_implementation == \"CPython\"", true)]
    [InlineData("sys_platform < \"m\"", true)] // no PEP 440 meaning: Python string comparison
    [InlineData("sys_platform > \"m\"", false)]
    [InlineData("platform_version >= \"#1\"", true)]
    [InlineData("python_version>=\"3.8\"and os_name==\"posix\"", true)]
    [InlineData("os_name==\"nt\"or os_name==\"posix\"", true)]
    [InlineData("((os_name == \"posix\"))", true)]
    public void EvaluatesLikePackagingInAFullEnvironment(string marker, bool expected)
    {
        Assert.Equal(Truth(expected), MarkerExpression.Parse(marker).Evaluate(Linux310));
    }

    [Fact]
    public void PrereleaseInterpreterStillComparesAsAVersion()
    {
        // PEP 508 uses PEP 440 ordering: 3.13.0rc1 >= 3.8. (packaging >= 22 agrees; 21.3 wrongly said False.)
        var env = Only(("python_full_version", "3.13.0rc1"));

        Assert.Equal(MarkerTruth.True, MarkerExpression.Parse("python_full_version >= \"3.8\"").Evaluate(env));
        Assert.Equal(MarkerTruth.False, MarkerExpression.Parse("python_full_version >= \"3.13\"").Evaluate(env));
    }

    [Theory]
    [InlineData("python_version >= \"3.8\"")]
    [InlineData("\"linux\" in sys_platform")]
    [InlineData("sys_platform == \"linux\" or os_name == \"nt\"")]
    [InlineData("sys_platform == \"linux\" and os_name == \"nt\"")]
    [InlineData("platform_machine not in \"arm64 aarch64\"")]
    public void VariablesMissingFromTheEnvironmentAreUnknown(string marker)
    {
        Assert.Equal(MarkerTruth.Unknown, MarkerExpression.Parse(marker).Evaluate(MarkerEnvironment.Empty));
    }

    [Theory]
    // Kleene logic: False and x = False, True or x = True, otherwise Unknown stays Unknown.
    [InlineData("os_name == \"nt\" and python_version >= \"3\"", MarkerTruth.False)]
    [InlineData("python_version >= \"3\" and os_name == \"nt\"", MarkerTruth.False)]
    [InlineData("os_name == \"posix\" and python_version >= \"3\"", MarkerTruth.Unknown)]
    [InlineData("os_name == \"posix\" or python_version >= \"3\"", MarkerTruth.True)]
    [InlineData("python_version >= \"3\" or os_name == \"posix\"", MarkerTruth.True)]
    [InlineData("os_name == \"nt\" or python_version >= \"3\"", MarkerTruth.Unknown)]
    [InlineData("(os_name == \"nt\" or python_version >= \"3\") and os_name == \"nt\"", MarkerTruth.False)]
    [InlineData("(os_name == \"nt\" or python_version >= \"3\") and os_name == \"posix\"", MarkerTruth.Unknown)]
    [InlineData("(os_name == \"nt\" and python_version >= \"3\") or os_name == \"posix\"", MarkerTruth.True)]
    [InlineData("python_version < \"3\" or python_version >= \"3\"", MarkerTruth.Unknown)] // no tautology reasoning
    public void ThreeValuedLogic(string marker, MarkerTruth expected)
    {
        var env = Only(("os_name", "posix"));

        Assert.Equal(expected, MarkerExpression.Parse(marker).Evaluate(env));
    }

    [Theory]
    // extra == "x" is True only when x is requested; names compare in normal form (PEP 685).
    [InlineData("extra == \"test\"", new string[0], MarkerTruth.False)]
    [InlineData("extra == \"test\"", new[] { "test" }, MarkerTruth.True)]
    [InlineData("extra == \"test\"", new[] { "docs" }, MarkerTruth.False)]
    [InlineData("extra == \"test\"", new[] { "docs", "test" }, MarkerTruth.True)]
    [InlineData("extra == \"test\"", new[] { "test-extra" }, MarkerTruth.False)]
    [InlineData("extra == \"Test_Extra\"", new[] { "test-extra" }, MarkerTruth.True)]
    [InlineData("extra == \"test-extra\"", new[] { "Test.Extra" }, MarkerTruth.True)]
    [InlineData("\"test\" == extra", new[] { "test" }, MarkerTruth.True)]
    [InlineData("extra != \"test\"", new string[0], MarkerTruth.True)]
    [InlineData("extra != \"test\"", new[] { "test" }, MarkerTruth.False)]
    [InlineData("extra == \"test\" or extra == \"docs\"", new[] { "docs" }, MarkerTruth.True)]
    [InlineData("extra == \"test\" and python_version >= \"3.8\"", new[] { "test" }, MarkerTruth.Unknown)]
    [InlineData("extra == \"test\" and python_version >= \"3.8\"", new string[0], MarkerTruth.False)]
    [InlineData("python_version >= \"3.8\" and extra == \"test\"", new string[0], MarkerTruth.False)]
    public void ExtraIsTrueOnlyWhenRequested(string marker, string[] extras, MarkerTruth expected)
    {
        var env = MarkerEnvironment.Empty.WithExtras(extras);

        Assert.Equal(expected, MarkerExpression.Parse(marker).Evaluate(env));
    }

    [Fact]
    public void WithExtrasNormalisesAndKeepsVariables()
    {
        var env = Linux310.WithExtras(["Socks_Proxy", "DOCS"]);

        Assert.Equal(["docs", "socks-proxy"], env.Extras.Order(StringComparer.Ordinal));
        Assert.Same(Linux310.Variables, env.Variables);
    }

    [Theory]
    [InlineData("python_version == \"abc\"", false)] // not a version on the right: string comparison
    [InlineData("python_version != \"abc\"", true)]
    [InlineData("python_version >= \"3.10.0\"", true)] // zero padding
    [InlineData("python_version == \"3.10.0\"", true)]
    [InlineData("python_full_version >= \"3.10.4.post1\"", false)]
    [InlineData("python_version < \"3.10a1\"", false)]
    [InlineData("implementation_name == \"CPython\"", false)] // case-sensitive strings
    public void VersionAndStringComparisons(string marker, bool expected)
    {
        Assert.Equal(Truth(expected), MarkerExpression.Parse(marker).Evaluate(Linux310));
    }

    [Theory]
    [InlineData("extra == \"test\"", true)]
    [InlineData("\"test\" == extra", true)]
    [InlineData("python_version >= \"3\" and (os_name == \"nt\" or extra == \"x\")", true)]
    [InlineData("python_version >= \"3\" and os_name == \"nt\"", false)]
    [InlineData("sys_platform == \"extra\"", false)]
    public void MentionsExtra(string marker, bool expected)
    {
        Assert.Equal(expected, MarkerExpression.Parse(marker).MentionsExtra);
    }

    // Every one of these raises InvalidMarker in packaging.
    [Theory]
    [InlineData("")]
    [InlineData("python_version")]
    [InlineData("python_version >= ")]
    [InlineData("python_version >= \"3.8\" and")]
    [InlineData("and python_version >= \"3.8\"")]
    [InlineData("foo == \"1\"")]
    [InlineData("python_version = \"3\"")]
    [InlineData("python_version >= \"3.8")]
    [InlineData("python_version >= '3.8\"")]
    [InlineData("(python_version >= \"3.8\"")]
    [InlineData("python_version >= \"3.8\")")]
    [InlineData("()")]
    [InlineData("python_version >= \"3.8\" or or os_name == \"nt\"")]
    [InlineData("python_version notin \"3\"")]
    [InlineData("python_version not \"3\"")]
    [InlineData("python_version >= \"3.8\" os_name == \"nt\"")]
    [InlineData("python_version >= \"3.8\" && os_name == \"nt\"")]
    [InlineData("python_version >= \"3.8\" andos_name == \"nt\"")]
    public void InvalidMarkersAreRejected(string marker)
    {
        Assert.Throws<FormatException>(() => MarkerExpression.Parse(marker));
    }

    [Fact]
    public void KnownVariablesContainThePep508Set()
    {
        string[] pep508 =
        [
            "os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release",
            "platform_system", "platform_version", "python_version", "python_full_version", "implementation_name",
            "implementation_version", "extra",
        ];
        Assert.All(pep508, v => Assert.Contains(v, MarkerExpression.KnownVariables));
    }

    public static TheoryData<string> RoundTripMarkers() =>
    [
        "python_version >= \"3.8\"",
        "os_name == \"nt\" or sys_platform == \"linux\"",
        "os_name == \"nt\" and sys_platform == \"linux\"",
        "(os_name == \"nt\" or os_name == \"posix\") and python_version < \"3\"",
        "os_name == \"nt\" or os_name == \"posix\" and python_version < \"3\"",
        "python_version < \"3\" and (os_name == \"nt\" or os_name == \"posix\")",
        "(os_name == \"nt\" or os_name == \"posix\") and (python_version < \"3\" or python_version >= \"3.10\")",
        "extra == \"test\" and (sys_platform == \"win32\" or sys_platform == \"linux\")",
        "\"linux\" in sys_platform and platform_machine not in \"arm64 aarch64\"",
        "platform_version == 'say \"hi\"' or os_name == \"posix\"",
    ];

    [Theory]
    [MemberData(nameof(RoundTripMarkers))]
    public void ToStringReparsesToAnEquivalentMarker(string marker)
    {
        var original = MarkerExpression.Parse(marker);
        var reparsed = MarkerExpression.Parse(original.ToString());

        Assert.Equal(original.MentionsExtra, reparsed.MentionsExtra);
        foreach (var os in new[] { "nt", "posix", "java" })
        {
            foreach (var python in new[] { "2.7", "3.9", "3.10" })
            {
                foreach (var platform in new[] { "linux", "win32", "darwin" })
                {
                    foreach (var extras in new[] { Array.Empty<string>(), ["test"] })
                    {
                        var env = new MarkerEnvironment(
                            new Dictionary<string, string>
                            {
                                ["os_name"] = os,
                                ["python_version"] = python,
                                ["sys_platform"] = platform,
                                ["platform_machine"] = "x86_64",
                                ["platform_version"] = "say \"hi\"",
                            },
                            new HashSet<string>()).WithExtras(extras);
                        Assert.True(
                            original.Evaluate(env) == reparsed.Evaluate(env),
                            $"'{marker}' re-parsed from '{original}' disagrees for os={os} python={python} platform={platform}");
                    }
                }
            }
        }
    }
}
