using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Tests.Metadata;

public sealed class VersionStringTests
{
    [Theory]
    [InlineData("1.2.3", 1L, false, true)]
    [InlineData("2.0.0rc1", 2L, true, true)]
    [InlineData("0.2.1.post6", 0L, false, true)]
    [InlineData("2.16.0.dev20240103", 2L, true, true)]
    [InlineData("1:1.2.13.dfsg-1", 1L, true, false)]
    [InlineData("99.7", 99L, false, true)]
    public void Parses_release_and_kind(string text, long major, bool pre, bool pep440)
    {
        var v = VersionString.Parse(text);
        Assert.Equal(major, v.Major);
        Assert.Equal(pre, v.IsPreRelease);
        Assert.Equal(pep440, v.IsPep440);
    }

    [Fact]
    public void Picks_the_highest_version()
    {
        Assert.Equal("10.0.0", VersionString.Highest(["9.9", "10.0.0", "10.0.0rc1", "2"]));
        Assert.Null(VersionString.Highest([]));
    }
}
