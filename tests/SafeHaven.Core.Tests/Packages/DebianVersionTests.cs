using System.Diagnostics;
using System.Text;
using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>
/// Debian version ordering, checked against the real <c>dpkg --compare-versions</c> (Debian's dpkg, installed by
/// tests/run.sh) on versions generated at test time, and against the examples of Debian policy 5.6.12.
/// </summary>
public sealed class DebianVersionTests
{
    // Policy 5.6.12: "~~" < "~~a" < "~" < "" < "a", and the other rules it spells out.
    [Theory]
    [InlineData("1.0~~", "1.0~~a", -1)]
    [InlineData("1.0~~a", "1.0~", -1)]
    [InlineData("1.0~", "1.0", -1)]
    [InlineData("1.0", "1.0a", -1)]
    [InlineData("1.0~rc1-1", "1.0-1", -1)]
    [InlineData("1.0", "1.0-0", 0)]
    [InlineData("1.0-0", "1.0-0.0", -1)]
    [InlineData("0:1.0", "1.0", 0)]
    [InlineData("1.00", "1.0", 0)]
    [InlineData("1:0.1", "9.9", 1)]
    [InlineData("2:1.0", "10:0.1", -1)]
    [InlineData("1.9", "1.10", -1)]
    [InlineData("1.0+dfsg", "1.0", 1)]
    [InlineData("1.0+1", "1.0.1", -1)] // '+' sorts before '.'
    [InlineData("1.0a", "1.0+", -1)] // letters sort before non-letters
    [InlineData("1.0-1", "1.0-1+b1", -1)]
    [InlineData("1.0-1ubuntu1", "1.0-1", 1)]
    [InlineData("1.0-1~bpo12+1", "1.0-1", -1)]
    [InlineData("1:2.36-9+deb12u4", "1:2.36-9+deb12u10", -1)]
    [InlineData("1.2.3-4-5", "1.2.3-4", 1)] // the revision is after the last hyphen
    [InlineData("12345678901234567890123", "12345678901234567890124", -1)] // digit runs of any length
    [InlineData("1A", "1a", -1)] // ASCII order among letters
    public void Orders_like_policy(string left, string right, int expected)
    {
        var l = DebianVersion.Parse(left);
        var r = DebianVersion.Parse(right);
        Assert.Equal(expected, Math.Sign(l.CompareTo(r)));
        Assert.Equal(-expected, Math.Sign(r.CompareTo(l)));
        Assert.Equal(expected, Math.Sign(DebianVersion.Compare(left, right)));
        Assert.Equal(expected == 0, l == r);
        if (expected == 0)
        {
            Assert.Equal(l.GetHashCode(), r.GetHashCode());
        }
    }

    [Theory]
    [InlineData("1:2.0-3", 1, "2.0", "3")]
    [InlineData("2.0", 0, "2.0", "")]
    [InlineData("1:2.0-rc-3", 1, "2.0-rc", "3")]
    [InlineData("1:2:3-4", 1, "2:3", "4")]
    [InlineData("  1.0-1 ", 0, "1.0", "1")]
    public void Splits_epoch_upstream_and_revision(string text, int epoch, string upstream, string revision)
    {
        var version = DebianVersion.Parse(text);
        Assert.Equal((epoch, upstream, revision), (version.Epoch, version.Upstream, version.Revision));
        Assert.Equal(text.Trim(), version.ToString());
    }

    // dpkg's own messages for what it refuses; invalid characters and a non-digit start are warnings in dpkg, errors here.
    [Theory]
    [InlineData("", "version string is empty")]
    [InlineData("1.0 1", "embedded spaces")]
    [InlineData(":1.0", "epoch in version is empty")]
    [InlineData("x:1.0", "epoch in version is not number")]
    [InlineData("-1:1.0", "epoch in version is negative")]
    [InlineData("99999999999:1.0", "epoch in version is too big")]
    [InlineData("1:", "version number is empty")]
    [InlineData("-1", "version number is empty")]
    [InlineData("1.0-", "revision number is empty")]
    [InlineData("a1.0", "does not start with digit")]
    [InlineData("1.0_1", "invalid character '_' in version number")]
    [InlineData("1.0-1_2", "invalid character '_' in revision number")]
    public void Rejects_with_dpkg_reasons(string text, string reason)
    {
        Assert.False(DebianVersion.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => DebianVersion.Parse(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_is_not_a_version() => Assert.False(DebianVersion.TryParse(null, out _));

    [Fact]
    public void Sorts_with_the_comparison()
    {
        var sorted = new[] { "1.0", "1:0.1", "1.0~rc1", "1.0-1", "0.9" }.Select(DebianVersion.Parse).Order().Select(v => v.ToString());
        Assert.Equal(["0.9", "1.0~rc1", "1.0", "1.0-1", "1:0.1"], sorted);
    }

    /// <summary>
    /// Generates versions rich in what the algorithm turns on (epochs with and without <c>0:</c>, <c>~</c>, <c>+</c>,
    /// <c>.</c>, letters of both cases, leading zeros, hyphens inside upstream, no revision against <c>-0</c>), sorts
    /// them with <see cref="DebianVersion"/> and asks dpkg about every adjacent pair (<c>lt</c> or <c>eq</c>). dpkg's
    /// order is total, so agreeing on each adjacent pair means agreeing on every one of the ~N²/2 pairs while
    /// costing N dpkg runs (one fork each, in one shell), which keeps the test near ten seconds on a loaded machine.
    /// A second batch asks dpkg directly about random pairs, to check the comparison without the sort in between.
    /// </summary>
    [Fact]
    public void Agrees_with_dpkg_compare_versions_on_generated_versions()
    {
        var random = new Random(20261201);
        var versions = Enumerable.Range(0, 360).Select(_ => Generate(random)).Distinct(StringComparer.Ordinal).ToList();
        var sorted = versions.Select(DebianVersion.Parse).Order().ToList();
        var adjacent = new List<(string A, string Op, string B)>();
        for (var i = 0; i + 1 < sorted.Count; i++)
        {
            var order = sorted[i].CompareTo(sorted[i + 1]);
            Assert.True(order <= 0);
            adjacent.Add((sorted[i].Text, order == 0 ? "eq" : "lt", sorted[i + 1].Text));
            if (order == 0)
            {
                Assert.Equal(sorted[i].GetHashCode(), sorted[i + 1].GetHashCode());
            }
        }
        var direct = Enumerable.Range(0, 120).Select(_ => (versions[random.Next(versions.Count)], versions[random.Next(versions.Count)]))
            .Select(p => (p.Item1, DebianVersion.Compare(p.Item1, p.Item2) switch { < 0 => "lt", 0 => "eq", _ => "gt" }, p.Item2))
            .ToList();
        var checks = adjacent.Concat(direct).ToList();

        var disagreements = Dpkg(checks);

        Assert.True(adjacent.Count(c => c.Op == "eq") >= 5, "the generator should produce versions that compare equal (e.g. 1.0 and 1.0-0)");
        Assert.True(checks.Count >= 300);
        Assert.Empty(disagreements);
    }

    /// <summary>Runs <c>dpkg --compare-versions a op b</c> for each check in one shell; returns those dpkg answered false.</summary>
    private static List<string> Dpkg(IReadOnlyList<(string A, string Op, string B)> checks)
    {
        var input = new StringBuilder();
        foreach (var (a, op, b) in checks)
        {
            input.Append(a).Append(' ').Append(op).Append(' ').Append(b).Append('\n');
        }
        var start = new ProcessStartInfo("sh", ["-c", "while read a op b; do if dpkg --compare-versions \"$a\" \"$op\" \"$b\" 2>/dev/null; then echo yes; else echo \"no $a $op $b\"; fi; done"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start sh");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input.ToString());
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "dpkg --compare-versions did not finish");
        var lines = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == checks.Count, $"dpkg answered {lines.Length} of {checks.Count} checks: {errors.Result}");
        return lines.Where(l => l != "yes").ToList();
    }

    private static string Generate(Random random)
    {
        string[] upstreamTokens = ["0", "00", "1", "01", "2", "9", "10", "a", "b", "rc", "Z", ".", ".", "+", "~", "~"];
        string[] revisions = ["", "", "-0", "-1", "-1", "-01", "-1~bpo1", "-1+b1", "-1.1", "-0ubuntu1", "-a", "-1~", "-1.~1"];
        var epoch = random.Next(10) switch
        {
            0 => "0:",
            1 => "1:",
            2 => "2:",
            _ => "",
        };
        var upstream = new StringBuilder(random.Next(3) == 0 ? "0" : "1");
        var length = random.Next(0, 4);
        for (var i = 0; i < length; i++)
        {
            upstream.Append(upstreamTokens[random.Next(upstreamTokens.Length)]);
        }
        var revision = revisions[random.Next(revisions.Length)];
        if (revision.Length > 0 && random.Next(6) == 0)
        {
            upstream.Append("-2"); // a hyphen inside upstream, allowed when there is a revision
        }
        return epoch + upstream + revision;
    }
}
