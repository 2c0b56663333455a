using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>
/// conda version ordering, checked against rattler's own <c>Version.compare</c> and <c>Version.startsWith</c> (the npm
/// package <c>@conda-org/rattler</c> in Node, see <see cref="RattlerOracle"/>): the order documented for conda's
/// <c>VersionOrder</c> and rattler's <c>Version</c>, the openssl convention, PEP 440 style versions, malformed strings,
/// and thousands of generated versions.
/// </summary>
public sealed class CondaVersionTests
{
    // The order in rattler's Version docstring (itself conda's VersionOrder docstring): "<" means strictly older than
    // the line before, "==" equal to it.
    private static readonly string[] DocumentedOrder =
    [
        "0.4",
        "< 0.4.1.rc",
        "== 0.4.1.RC",
        "< 0.4.1",
        "< 0.5a1",
        "< 0.5b3",
        "< 0.5C1",
        "< 0.5",
        "< 0.9.6",
        "< 0.960923",
        "< 1.0",
        "< 1.1dev1",
        "< 1.1_",
        "< 1.1a1",
        "< 1.1.0dev1",
        "== 1.1.dev1",
        "< 1.1.a1",
        "< 1.1.0rc1",
        "< 1.1.0",
        "== 1.1",
        "< 1.1.0post1",
        "== 1.1.post1",
        "< 1.1post1",
        "< 1996.07.12",
        "< 1!0.4.1",
        "< 1!3.1.1.6",
        "< 2!0.4.1",
    ];

    // openssl's letters count up: the underscore keeps 1.0.1_ before 1.0.1a (from rattler's tests).
    private static readonly string[] OpensslOrder =
    [
        "1.0.1dev", "1.0.1_", "1.0.1a", "1.0.1b", "1.0.1c", "1.0.1d", "1.0.1r", "1.0.1rc", "1.0.1rc1", "1.0.1rc2",
        "1.0.1s", "1.0.1", "1.0.1post.a", "1.0.1post.b", "1.0.1post.z", "1.0.1post.za", "1.0.2",
    ];

    // PEP 440 style versions in conda's order (from the packaging test suite as conda and rattler adapt it).
    private static readonly string[] Pep440Order =
    [
        "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
        "1.0b2.post345", "1.0c1.dev456", "1.0c1", "1.0c3", "1.0rc2", "1.0.dev456", "1.0", "1.0.post456.dev34",
        "1.0.post456", "1.1.dev1", "1.2.r32+123456", "1.2.rev33+123456", "1.2+abc", "1.2+abc123def", "1.2+abc123",
        "1.2+123abc", "1.2+123abc456", "1.2+1234.abc", "1.2+123456", "1!1.0a1", "1!1.0", "1!1.2+123456",
    ];

    [Fact]
    public void Documented_order_holds_and_agrees_with_rattler()
    {
        var chain = DocumentedOrder.Select(line =>
        {
            var parts = line.Split(' ', 2);
            return parts.Length == 1 ? (Op: "", Text: parts[0]) : (Op: parts[0], Text: parts[1]);
        }).ToList();
        // Expected sign for every pair (i, j) from the chain's ranks.
        var ranks = new int[chain.Count];
        for (var i = 1; i < chain.Count; i++)
        {
            ranks[i] = chain[i].Op == "==" ? ranks[i - 1] : ranks[i - 1] + 1;
        }
        var texts = chain.Select(c => c.Text).ToList();
        AssertTotalOrder(texts, ranks);
    }

    [Fact]
    public void Openssl_convention_holds_and_agrees_with_rattler() =>
        AssertTotalOrder([.. OpensslOrder], Enumerable.Range(0, OpensslOrder.Length).ToArray());

    [Fact]
    public void Pep440_style_versions_sort_and_agree_with_rattler() =>
        AssertTotalOrder([.. Pep440Order], Enumerable.Range(0, Pep440Order.Length).ToArray());

    [Theory]
    [InlineData("1.0", "1.0.0")]
    [InlineData("1", "1.0.0.0")]
    [InlineData("01.002", "1.2")]
    [InlineData("1.2A", "1.2a")]
    [InlineData("0!1.0", "1.0")]
    [InlineData("1.1.dev1", "1.1.0dev1")]
    [InlineData("1.0+abc", "1.0.0+abc.0")]
    [InlineData("1.0-", "1.0_")] // ordered alike; not equal for "==" (see the spec tests)
    public void Equal_versions_compare_equal_and_hash_alike(string left, string right)
    {
        var l = CondaVersion.Parse(left);
        var r = CondaVersion.Parse(right);
        Assert.Equal(0, l.CompareTo(r));
        Assert.True(l == r);
        Assert.True(l.Equals((object)r));
        Assert.Equal(l.GetHashCode(), r.GetHashCode());
        Assert.Equal(left, l.Text);
    }

    public static readonly TheoryData<string, string> RefusedVersions = new()
    {
        { "", "cannot be empty" },
        { "1..0", "unexpected '.' at position 2" },
        { "1.0.", "unexpected '.' at position 4" },
        { "1.0+", "expected a version component" },
        { "+1", "expected a version component" },
        { "_1", "expected a version component" },
        { "1!", "expected a version component" },
        { "a!1", "unexpected '!'" },
        { "1!2!3", "unexpected '!'" },
        { "1-2_3", "mixes '-' and '_'" },
        { "1_0+a-b", "mixes '-' and '_'" },
        { "1.0*", "unexpected '*'" },
        { "1,0", "unexpected ','" },
        { "1.0+1+2", "unexpected '+'" },
        { "1.\u00e9", "unexpected" },
        { "1.0 1", "unexpected ' '" },
        { "18446744073709551616", "too large" },
        { "18446744073709551616!1", "epoch is too large" },
    };

    [Theory]
    [MemberData(nameof(RefusedVersions))]
    public void Refuses_with_a_precise_reason(string text, string reason)
    {
        Assert.False(CondaVersion.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => CondaVersion.Parse(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rattler_refuses_the_refused_versions()
    {
        var texts = RefusedVersions.Select(row => (string)row[0]).ToList();
        var answers = RattlerOracle.Ask([.. texts.Select(OracleCase.ParseVersion)]);
        var accepted = texts.Zip(answers).Where(p => p.Second.Ok).Select(p => $"'{p.First}'").ToList();
        Assert.True(accepted.Count == 0, "rattler accepts " + string.Join(", ", accepted));
    }

    [Fact]
    public void Null_is_not_a_version() => Assert.False(CondaVersion.TryParse(null, out _));

    /// <summary>A documented difference: rattler refuses surrounding whitespace; repodata values are trimmed here.</summary>
    [Fact]
    public void Surrounding_whitespace_is_trimmed()
    {
        var version = CondaVersion.Parse("  1.2.3\t");
        Assert.Equal("1.2.3", version.Text);
        Assert.Equal(CondaVersion.Parse("1.2.3"), version);
    }

    public static readonly TheoryData<string, string, bool> Prefixes = new()
    {
        { "1.2.3", "1.2", true },
        { "1.2", "1.2.0", true },
        { "1.2.dev0", "1.2", true },
        { "1.20", "1.2", false },
        { "1.2a", "1.2", false },
        { "1.2+3.4", "1.2+3", true },
        { "1.2", "1.2+3", false },
        { "1!1.2", "1.2", false },
        { "1.2a0", "1.2a", true },
        { "1.2a", "1.2a0", false },
        { "9_pre", "9_pre0", false },
        { "1.2", "1.2.0.0", true },
        { "1.2", "1.2.0a", false },
        { "1.2.a", "1.2.0", false },
        { "1.0_", "1.0", false },
        { "1.2", "1.2+0", true },
    };

    [Theory]
    [MemberData(nameof(Prefixes))]
    public void Starts_with(string version, string prefix, bool expected) =>
        Assert.Equal(expected, CondaVersion.Parse(version).StartsWith(CondaVersion.Parse(prefix)));

    [Fact]
    public void Rattler_agrees_with_the_prefix_cases()
    {
        var rows = Prefixes.Select(row => ((string)row[0], (string)row[1], (bool)row[2])).ToList();
        var answers = RattlerOracle.Ask([.. rows.Select(r => OracleCase.StartsWith(r.Item1, r.Item2))]);
        var disagreements = rows.Zip(answers)
            .Where(p => !p.Second.Ok || p.Second.Value.GetBoolean() != p.First.Item3)
            .Select(p => $"'{p.First.Item1}' starts with '{p.First.Item2}': rattler {(p.Second.Ok ? p.Second.Value.GetBoolean().ToString() : p.Second.Error)}")
            .ToList();
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements));
    }

    /// <summary>
    /// Generates versions (a seeded mix of realistic and malformed ones, and neighbours of each: trailing zeros, one
    /// more segment, pre/post/dev releases, local versions, epochs) and asks rattler, in one Node process, whether it
    /// accepts each, how every sampled pair compares, and whether one starts with the other. Every disagreement fails
    /// the test; the first few are listed.
    /// </summary>
    [Fact]
    public void Agrees_with_rattler_on_generated_versions()
    {
        var generator = new CondaVersionGenerator(20261201);
        var texts = Enumerable.Range(0, 700).SelectMany(_ => generator.Neighbours(generator.Version()))
            .Distinct(StringComparer.Ordinal).ToList();
        var parsed = texts.Select(t => CondaVersion.TryParse(t, out var v) ? v : null).ToList();
        var valid = texts.Where((_, i) => parsed[i] is not null).ToList();
        var random = new Random(7);
        var pairs = new List<(string A, string B)>();
        for (var i = 0; i < 4000; i++)
        {
            var a = valid[random.Next(valid.Count)];
            // Half the pairs are neighbours (generated together), where the interesting comparisons are.
            var j = valid.IndexOf(a);
            var b = random.Next(2) == 0 ? valid[random.Next(valid.Count)] : valid[Math.Clamp(j + random.Next(-3, 4), 0, valid.Count - 1)];
            pairs.Add((a, b));
        }

        var cases = texts.Select(OracleCase.ParseVersion)
            .Concat(pairs.Select(p => OracleCase.Compare(p.A, p.B)))
            .Concat(pairs.Select(p => OracleCase.StartsWith(p.A, p.B)))
            .ToList();
        var answers = RattlerOracle.Ask(cases);

        var disagreements = new List<string>();
        var accepted = 0;
        var refused = 0;
        var equal = 0;
        var started = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var answer = answers[i];
            switch (c.Kind)
            {
                case "version":
                    var ours = CondaVersion.TryParse(c.Text, out _, out var error);
                    if (ours != answer.Ok)
                    {
                        disagreements.Add($"{c}: rattler {(answer.Ok ? "accepts" : $"refuses ({answer.Error})")}, we {(ours ? "accept" : $"refuse ({error})")}");
                    }
                    if (answer.Ok)
                    {
                        accepted++;
                    }
                    else
                    {
                        refused++;
                    }
                    break;
                case "compare":
                    var a = CondaVersion.Parse(c.A!);
                    var b = CondaVersion.Parse(c.B!);
                    var sign = Math.Sign(a.CompareTo(b));
                    if (!answer.Ok || sign != answer.Value.GetInt32())
                    {
                        disagreements.Add($"{c}: rattler {(answer.Ok ? answer.Value.GetInt32().ToString() : answer.Error)}, we {sign}");
                    }
                    if (sign == 0)
                    {
                        equal++;
                        if (a.GetHashCode() != b.GetHashCode() || !a.Equals(b))
                        {
                            disagreements.Add($"{c}: compare equal but hash or Equals differ");
                        }
                    }
                    else if (a.Equals(b) || a == b)
                    {
                        disagreements.Add($"{c}: compare differs but Equals says equal");
                    }
                    break;
                case "startsWith":
                    var startsWith = CondaVersion.Parse(c.A!).StartsWith(CondaVersion.Parse(c.B!));
                    if (!answer.Ok || startsWith != answer.Value.GetBoolean())
                    {
                        disagreements.Add($"{c}: rattler {(answer.Ok ? answer.Value.GetBoolean().ToString() : answer.Error)}, we {startsWith}");
                    }
                    if (startsWith)
                    {
                        started++;
                    }
                    break;
            }
        }

        Assert.True(disagreements.Count == 0,
            $"{disagreements.Count} disagreements with rattler in {cases.Count} checks, first ones:\n" + string.Join('\n', disagreements.Take(15)));
        // The generator must exercise both sides of each question, or the agreement says little.
        Assert.True(cases.Count >= 9000, $"only {cases.Count} checks");
        Assert.True(refused >= 40, $"only {refused} malformed versions");
        Assert.True(accepted >= 1500, $"only {accepted} valid versions");
        Assert.True(equal >= 50, $"only {equal} equal pairs");
        Assert.True(started >= 100, $"only {started} prefix pairs");
    }

    /// <summary>Checks a chain against expected ranks here and in rattler, for every pair of the chain.</summary>
    private static void AssertTotalOrder(List<string> texts, int[] ranks)
    {
        var versions = texts.Select(CondaVersion.Parse).ToList();
        var cases = new List<OracleCase>();
        for (var i = 0; i < texts.Count; i++)
        {
            for (var j = 0; j < texts.Count; j++)
            {
                var expected = ranks[i].CompareTo(ranks[j]);
                Assert.True(expected == Math.Sign(versions[i].CompareTo(versions[j])), $"'{texts[i]}' vs '{texts[j]}': expected {expected}");
                Assert.Equal(expected == 0, versions[i] == versions[j]);
                cases.Add(OracleCase.Compare(texts[i], texts[j]));
            }
        }
        var answers = RattlerOracle.Ask(cases);
        var disagreements = cases.Zip(answers)
            .Where(p => !p.Second.Ok || Math.Sign(CondaVersion.Parse(p.First.A!).CompareTo(CondaVersion.Parse(p.First.B!))) != p.Second.Value.GetInt32())
            .Select(p => $"{p.First}: rattler {(p.Second.Ok ? p.Second.Value.GetInt32().ToString() : p.Second.Error)}")
            .ToList();
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements.Take(10)));
        var shuffled = versions.OrderBy(_ => Random.Shared.Next()).Order().Select(v => v.Text).ToList();
        for (var i = 1; i < shuffled.Count; i++)
        {
            Assert.True(ranks[texts.IndexOf(shuffled[i - 1])] <= ranks[texts.IndexOf(shuffled[i])], "sorting must follow the chain");
        }
    }
}
