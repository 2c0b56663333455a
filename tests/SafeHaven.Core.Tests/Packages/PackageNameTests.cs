using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

public sealed class PackageNameTests
{
    // Expected values are Python's re.sub(r"[-_.]+", "-", name).lower() (PEP 503).
    [Theory]
    [InlineData("Friendly-Bard", "friendly-bard")]
    [InlineData("FRIENDLY-BARD", "friendly-bard")]
    [InlineData("friendly.bard", "friendly-bard")]
    [InlineData("friendly_bard", "friendly-bard")]
    [InlineData("friendly--bard", "friendly-bard")]
    [InlineData("FrIeNdLy-._.-bArD", "friendly-bard")]
    [InlineData("zope.interface", "zope-interface")]
    [InlineData("Django", "django")]
    [InlineData("a__b", "a-b")]
    [InlineData("_foo", "-foo")]
    [InlineData("foo_", "foo-")]
    [InlineData("a-b", "a-b")]
    [InlineData("", "")]
    [InlineData(" a ", " a ")]
    public void NormalizePyPIFollowsPep503(string name, string expected)
    {
        Assert.Equal(expected, PackageName.NormalizePyPI(name));
        Assert.True(PackageName.IsNormalizedPyPI(expected));
        Assert.Equal(expected, PackageName.NormalizePyPI(expected));
    }

    [Theory]
    [InlineData("requests", true)]
    [InlineData("friendly-bard", true)]
    [InlineData("Friendly-Bard", false)]
    [InlineData("friendly_bard", false)]
    [InlineData("friendly.bard", false)]
    [InlineData("friendly--bard", false)]
    public void IsNormalizedPyPI(string name, bool expected)
    {
        Assert.Equal(expected, PackageName.IsNormalizedPyPI(name));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Z")]
    [InlineData("7")]
    [InlineData("A1")]
    [InlineData("requests")]
    [InlineData("zope.interface")]
    [InlineData("a_b-c.d")]
    [InlineData("a--__..b")]
    [InlineData("Friendly-Bard")]
    [InlineData("1-2")]
    public void ValidNames(string name)
    {
        Assert.True(PackageName.IsValidPyPI(name));
    }

    // Rejected by PEP 508's ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$ (case-insensitive).
    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("_a")]
    [InlineData("a_")]
    [InlineData("-")]
    [InlineData("a b")]
    [InlineData(" a")]
    [InlineData("a\n")]
    [InlineData("a/b")]
    [InlineData("a+b")]
    [InlineData("a@b")]
    [InlineData("é")]
    [InlineData("ａ")]
    [InlineData("٣")]
    public void InvalidNames(string name)
    {
        Assert.False(PackageName.IsValidPyPI(name));
    }

    [Fact]
    public void NullIsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => PackageName.NormalizePyPI(null!));
        Assert.False(PackageName.IsValidPyPI(null!));
    }
}
