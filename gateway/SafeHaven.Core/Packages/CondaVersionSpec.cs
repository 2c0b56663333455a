using System.Diagnostics.CodeAnalysis;

namespace SafeHaven.Core.Packages;

/// <summary>
/// The version part of a conda MatchSpec (<c>&gt;=1.2,&lt;2|3.*</c>), parsed and matched as rattler does in its
/// lenient mode (the mode it reads repodata and user specs in), so a dependency closure computed here agrees with
/// what a client solves. Alternatives with <c>|</c>, conjunctions with <c>,</c> (binding tighter), parentheses;
/// constraints <c>*</c>, <c>==v</c>, <c>!=v</c>, <c>&lt;</c> <c>&lt;=</c> <c>&gt;</c> <c>&gt;=</c>, <c>~=v</c>,
/// <c>=v</c> and <c>v.*</c>/<c>v*</c> (starts with), <c>!=v.*</c> (does not start with), and a bare <c>v</c>, which
/// rattler reads as <c>==v</c>. Globs after a range operator are dropped (<c>&gt;=1.2.*</c> is <c>&gt;=1.2</c>, and
/// <c>&gt;1.2.*</c> is too); regular expressions (<c>^...$</c>) are refused.
/// Two documented differences from rattler: surrounding whitespace is trimmed, and an empty spec means any version
/// (rattler refuses both in a bare version spec; a MatchSpec without a version matches any).
/// </summary>
public sealed class CondaVersionSpec
{
    private const int MaxLength = 4096;
    private const int MaxDepth = 64;

    private readonly Node _root;

    private CondaVersionSpec(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The spec as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>Whether the spec matches every version (<c>*</c>, or empty).</summary>
    public bool IsAny => _root is AnyNode;

    public static CondaVersionSpec Parse(string text) =>
        TryParse(text, out var spec, out var error) ? spec : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out CondaVersionSpec? spec) => TryParse(text, out spec, out _);

    /// <summary>Parses a version spec; on failure <paramref name="error"/> says what is wrong and where.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CondaVersionSpec? spec, [NotNullWhen(false)] out string? error)
    {
        spec = null;
        if (text is null)
        {
            error = "a conda version spec is required.";
            return false;
        }
        var trimmed = text.Trim();
        if (trimmed.Length > MaxLength)
        {
            error = $"the conda version spec is longer than {MaxLength} characters.";
            return false;
        }
        if (trimmed.Length == 0)
        {
            spec = new CondaVersionSpec(trimmed, AnyNode.Instance);
            error = null;
            return true;
        }
        var parser = new Parser(trimmed);
        if (!parser.TryParse(out var root, out error))
        {
            error = $"'{trimmed}' is not a valid conda version spec: {error}.";
            return false;
        }
        spec = new CondaVersionSpec(trimmed, root);
        return true;
    }

    public bool Matches(CondaVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return _root.Matches(version);
    }

    public override string ToString() => Text;

    private abstract class Node
    {
        public abstract bool Matches(CondaVersion version);
    }

    private sealed class AnyNode : Node
    {
        public static readonly AnyNode Instance = new();

        public override bool Matches(CondaVersion version) => true;
    }

    private sealed class ComparisonNode(string op, CondaVersion limit) : Node
    {
        public override bool Matches(CondaVersion version) => op switch
        {
            ">" => version > limit,
            ">=" => version >= limit,
            "<" => version < limit,
            "<=" => version <= limit,
            "==" => version.EqualsExactly(limit),
            "!=" => !version.EqualsExactly(limit),
            "~=" => version.IsCompatibleWith(limit),
            "=" => version.StartsWith(limit),
            "!=startswith" => !version.StartsWith(limit),
            _ => throw new InvalidOperationException($"unknown conda version operator '{op}'"),
        };
    }

    private sealed class GroupNode(bool all, Node[] members) : Node
    {
        public override bool Matches(CondaVersion version) =>
            all ? members.All(m => m.Matches(version)) : members.Any(m => m.Matches(version));
    }

    private sealed class SpecSyntaxException(string message) : Exception(message);

    /// <summary>
    /// rattler's two steps: a tree of terms joined by <c>|</c> and <c>,</c> (whitespace allowed around those and
    /// inside parentheses), then each term read as one constraint (no whitespace inside it).
    /// </summary>
    private sealed class Parser(string text)
    {
        private int _position;
        private int _depth;

        public bool TryParse([NotNullWhen(true)] out Node? root, [NotNullWhen(false)] out string? error)
        {
            root = null;
            try
            {
                var node = ParseOr();
                if (_position != text.Length)
                {
                    throw new SpecSyntaxException($"unexpected '{text[_position]}' at position {_position + 1}");
                }
                root = node;
                error = null;
                return true;
            }
            catch (SpecSyntaxException e)
            {
                error = e.Message;
                return false;
            }
        }

        private Node ParseOr() => ParseList('|', ParseAnd, all: false);

        private Node ParseAnd() => ParseList(',', ParseTerm, all: true);

        private Node ParseList(char separator, Func<Node> item, bool all)
        {
            var members = new List<Node> { item() };
            while (true)
            {
                var save = _position;
                SkipWhitespace();
                if (_position < text.Length && text[_position] == separator)
                {
                    _position++;
                    SkipWhitespace();
                    members.Add(item());
                    continue;
                }
                _position = save;
                break;
            }
            if (members.Count == 1)
            {
                return members[0];
            }
            return new GroupNode(all, [.. members]);
        }

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private Node ParseTerm()
        {
            if (_position >= text.Length)
            {
                throw new SpecSyntaxException($"expected a version constraint at position {_position + 1}");
            }
            var c = text[_position];
            if (c == '(')
            {
                if (++_depth > MaxDepth)
                {
                    throw new SpecSyntaxException($"parentheses nested deeper than {MaxDepth}");
                }
                _position++;
                SkipWhitespace();
                var inner = ParseOr();
                SkipWhitespace();
                if (_position >= text.Length || text[_position] != ')')
                {
                    throw new SpecSyntaxException($"expected ')' at position {_position + 1}");
                }
                _position++;
                _depth--;
                return inner;
            }
            if (c == '*')
            {
                _position++;
                if (string.CompareOrdinal(text, _position, ".*", 0, 2) == 0)
                {
                    _position += 2;
                }
                return AnyNode.Instance;
            }
            if (c == '$' || c == '^')
            {
                throw new SpecSyntaxException($"regular expressions are not supported (at position {_position + 1})");
            }
            if (char.IsWhiteSpace(c))
            {
                throw new SpecSyntaxException($"unexpected whitespace at position {_position + 1}");
            }
            var start = _position;
            var op = CondaVersionSyntax.OperatorAt(text, _position);
            _position += op?.Length ?? 0;
            if (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                throw new SpecSyntaxException($"whitespace between the operator '{op}' and its version at position {_position + 1}");
            }
            if (!CondaVersionSyntax.TryRecognizeVersion(text, ref _position, out var syntaxError))
            {
                var what = _position < text.Length ? $", found '{text[_position]}'" : "";
                throw new SpecSyntaxException(syntaxError ?? (op is null
                    ? $"expected a version at position {_position + 1}{what}"
                    : $"expected a version after '{op}' at position {_position + 1}{what}"));
            }
            CondaVersionSyntax.SkipGlobTail(text, ref _position);
            return ParseConstraint(op, text[(start + (op?.Length ?? 0)).._position]);
        }

        // One constraint: the operator (or none) and a version with an optional glob, mapped as rattler's lenient
        // constraint parser maps them.
        private static Node ParseConstraint(string? op, string versionText)
        {
            if (versionText == "*")
            {
                return op is ">=" or "<=" or "~=" or "=" or "=="
                    ? AnyNode.Instance
                    : throw new SpecSyntaxException($"'*' cannot follow the operator '{op}'");
            }
            if (!CondaVersion.TryParsePrefix(versionText, out var version, out var end, out var error))
            {
                throw new SpecSyntaxException(error.TrimEnd('.'));
            }
            var rest = versionText[end..];
            string resolved;
            if (rest.Length == 0)
            {
                resolved = op ?? "==";
            }
            else if (op is ">=" or ">" && IsStarOrStarDotStar(rest))
            {
                resolved = ">=";
            }
            else if (op == "!=" && rest is "*" or ".*")
            {
                resolved = "!=startswith";
            }
            else if (op is not null && IsStarOrStarDotStar(rest))
            {
                resolved = op;
            }
            else if (op is null && (rest is "*" or ".*" || LooksLikeInfiniteStartsWith(rest)))
            {
                resolved = "=";
            }
            else if (versionText.Contains('*', StringComparison.Ordinal))
            {
                throw new SpecSyntaxException($"'{versionText}' has a '*' that is not a trailing glob (regular expressions are not supported)");
            }
            else
            {
                throw new SpecSyntaxException($"'{versionText}' is not a version: '{rest}' cannot follow '{version.Text}'");
            }
            return new ComparisonNode(resolved, version);
        }

        private static bool IsStarOrStarDotStar(string rest)
        {
            if (rest == "*")
            {
                return true;
            }
            while (rest.EndsWith(".*", StringComparison.Ordinal))
            {
                rest = rest[..^2];
            }
            return rest.Length == 0;
        }

        // "2023.*.*" (seen in real repodata) is read as "2023.*".
        private static bool LooksLikeInfiniteStartsWith(string rest)
        {
            if (rest.EndsWith('.'))
            {
                rest = rest[..^1];
            }
            if (rest.Length == 0)
            {
                return false;
            }
            while (rest.EndsWith(".*", StringComparison.Ordinal))
            {
                rest = rest[..^2];
            }
            return rest.Length == 0;
        }
    }
}
