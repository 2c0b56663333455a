using System.Text;

namespace SafeHaven.Core.Tests.Packages;

/// <summary>
/// Seeded generator of conda version strings and version specs built from the parts real conda-forge versions are
/// made of (epochs, numbers with and without leading zeros, pre-release letters in both cases, <c>dev</c>,
/// <c>post</c>, <c>rc</c>, <c>_</c> and <c>-</c> separators, the openssl-style trailing underscore, local versions,
/// trailing zeros) plus a share of malformed strings, so that both what rattler accepts and what it refuses are checked.
/// </summary>
internal sealed class CondaVersionGenerator(int seed)
{
    private static readonly string[] Numbers = ["0", "0", "1", "1", "2", "3", "9", "10", "01", "00", "2023", "18446744073709551616"];
    private static readonly string[] Letters = ["a", "b", "c", "rc", "RC", "alpha", "Beta", "dev", "DEV", "post", "Post", "g", "z", "devel", "postfix", "pre"];
    private static readonly string[] Broken = ["..", ".", "+", "!", "*", " ", "_", "-", "é", "$", ",", "=", "+.", "!!"];

    private readonly Random _random = new(seed);

    public string Version()
    {
        var builder = new StringBuilder();
        if (_random.Next(8) == 0)
        {
            builder.Append(Pick(["0", "1", "2", "10"])).Append('!');
        }
        var separator = Pick([".", ".", ".", ".", "_", "-"]);
        AppendSegments(builder, separator);
        if (_random.Next(10) == 0)
        {
            builder.Append(Pick(["_", "-", "__", "._", ".-"]));
        }
        if (_random.Next(6) == 0)
        {
            builder.Append('+');
            AppendSegments(builder, _random.Next(3) == 0 ? separator : ".");
        }
        if (_random.Next(25) == 0)
        {
            // Malformed on purpose: rattler must refuse these and so must we.
            builder.Insert(_random.Next(builder.Length + 1), Pick(Broken));
        }
        if (_random.Next(40) == 0)
        {
            builder.Insert(_random.Next(builder.Length + 1), Pick(["_", "-"]));
        }
        return builder.ToString();
    }

    /// <summary>Versions near <paramref name="version"/>: trailing zeros, one more segment, pre- and post-releases.</summary>
    public IEnumerable<string> Neighbours(string version)
    {
        yield return version;
        yield return version + Pick([".0", ".0.0", "0", ".1", "1", "a", "a1", ".dev0", "dev", "post1", ".post", "rc1", "_", "+1", "+local.2", ".*"]);
        var cut = version.LastIndexOfAny(['.', '_', '-']);
        if (cut > 0)
        {
            yield return version[..cut];
        }
        if (!version.Contains('!', StringComparison.Ordinal) && _random.Next(4) == 0)
        {
            yield return "1!" + version;
        }
    }

    public string Spec(IReadOnlyList<string> versions)
    {
        var depth = _random.Next(3);
        return Expression(versions, depth);
    }

    private string Expression(IReadOnlyList<string> versions, int depth)
    {
        if (depth == 0 || _random.Next(3) == 0)
        {
            return Constraint(versions);
        }
        var count = 2 + _random.Next(2);
        var or = _random.Next(2) == 0;
        var parts = Enumerable.Range(0, count).Select(_ =>
        {
            var inner = Expression(versions, depth - 1);
            return _random.Next(4) == 0 ? $"({inner})" : inner;
        });
        var joiner = or ? Pick(["|", "|", " | ", "| "]) : Pick([",", ",", ", ", " ,"]);
        return string.Join(joiner, parts);
    }

    private string Constraint(IReadOnlyList<string> versions)
    {
        if (_random.Next(25) == 0)
        {
            return Pick(["*", "*.*", ">=*", "<*", "!=*", "==*", "=*", "~=*", "^1.2$", "1.*.2", ">= 1.2", "=>1", "<>1", "~1", "1.2 .*"]);
        }
        var version = versions[_random.Next(versions.Count)];
        var op = Pick(["", "", "", "==", "!=", "<", "<=", ">", ">=", ">=", "<", "~=", "="]);
        var glob = _random.Next(3) == 0 ? Pick([".*", "*", ".*.*", ".*.", "*.*"]) : "";
        return op + version + glob;
    }

    private void AppendSegments(StringBuilder builder, string separator)
    {
        var segments = 1 + _random.Next(4);
        for (var s = 0; s < segments; s++)
        {
            if (s > 0)
            {
                builder.Append(_random.Next(12) == 0 ? Pick([".", "_", "-"]) : separator);
            }
            var components = 1 + (_random.Next(3) == 0 ? _random.Next(3) : 0);
            for (var c = 0; c < components; c++)
            {
                var letters = (c % 2 == 1) ^ (_random.Next(5) == 0);
                builder.Append(letters ? Pick(Letters) : Pick(Numbers[..^1]));
            }
            if (_random.Next(200) == 0)
            {
                builder.Append(Numbers[^1]); // too large for a u64: rattler refuses it
            }
        }
    }

    private string Pick(string[] choices) => choices[_random.Next(choices.Length)];
}
