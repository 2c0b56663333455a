using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>
/// conda version specs, checked against rattler's own <c>VersionSpec</c> (lenient, as it reads repodata) and
/// <c>matches</c> in Node (see <see cref="RattlerOracle"/>): hand-written cases for each form, and thousands of
/// generated specs over generated versions.
/// </summary>
public sealed class CondaVersionSpecTests
{
    public static readonly TheoryData<string, string, bool> MatchCases = new()
    {
        { "*", "0.1a", true },
        { "*.*", "7", true },
        { "1.2", "1.2", true }, // a bare version is "==": rattler's lenient reading
        { "1.2", "1.2.0", true },
        { "1.2", "1.2.3", false },
        { "==1.2", "1.2.0", true },
        { "==1.2.*", "1.2.3", false }, // the glob after "==" is dropped
        { "!=1.3", "1.3.0", false },
        { "!=1.3", "1.3.1", true },
        { "!=1.3.*", "1.3.1", false },
        { "!=1.3*", "1.4", true },
        { ">=1.2,<2", "1.9.9", true },
        { ">=1.2,<2", "2.0a1", true }, // pre-releases of 2 sort before 2
        { ">=1.2,<2.0a0", "2.0a1", false },
        { ">=1.2 , <2", "1.5", true },
        { "1.2.*", "1.2.0", true },
        { "1.2.*", "1.2", true },
        { "1.2.*", "1.2.dev0", true },
        { "1.2.*", "1.20", false },
        { "1.2.*", "1.2a", false },
        { "1.2*", "1.2.7", true },
        { "=1.2", "1.2.7", true },
        { "2023.*.*", "2023.1.0", true },
        { ">=1.2.*", "1.3", true },
        { ">1.2.*", "1.2", true }, // rattler reads ">1.2.*" as ">=1.2"
        { ">=*", "0.0.1", true },
        { "~=1.2", "1.9", true },
        { "~=1.2", "2.0", false },
        { "~=1.2", "1.1", false },
        { "~=1.2.3", "1.2.9", true },
        { "~=1.2.3", "1.3.0", false },
        { ">=1,<2|3.*", "3.1", true },
        { ">=1,<2|3.*", "2.5", false },
        { "<0.5|>=1,<2", "0.4", true },
        { "(>=1|<0.5),!=1.3", "1.3", false },
        { "( >=1 | <0.5 ) , !=1.3", "0.1", true },
        { ">=2.17,<3.0.a0", "2.28", true },
        { ">=3.8,<3.12.0a0", "3.12.0rc1", false },
        { ">=1!1.0", "2.0", false },
        { "1.0+local", "1.0+LOCAL.0", true },
        { "==1.0_*", "1.0-", false }, // "==" tells '_' from '-' (the glob after "==" is dropped), the ordering does not
        { "==1.0_*", "1.0_", true },
        { "<=1.0_*", "1.0-", true },
    };

    [Theory]
    [MemberData(nameof(MatchCases))]
    public void Matches(string spec, string version, bool expected) =>
        Assert.Equal(expected, CondaVersionSpec.Parse(spec).Matches(CondaVersion.Parse(version)));

    [Fact]
    public void Rattler_agrees_with_the_match_cases()
    {
        var rows = MatchCases.Select(row => ((string)row[0], (string)row[1], (bool)row[2])).ToList();
        var answers = RattlerOracle.Ask([.. rows.Select(r => OracleCase.Matches(r.Item1, r.Item2))]);
        var disagreements = rows.Zip(answers)
            .Where(p => !p.Second.Ok || p.Second.Value.GetBoolean() != p.First.Item3)
            .Select(p => $"'{p.First.Item1}' on '{p.First.Item2}': rattler {(p.Second.Ok ? p.Second.Value.GetBoolean().ToString() : p.Second.Error)}")
            .ToList();
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements));
    }

    public static readonly TheoryData<string, string?> RefusedSpecs = new()
    {
        { ">= 1.2", "whitespace between the operator" },
        { "1.2 ", null }, // trimmed here: a documented difference (rattler refuses)
        { "^1.2$", "regular expressions are not supported" },
        { "1.*.2", "not a trailing glob" },
        { "1.2.*.*.3", "not a trailing glob" },
        { "=>1", "expected a version after '='" },
        { "<>1", "expected a version after '<'" },
        { "~1", "expected a version" },
        { "!=*", "'*' cannot follow the operator '!='" },
        { "<*", "'*' cannot follow the operator '<'" },
        { ">=1,", "expected a version constraint" },
        { "1.2|", "expected a version constraint" },
        { "(1.2", "expected ')'" },
        { "1.2)", "unexpected ')'" },
        { ">=1.2-", "unexpected '-'" },
        { "1..2", "'..2' cannot follow '1'" },
        { "1.2+", "expected a local version" },
        { ">=1!", "expected a version after '>='" },
        { "*1", "unexpected '1'" },
        { "1-2_3", "mixes '-' and '_'" },
    };

    [Theory]
    [MemberData(nameof(RefusedSpecs))]
    public void Refuses_with_a_precise_reason(string spec, string? reason)
    {
        if (reason is null)
        {
            Assert.True(CondaVersionSpec.TryParse(spec, out var trimmed));
            Assert.Equal(spec.Trim(), trimmed.Text);
            return;
        }
        Assert.False(CondaVersionSpec.TryParse(spec, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        var thrown = Assert.Throws<FormatException>(() => CondaVersionSpec.Parse(spec));
        Assert.Equal(error, thrown.Message);
    }

    [Fact]
    public void Rattler_refuses_the_refused_specs()
    {
        var specs = RefusedSpecs.Select(row => (string)row[0]).ToList();
        var answers = RattlerOracle.Ask([.. specs.Select(OracleCase.ParseSpec)]);
        var accepted = specs.Zip(answers).Where(p => p.Second.Ok).Select(p => $"'{p.First}' as {p.Second.Value}").ToList();
        Assert.True(accepted.Count == 0, "rattler accepts " + string.Join(", ", accepted));
    }

    /// <summary>A documented difference: an empty spec is "any version" (as a MatchSpec without one); rattler refuses "".</summary>
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_means_any(string spec)
    {
        var parsed = CondaVersionSpec.Parse(spec);
        Assert.True(parsed.IsAny);
        Assert.True(parsed.Matches(CondaVersion.Parse("0.0.1")));
    }

    [Fact]
    public void Null_is_not_a_spec() => Assert.False(CondaVersionSpec.TryParse(null, out _));

    /// <summary>
    /// Generates specs (single constraints with every operator and glob, groups with <c>,</c> and <c>|</c>, with and
    /// without parentheses and whitespace, and some malformed ones) over generated versions, and asks rattler in one
    /// Node process whether it accepts each spec and whether each matches versions near the ones it names. Every
    /// disagreement fails the test; the first few are listed.
    /// </summary>
    [Fact]
    public void Agrees_with_rattler_on_generated_specs()
    {
        var generator = new CondaVersionGenerator(1201);
        var versions = Enumerable.Range(0, 300).SelectMany(_ => generator.Neighbours(generator.Version()))
            .Where(t => CondaVersion.TryParse(t, out _)).Distinct(StringComparer.Ordinal).ToList();
        // Specs name versions that are valid, or nearly so (a glob-suffixed or trailing-underscore version).
        var specs = Enumerable.Range(0, 2500).Select(_ => generator.Spec(versions)).Distinct(StringComparer.Ordinal).ToList();
        var random = new Random(11);
        var cases = specs.Select(OracleCase.ParseSpec).ToList();
        foreach (var spec in specs.Where(s => CondaVersionSpec.TryParse(s, out _)))
        {
            var named = versions.Where(v => spec.Contains(v.TrimEnd('*', '.'), StringComparison.Ordinal)).Take(3).ToList();
            var near = named.SelectMany(generator.Neighbours).Where(t => CondaVersion.TryParse(t, out _));
            var any = Enumerable.Range(0, 3).Select(_ => versions[random.Next(versions.Count)]);
            cases.AddRange(near.Concat(any).Distinct(StringComparer.Ordinal).Select(v => OracleCase.Matches(spec, v)));
        }

        var answers = RattlerOracle.Ask(cases);

        var disagreements = new List<string>();
        int accepted = 0, refused = 0, matched = 0, unmatched = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var answer = answers[i];
            if (c.Kind == "spec")
            {
                var ours = CondaVersionSpec.TryParse(c.Text, out _, out var error);
                if (ours != answer.Ok)
                {
                    disagreements.Add($"{c}: rattler {(answer.Ok ? $"accepts as {answer.Value}" : $"refuses ({answer.Error})")}, we {(ours ? "accept" : $"refuse ({error})")}");
                }
                _ = answer.Ok ? accepted++ : refused++;
                continue;
            }
            var result = CondaVersionSpec.Parse(c.Spec!).Matches(CondaVersion.Parse(c.Version!));
            if (!answer.Ok || result != answer.Value.GetBoolean())
            {
                disagreements.Add($"{c}: rattler {(answer.Ok ? answer.Value.GetBoolean().ToString() : answer.Error)}, we {result}");
                continue;
            }
            _ = result ? matched++ : unmatched++;
        }

        Assert.True(disagreements.Count == 0,
            $"{disagreements.Count} disagreements with rattler in {cases.Count} checks, first ones:\n" + string.Join('\n', disagreements.Take(15)));
        Assert.True(cases.Count >= 5000, $"only {cases.Count} checks");
        Assert.True(refused >= 50, $"only {refused} refused specs");
        Assert.True(accepted >= 1000, $"only {accepted} accepted specs");
        Assert.True(matched >= 1000 && unmatched >= 1000, $"{matched} matches and {unmatched} mismatches: too one-sided");
    }
}
