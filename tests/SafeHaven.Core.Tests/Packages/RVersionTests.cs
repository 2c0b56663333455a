using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>Expected answers are R 4.2's own (<c>package_version(a) &lt; package_version(b)</c>).</summary>
public sealed class RVersionTests
{
    [Theory]
    [InlineData("1.0", "1.0.1", -1)]
    [InlineData("1.9", "1.10", -1)]
    [InlineData("2.0", "1.99.99", 1)]
    [InlineData("1.0", "1.0.0", 0)]
    [InlineData("1.0", "1.0.0.0", 0)]
    [InlineData("1.0.0", "1.0-0", 0)]
    [InlineData("1.0-1", "1.0.1", 0)]
    [InlineData("01.2", "1.2", 0)]
    [InlineData("0.9-10", "0.9.9", 1)]
    [InlineData("1.2-3", "1.2-10", -1)]
    [InlineData("4.2.2", "4.10.0", -1)]
    public void Orders_like_R(string left, string right, int expected)
    {
        var l = RVersion.Parse(left);
        var r = RVersion.Parse(right);
        Assert.Equal(expected, Math.Sign(l.CompareTo(r)));
        Assert.Equal(-expected, Math.Sign(r.CompareTo(l)));
        if (expected == 0)
        {
            Assert.Equal(l, r);
            Assert.Equal(l.GetHashCode(), r.GetHashCode());
        }
    }

    [Theory]
    [InlineData("1.0a")]
    [InlineData("")]
    [InlineData("1..0")]
    [InlineData("1.0-")]
    [InlineData("v1.0")]
    [InlineData("1.0 beta")]
    public void Rejects_what_R_rejects(string text) => Assert.False(RVersion.TryParse(text, out _));

    [Fact]
    public void Keeps_the_upstream_spelling_for_file_names() => Assert.Equal("1.0-3", RVersion.Parse("1.0-3").ToString());

    [Theory]
    [InlineData("1.5", ">=", "1.5", true)]
    [InlineData("1.4.9", ">=", "1.5", false)]
    [InlineData("2.0", ">", "2.0.0", false)]
    [InlineData("2.0", "<", "2.0.1", true)]
    [InlineData("2.0", "<=", "2.0-0", true)]
    [InlineData("2.0", "==", "2.0.0", true)]
    [InlineData("2.0", "!=", "2.0.0", false)]
    public void Satisfies_constraints(string version, string op, string bound, bool expected) =>
        Assert.Equal(expected, RVersion.Parse(version).Satisfies(op, RVersion.Parse(bound)));

    [Fact]
    public void Sorts_newest_last()
    {
        var sorted = new[] { "1.10", "1.9", "1.0-2", "0.99" }.Select(RVersion.Parse).Order().Select(v => v.ToString());
        Assert.Equal(["0.99", "1.0-2", "1.9", "1.10"], sorted);
    }
}
