using System.Text;
using SafeHaven.Core.Packages;

namespace SafeHaven.Gateway.Ecosystems.Apt.Debian;

/// <summary>The version relations of Debian policy 7.1.</summary>
public enum RelationOperator
{
    /// <summary><c>&lt;&lt;</c>: strictly earlier.</summary>
    Earlier,
    /// <summary><c>&lt;=</c> (also the obsolete <c>&lt;</c>, which dpkg still reads so).</summary>
    EarlierOrEqual,
    /// <summary><c>=</c>: exactly equal.</summary>
    Equal,
    /// <summary><c>&gt;=</c> (also the obsolete <c>&gt;</c>, which dpkg still reads so).</summary>
    LaterOrEqual,
    /// <summary><c>&gt;&gt;</c>: strictly later.</summary>
    Later,
}

/// <summary>
/// One relation of a dependency field: <c>name[:arch-qualifier] [(op version)]</c>. <see cref="ArchQualifier"/> is
/// null, <c>any</c>, <c>native</c> or an architecture name.
/// </summary>
public sealed record AptRelation(string Name, string? ArchQualifier, RelationOperator? Operator, DebianVersion? Version)
{
    /// <summary>Whether <paramref name="candidate"/> satisfies the version part (always, when there is none).</summary>
    public bool VersionMatches(DebianVersion candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (Operator is not { } op || Version is null)
        {
            return true;
        }
        var order = candidate.CompareTo(Version);
        return op switch
        {
            RelationOperator.Earlier => order < 0,
            RelationOperator.EarlierOrEqual => order <= 0,
            RelationOperator.Equal => order == 0,
            RelationOperator.LaterOrEqual => order >= 0,
            RelationOperator.Later => order > 0,
            _ => false,
        };
    }

    /// <summary>The relation in control-file syntax: <c>libc6:any (&gt;= 2.36)</c>.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Name);
        if (ArchQualifier is not null)
        {
            builder.Append(':').Append(ArchQualifier);
        }
        if (Operator is { } op && Version is not null)
        {
            builder.Append(" (").Append(AptRelations.Symbol(op)).Append(' ').Append(Version.Text).Append(')');
        }
        return builder.ToString();
    }
}

/// <summary>
/// Parses dependency fields (<c>Depends</c>, <c>Pre-Depends</c>, <c>Provides</c>, ...; Debian policy 7.1) into groups
/// of alternatives: <c>a (&gt;= 1) | b:any, c [amd64] &lt;!nocheck&gt;</c> is <c>[[a, b], [c]]</c>.
/// <list type="bullet">
/// <item>White space (spaces, tabs, the line breaks of continuation lines) may appear between any two tokens, or
/// none: <c>a(&gt;=1)</c> reads like <c>a (&gt;= 1)</c>.</item>
/// <item>Names use policy 5.6.1's characters (lower-case letters, digits, <c>+ - .</c>, starting with a letter or
/// digit); versions are <see cref="DebianVersion"/>s; operators <c>&lt;&lt; &lt;= = &gt;= &gt;&gt;</c> and
/// the obsolete <c>&lt;</c>/<c>&gt;</c>, read as dpkg reads them (<c>&lt;=</c>/<c>&gt;=</c>).</item>
/// <item>Architecture restrictions <c>[amd64 linux-any]</c> or <c>[!i386]</c> (all negated or none) and build-profile
/// formulas <c>&lt;!nocheck&gt; &lt;stage1 cross&gt;</c> are evaluated for <c>architecture</c> with no build profile
/// active (the case of installing binary packages): a relation they exclude is dropped, and a group left empty is
/// dropped, as dpkg reduces such fields. Architecture wildcards match by the Debian tuple (<c>linux-any</c>,
/// <c>any-amd64</c>, <c>any</c>), with <c>amd64</c> standing for <c>linux-amd64</c>.</item>
/// <item>Anything else (an empty alternative, <c>a,,b</c>, an unclosed parenthesis, a bad version) is a
/// <see cref="FormatException"/> naming the offending part.</item>
/// </list>
/// </summary>
public static class AptRelations
{
    public static IReadOnlyList<IReadOnlyList<AptRelation>> Parse(string? field, string architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (string.IsNullOrWhiteSpace(field))
        {
            return [];
        }
        var groups = new List<IReadOnlyList<AptRelation>>();
        var scanner = new Scanner(field);
        while (true)
        {
            var group = new List<AptRelation>();
            while (true)
            {
                if (ParseRelation(scanner, architecture) is { } relation)
                {
                    group.Add(relation);
                }
                scanner.SkipSpace();
                if (scanner.TryTake('|'))
                {
                    continue;
                }
                break;
            }
            if (group.Count > 0)
            {
                groups.Add(group);
            }
            scanner.SkipSpace();
            if (scanner.AtEnd)
            {
                break;
            }
            if (!scanner.TryTake(','))
            {
                throw scanner.Error("expected ',' or '|' between relations");
            }
        }
        return groups;
    }

    /// <summary>
    /// Parses a <c>Provides</c> field: a comma-separated list without alternatives whose versions, if any, use
    /// <c>=</c> (policy 7.5; a versioned Provides satisfies versioned dependencies).
    /// </summary>
    public static IReadOnlyList<AptRelation> ParseProvides(string? field, string architecture)
    {
        var provides = new List<AptRelation>();
        foreach (var group in Parse(field, architecture))
        {
            if (group.Count != 1)
            {
                throw new FormatException($"Provides '{field}' has alternatives ('|'), which policy 7.5 does not allow");
            }
            var relation = group[0];
            if (relation.Operator is { } op && op != RelationOperator.Equal)
            {
                throw new FormatException($"Provides '{relation}' uses '{Symbol(op)}'; a versioned Provides must use '='");
            }
            if (relation.ArchQualifier is not null)
            {
                throw new FormatException($"Provides '{relation}' has an architecture qualifier, which Provides may not carry");
            }
            provides.Add(relation);
        }
        return provides;
    }

    public static string Symbol(RelationOperator op) => op switch
    {
        RelationOperator.Earlier => "<<",
        RelationOperator.EarlierOrEqual => "<=",
        RelationOperator.Equal => "=",
        RelationOperator.LaterOrEqual => ">=",
        RelationOperator.Later => ">>",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>A group of alternatives in control-file syntax: <c>a (&gt;= 1) | b</c>.</summary>
    public static string Format(IEnumerable<AptRelation> group) => string.Join(" | ", group);

    /// <summary>
    /// Policy 5.6.1's characters: lower-case letters, digits and <c>+ - .</c>, starting with a letter or digit. Policy
    /// also asks for two characters at least; dpkg and apt accept one, and so does this.
    /// </summary>
    public static bool IsValidName(string name) =>
        name.Length >= 1
        && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '+' or '-' or '.');

    /// <summary>Whether <paramref name="pattern"/> (an architecture or wildcard of a restriction list) matches <paramref name="architecture"/>.</summary>
    public static bool ArchitectureMatches(string pattern, string architecture)
    {
        if (pattern == "any" || pattern == architecture)
        {
            return true;
        }
        var (os, cpu) = Tuple(architecture);
        var dash = pattern.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return false;
        }
        var (patternOs, patternCpu) = (pattern[..dash], pattern[(dash + 1)..]);
        return (patternOs == "any" || patternOs == os) && (patternCpu == "any" || patternCpu == cpu);
    }

    /// <summary>The (os, cpu) of a Debian architecture: <c>amd64</c> is linux/amd64, <c>hurd-i386</c> is hurd/i386.</summary>
    private static (string Os, string Cpu) Tuple(string architecture)
    {
        var dash = architecture.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? ("linux", architecture) : (architecture[..dash], architecture[(dash + 1)..]);
    }

    private static AptRelation? ParseRelation(Scanner scanner, string architecture)
    {
        scanner.SkipSpace();
        var name = scanner.TakeWhile(c => !char.IsWhiteSpace(c) && c is not (':' or '(' or '[' or '<' or ',' or '|' or ')' or ']' or '>'));
        if (name.Length == 0)
        {
            throw scanner.Error("expected a package name");
        }
        if (!IsValidName(name))
        {
            throw scanner.Error($"'{name}' is not a package name (policy 5.6.1: lower-case letters, digits, '+', '-', '.', starting with a letter or digit)");
        }
        string? qualifier = null;
        if (scanner.TryTake(':'))
        {
            qualifier = scanner.TakeWhile(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
            if (qualifier.Length == 0)
            {
                throw scanner.Error($"'{name}:' has no architecture qualifier after the colon");
            }
        }
        RelationOperator? op = null;
        DebianVersion? version = null;
        scanner.SkipSpace();
        if (scanner.TryTake('('))
        {
            scanner.SkipSpace();
            op = scanner.TakeWhile(c => c is '<' or '>' or '=') switch
            {
                "<<" => RelationOperator.Earlier,
                "<=" or "<" => RelationOperator.EarlierOrEqual,
                "=" => RelationOperator.Equal,
                ">=" or ">" => RelationOperator.LaterOrEqual,
                ">>" => RelationOperator.Later,
                var other => throw scanner.Error($"'{other}' is not a relation operator (<<, <=, =, >=, >>) in the version of '{name}'"),
            };
            scanner.SkipSpace();
            var text = scanner.TakeWhile(c => !char.IsWhiteSpace(c) && c is not (')' or '(' or ',' or '|'));
            if (!DebianVersion.TryParse(text, out version, out var error))
            {
                throw scanner.Error($"'{text}' in the relation on '{name}' is not a version: {error}");
            }
            scanner.SkipSpace();
            if (!scanner.TryTake(')'))
            {
                throw scanner.Error($"the version of '{name}' is not closed by ')'");
            }
            scanner.SkipSpace();
        }
        var applies = true;
        if (scanner.TryTake('['))
        {
            applies = ArchitectureListMatches(scanner, name, architecture);
            scanner.SkipSpace();
        }
        var formulaSeen = false;
        var formulaSatisfied = false;
        while (scanner.TryTake('<'))
        {
            formulaSeen = true;
            formulaSatisfied |= ProfileListSatisfied(scanner, name);
            scanner.SkipSpace();
        }
        return applies && (!formulaSeen || formulaSatisfied) ? new AptRelation(name, qualifier, op, version) : null;
    }

    private static bool ArchitectureListMatches(Scanner scanner, string name, string architecture)
    {
        var negated = 0;
        var plain = 0;
        var matched = false;
        while (true)
        {
            scanner.SkipSpace();
            if (scanner.TryTake(']'))
            {
                break;
            }
            var not = scanner.TryTake('!');
            var arch = scanner.TakeWhile(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
            if (arch.Length == 0)
            {
                throw scanner.Error($"expected an architecture or ']' in the architecture list of '{name}'");
            }
            if (not)
            {
                negated++;
            }
            else
            {
                plain++;
            }
            matched |= ArchitectureMatches(arch, architecture);
        }
        if (negated + plain == 0)
        {
            throw scanner.Error($"the architecture list of '{name}' is empty");
        }
        if (negated > 0 && plain > 0)
        {
            throw scanner.Error($"the architecture list of '{name}' mixes negated and plain architectures (policy 7.1)");
        }
        return negated > 0 ? !matched : matched;
    }

    /// <summary>One <c>&lt;...&gt;</c> list: satisfied when every term is, with no build profile active.</summary>
    private static bool ProfileListSatisfied(Scanner scanner, string name)
    {
        var satisfied = true;
        var terms = 0;
        while (true)
        {
            scanner.SkipSpace();
            if (scanner.TryTake('>'))
            {
                break;
            }
            var not = scanner.TryTake('!');
            var profile = scanner.TakeWhile(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.' or '+');
            if (profile.Length == 0)
            {
                throw scanner.Error($"expected a build profile or '>' in the restriction of '{name}'");
            }
            terms++;
            satisfied &= not; // no profile is active: "p" is false, "!p" true
        }
        if (terms == 0)
        {
            throw scanner.Error($"the build-profile restriction of '{name}' is empty");
        }
        return satisfied;
    }

    private sealed class Scanner(string text)
    {
        private int _position;

        public bool AtEnd => _position >= text.Length;

        public void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        public bool TryTake(char c)
        {
            if (_position < text.Length && text[_position] == c)
            {
                _position++;
                return true;
            }
            return false;
        }

        public string TakeWhile(Func<char, bool> predicate)
        {
            var start = _position;
            while (_position < text.Length && predicate(text[_position]))
            {
                _position++;
            }
            return text[start.._position];
        }

        public FormatException Error(string message)
        {
            var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            var shown = flat.Length <= 200 ? flat : flat[..200] + "…";
            return new FormatException($"dependency field '{shown}': {message} (at character {_position + 1})");
        }
    }
}
