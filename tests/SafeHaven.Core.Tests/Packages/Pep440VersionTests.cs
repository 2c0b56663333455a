using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

public sealed class Pep440VersionTests
{
    // Sorted ascending by pip's vendored `packaging` 21.3 (`sorted(vs, key=Version)`), from a shuffled input.
    // Adjacent entries are strictly increasing (no two are equal).
    private static readonly string[] SortedByPackaging =
    [
        "0.0",
        "0.9",
        "0.9.9.9",
        "1.0.dev0",
        "1.0.dev1",
        "1.0.dev2",
        "1.0.dev10",
        "1.0a1",
        "1.0a1.post1.dev1",
        "1.0a1.post1",
        "1.0a2.dev456",
        "1.0a12.dev456",
        "1.0a12",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0rc1.dev456",
        "1.0rc1",
        "1.0rc2",
        "1.0c3",
        "1.0",
        "1.0+00a",
        "1.0+1b",
        "1.0+a.b",
        "1.0+abc",
        "1.0+abc.5",
        "1.0+abc.5.1",
        "1.0+abc.7",
        "1.0+ABD",
        "1.0+0",
        "1.0+5",
        "1.0+5.a",
        "1.0+6",
        "1.0.post0",
        "1.0.post1.dev0",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.post456+local",
        "1.0.1",
        "1.0.2",
        "1.0.15",
        "1.1.dev1",
        "0!1.1a1",
        "1.1",
        "2.0.0.0.1",
        "10.0",
        "1!0.1",
        "1!1.0.dev1",
        "2!0.0.0.1",
    ];

    [Fact]
    public void SortingAShuffledListMatchesPackagingOrder()
    {
        var shuffled = SortedByPackaging.OrderBy(v => v.GetHashCode(StringComparison.Ordinal)).ThenBy(v => v, StringComparer.Ordinal).ToList();
        var random = new Random(1234);
        for (var i = shuffled.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }

        var sorted = shuffled.Select(Pep440Version.Parse).Order().Select(v => v.ToString()).ToArray();

        var expected = SortedByPackaging.Select(v => Pep440Version.Parse(v).ToString()).ToArray();
        Assert.Equal(expected, sorted);
    }

    [Fact]
    public void EveryPairCompareIsConsistentWithPackagingOrder()
    {
        var versions = SortedByPackaging.Select(Pep440Version.Parse).ToArray();
        for (var i = 0; i < versions.Length; i++)
        {
            for (var j = 0; j < versions.Length; j++)
            {
                var expected = i.CompareTo(j);
                var actual = Math.Sign(versions[i].CompareTo(versions[j]));
                Assert.True(expected == actual, $"{SortedByPackaging[i]} vs {SortedByPackaging[j]}: expected {expected}, got {actual}");
                Assert.Equal(i < j, versions[i] < versions[j]);
                Assert.Equal(i > j, versions[i] > versions[j]);
                Assert.Equal(i <= j, versions[i] <= versions[j]);
                Assert.Equal(i >= j, versions[i] >= versions[j]);
                Assert.Equal(i == j, versions[i].Equals(versions[j]));
            }
        }
    }

    // Expected strings are `str(packaging.version.Version(input))`.
    [Theory]
    [InlineData("1.0", "1.0")]
    [InlineData("v1.0", "1.0")]
    [InlineData("V1.0", "1.0")]
    [InlineData("  1.0  ", "1.0")]
    [InlineData("1.0\n", "1.0")]
    [InlineData("01.02.003", "1.2.3")]
    [InlineData("1.0.0", "1.0.0")]
    [InlineData("0!1.0", "1.0")]
    [InlineData("1!1.0", "1!1.0")]
    [InlineData("001!1.0", "1!1.0")]
    [InlineData("1.0a", "1.0a0")]
    [InlineData("1.0alpha1", "1.0a1")]
    [InlineData("1.0.alpha.1", "1.0a1")]
    [InlineData("1.0-a-1", "1.0a1")]
    [InlineData("1.0_a_1", "1.0a1")]
    [InlineData("1.0a01", "1.0a1")]
    [InlineData("1.0beta2", "1.0b2")]
    [InlineData("1.0b", "1.0b0")]
    [InlineData("1.0c1", "1.0rc1")]
    [InlineData("1.0pre1", "1.0rc1")]
    [InlineData("1.0preview1", "1.0rc1")]
    [InlineData("1.0-rc.1", "1.0rc1")]
    [InlineData("1.0RC1", "1.0rc1")]
    [InlineData("1.0rc", "1.0rc0")]
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0-0", "1.0.post0")]
    [InlineData("1-0", "1.post0")]
    [InlineData("1.0post", "1.0.post0")]
    [InlineData("1.0.post", "1.0.post0")]
    [InlineData("1.0.post00", "1.0.post0")]
    [InlineData("1.0-post2", "1.0.post2")]
    [InlineData("1.0_post_2", "1.0.post2")]
    [InlineData("1.0r1", "1.0.post1")]
    [InlineData("1.0rev1", "1.0.post1")]
    [InlineData("1.0-r", "1.0.post0")]
    [InlineData("1.0a1.post2", "1.0a1.post2")]
    [InlineData("1.0a1-2", "1.0a1.post2")]
    [InlineData("1.0dev", "1.0.dev0")]
    [InlineData("1.0.dev", "1.0.dev0")]
    [InlineData("1.0.dev09", "1.0.dev9")]
    [InlineData("1.0-dev-3", "1.0.dev3")]
    [InlineData("1.0_dev_3", "1.0.dev3")]
    [InlineData("1.0a1-dev2", "1.0a1.dev2")]
    [InlineData("1.0-rc-1-post-2-dev-3", "1.0rc1.post2.dev3")]
    [InlineData("1.0+ABC-def_1", "1.0+abc.def.1")]
    [InlineData("1.0+a_b-c", "1.0+a.b.c")]
    [InlineData("1.0+01", "1.0+1")]
    [InlineData("1.0+abc.007", "1.0+abc.7")]
    [InlineData("1.0+1.02a", "1.0+1.02a")]
    [InlineData("1.0.post1.dev2+Local.7", "1.0.post1.dev2+local.7")]
    [InlineData("2!1.0rc3.post4.dev5+x.y.z", "2!1.0rc3.post4.dev5+x.y.z")]
    public void ToStringIsTheNormalisedForm(string input, string normalised)
    {
        var version = Pep440Version.Parse(input);

        Assert.Equal(normalised, version.ToString());
        Assert.True(Pep440Version.TryParse(input, out var viaTry));
        Assert.Equal(normalised, viaTry.ToString());
        // The normal form is a fixed point.
        Assert.Equal(normalised, Pep440Version.Parse(normalised).ToString());
        Assert.Equal(version, Pep440Version.Parse(normalised));
    }

    // Every one of these raises InvalidVersion in packaging.
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("1.0-")]
    [InlineData("1.0+")]
    [InlineData("1.0+-abc")]
    [InlineData("1.0+abc-")]
    [InlineData("1.0+abc..def")]
    [InlineData("1.0+abc+def")]
    [InlineData("1.0+ab c")]
    [InlineData("1.0+é")]
    [InlineData("1..0")]
    [InlineData(".1")]
    [InlineData("1.")]
    [InlineData("a1.0")]
    [InlineData("vv1.0")]
    [InlineData("1.0 a1")]
    [InlineData("1 .0")]
    [InlineData("1_0")]
    [InlineData("1.0d1")]
    [InlineData("1.0.devx")]
    [InlineData("1.0~1")]
    [InlineData("1.0a1a2")]
    [InlineData("1.0.post1.post2")]
    [InlineData("1.0.dev1.dev2")]
    [InlineData("1.0dev1a1")]
    [InlineData("1.0.dev1.post1")]
    [InlineData("1.0-dev1-post1")]
    [InlineData("1.0-1-1")]
    [InlineData("!1.0")]
    [InlineData("1!")]
    [InlineData("1!!1.0")]
    [InlineData("٣.٠")]
    [InlineData("１.0")]
    [InlineData("1.0.*")]
    [InlineData("*")]
    public void InvalidVersionsAreRejected(string input)
    {
        Assert.False(Pep440Version.TryParse(input, out var version));
        Assert.Null(version);
        Assert.Throws<FormatException>(() => Pep440Version.Parse(input));
    }

    [Fact]
    public void NullIsNotAVersion()
    {
        Assert.False(Pep440Version.TryParse(null, out var version));
        Assert.Null(version);
    }

    [Theory]
    [InlineData("1.0", "1.0.0")]
    [InlineData("1", "1.0.0.0")]
    [InlineData("0!1.0", "1.0")]
    [InlineData("v1.0", "1.0")]
    [InlineData("1.0c1", "1.0rc1")]
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0+01", "1.0+1")]
    [InlineData("1.0+ABC", "1.0+abc")]
    [InlineData("1.0+a-b", "1.0+a.b")]
    [InlineData("1.0a1", "1.0.0a1")]
    public void EquivalentSpellingsAreEqualWithEqualHashCodes(string left, string right)
    {
        var a = Pep440Version.Parse(left);
        var b = Pep440Version.Parse(right);

        Assert.Equal(a, b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(0, a.CompareTo(b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Single(new HashSet<Pep440Version> { a, b });
    }

    [Theory]
    [InlineData("1.0", "1.0+0")]
    [InlineData("1.0", "1.0.post0")]
    [InlineData("1.0", "1.0.dev0")]
    [InlineData("1.0", "1.0a0")]
    [InlineData("1.0", "1!1.0")]
    [InlineData("1.0+a", "1.0+a.0")]
    public void DistinctVersionsAreNotEqual(string left, string right)
    {
        Assert.NotEqual(Pep440Version.Parse(left), Pep440Version.Parse(right));
    }

    [Fact]
    public void CompareToNullSortsNullFirst()
    {
        var version = Pep440Version.Parse("0");
        Assert.True(version.CompareTo(null) > 0);
        Assert.False(version.Equals(null));
        Assert.False(version.Equals((object?)"0"));
    }

    [Fact]
    public void LargeDevNumberStillSortsBeforeTheRelease()
    {
        // packaging: Version("1.0a1.dev9223372036854775807") < Version("1.0a1") is True.
        var dev = Pep440Version.Parse("1.0a1.dev9223372036854775807");
        var release = Pep440Version.Parse("1.0a1");

        Assert.True(dev < release);
        Assert.NotEqual(dev, release);
    }

    [Fact]
    public void NumericLocalSegmentsBeyondLongRangeStillSortAsNumbers()
    {
        // packaging: Version("1.0+99999999999999999999") > Version("1.0+abc") and > Version("1.0+9999999999999999999").
        var huge = Pep440Version.Parse("1.0+99999999999999999999");

        Assert.True(huge > Pep440Version.Parse("1.0+abc"));
        Assert.True(huge > Pep440Version.Parse("1.0+9999999999999999999"));
        Assert.True(huge < Pep440Version.Parse("1.0+100000000000000000000"));
        Assert.Equal(huge, Pep440Version.Parse("1.0+099999999999999999999"));
    }

    [Theory]
    //           input                 pre    post   dev    local  public        base
    [InlineData("1.0", false, false, false, false, "1.0", "1.0")]
    [InlineData("1.0a1", true, false, false, false, "1.0a1", "1.0")]
    [InlineData("1.0.dev1", true, false, true, false, "1.0.dev1", "1.0")]
    [InlineData("1.0.post1", false, true, false, false, "1.0.post1", "1.0")]
    [InlineData("1.0.post1.dev1", true, true, true, false, "1.0.post1.dev1", "1.0")]
    [InlineData("1.0rc1.post2+abc", true, true, false, true, "1.0rc1.post2", "1.0")]
    [InlineData("2!1.2.3+ubuntu.1", false, false, false, true, "2!1.2.3", "2!1.2.3")]
    public void ComponentProperties(string input, bool isPre, bool isPost, bool hasDev, bool hasLocal, string publicForm, string baseForm)
    {
        var version = Pep440Version.Parse(input);

        Assert.Equal(isPre, version.IsPrerelease);
        Assert.Equal(isPost, version.IsPostRelease);
        Assert.Equal(hasDev, version.Dev is not null);
        Assert.Equal(hasLocal, version.HasLocal);
        Assert.Equal(publicForm, version.Public.ToString());
        Assert.Equal(baseForm, version.BaseVersion.ToString());
    }

    [Fact]
    public void ComponentsAreExposed()
    {
        var version = Pep440Version.Parse("3!1.2.3rc4.post5.dev6+Ubuntu-7");

        Assert.Equal(3, version.Epoch);
        Assert.Equal([1L, 2L, 3L], version.Release);
        Assert.Equal("rc", version.PreLabel);
        Assert.Equal(4, version.PreNumber);
        Assert.Equal(5, version.Post);
        Assert.Equal(6, version.Dev);
        Assert.Equal(["ubuntu", "7"], version.Local!);
    }

    [Theory]
    [InlineData("1.0alpha", "a")]
    [InlineData("1.0BETA", "b")]
    [InlineData("1.0c", "rc")]
    [InlineData("1.0pre", "rc")]
    [InlineData("1.0preview", "rc")]
    [InlineData("1.0", null)]
    public void PreLabelIsNormalised(string input, string? label)
    {
        Assert.Equal(label, Pep440Version.Parse(input).PreLabel);
    }

    [Theory]
    [InlineData("1.0", "1.0.0", 0)]
    [InlineData("1.0.0.1", "1.0", 1)]
    [InlineData("1.0a1", "1.0.dev1", 1)]
    [InlineData("1.0.post1.dev1", "1.0", 1)]
    [InlineData("1.0.post1.dev1", "1.0.post1", -1)]
    [InlineData("1.0a1.dev1", "1.0.dev1", 1)]
    [InlineData("1.0+local", "1.0", 1)]
    [InlineData("1.0+local", "1.0.post0", -1)]
    [InlineData("1!0.0", "999999.0", 1)]
    [InlineData("1.0.dev0", "0.99999", 1)]
    public void PairwiseOrdering(string left, string right, int expectedSign)
    {
        var a = Pep440Version.Parse(left);
        var b = Pep440Version.Parse(right);

        Assert.Equal(expectedSign, Math.Sign(a.CompareTo(b)));
        Assert.Equal(-expectedSign, Math.Sign(b.CompareTo(a)));
    }
}
