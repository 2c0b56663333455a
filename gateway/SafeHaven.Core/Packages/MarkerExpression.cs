namespace SafeHaven.Core.Packages;

/// <summary>Three-valued truth: a marker on a variable the appliance does not know is <see cref="Unknown"/>.</summary>
public enum MarkerTruth
{
    False,
    True,
    Unknown,
}

/// <summary>
/// The environment a marker is evaluated in. Variables absent from <see cref="Variables"/> are unknown,
/// so markers on them evaluate to <see cref="MarkerTruth.Unknown"/> rather than to a guess.
/// </summary>
public sealed record MarkerEnvironment(IReadOnlyDictionary<string, string> Variables, IReadOnlySet<string> Extras)
{
    public static readonly MarkerEnvironment Empty = new(new Dictionary<string, string>(), new HashSet<string>());

    public MarkerEnvironment WithExtras(IEnumerable<string> extras) =>
        this with { Extras = extras.Select(PackageName.NormalizePyPI).ToHashSet(StringComparer.Ordinal) };
}

/// <summary>A parsed PEP 508 environment marker.</summary>
public abstract record MarkerExpression
{
    public static readonly IReadOnlySet<string> KnownVariables = new HashSet<string>(StringComparer.Ordinal)
    {
        "os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release",
        "platform_system", "platform_version", "python_version", "python_full_version", "implementation_name",
        "implementation_version", "extra",
        // Legacy spellings still found in old metadata.
        "os.name", "sys.platform", "platform.version", "platform.machine", "platform.python_implementation", "python_implementation",
    };

    public abstract MarkerTruth Evaluate(MarkerEnvironment environment);

    public static MarkerExpression Parse(string text) => new MarkerParser(text).ParseAll();

    /// <summary>Whether any comparison in the marker involves the variable <c>extra</c>.</summary>
    public abstract bool MentionsExtra { get; }

    internal sealed record Or(MarkerExpression Left, MarkerExpression Right) : MarkerExpression
    {
        public override bool MentionsExtra => Left.MentionsExtra || Right.MentionsExtra;

        public override MarkerTruth Evaluate(MarkerEnvironment environment)
        {
            var left = Left.Evaluate(environment);
            var right = Right.Evaluate(environment);
            if (left == MarkerTruth.True || right == MarkerTruth.True)
            {
                return MarkerTruth.True;
            }
            return left == MarkerTruth.False && right == MarkerTruth.False ? MarkerTruth.False : MarkerTruth.Unknown;
        }

        public override string ToString() => $"{Left} or {Right}";
    }

    internal sealed record And(MarkerExpression Left, MarkerExpression Right) : MarkerExpression
    {
        public override bool MentionsExtra => Left.MentionsExtra || Right.MentionsExtra;

        public override MarkerTruth Evaluate(MarkerEnvironment environment)
        {
            var left = Left.Evaluate(environment);
            var right = Right.Evaluate(environment);
            if (left == MarkerTruth.False || right == MarkerTruth.False)
            {
                return MarkerTruth.False;
            }
            return left == MarkerTruth.True && right == MarkerTruth.True ? MarkerTruth.True : MarkerTruth.Unknown;
        }

        // An 'or' operand needs its own parentheses, or it would re-parse with 'and' binding tighter.
        public override string ToString() => $"({Operand(Left)} and {Operand(Right)})";

        private static string Operand(MarkerExpression expression) =>
            expression is Or ? $"({expression})" : expression.ToString()!;
    }

    internal sealed record Comparison(MarkerValue Left, string Operator, MarkerValue Right) : MarkerExpression
    {
        public override bool MentionsExtra => Left.Variable == "extra" || Right.Variable == "extra";

        public override MarkerTruth Evaluate(MarkerEnvironment environment)
        {
            if (MentionsExtra)
            {
                return EvaluateExtra(environment);
            }
            var left = Left.Resolve(environment);
            var right = Right.Resolve(environment);
            if (left is null || right is null)
            {
                return MarkerTruth.Unknown;
            }
            return Compare(left, Operator, right) ? MarkerTruth.True : MarkerTruth.False;
        }

        private MarkerTruth EvaluateExtra(MarkerEnvironment environment)
        {
            var literal = Left.Variable == "extra" ? Right.Literal : Left.Literal;
            if (literal is null || Operator is not ("==" or "!="))
            {
                return MarkerTruth.Unknown;
            }
            var requested = environment.Extras.Contains(PackageName.NormalizePyPI(literal));
            return (Operator == "==") == requested ? MarkerTruth.True : MarkerTruth.False;
        }

        private static bool Compare(string left, string op, string right)
        {
            if (op is "in")
            {
                return right.Contains(left, StringComparison.Ordinal);
            }
            if (op is "not in")
            {
                return !right.Contains(left, StringComparison.Ordinal);
            }
            // Version comparison when both sides are versions, string comparison otherwise.
            if (Pep440Version.TryParse(left, out var version) && op != "===")
            {
                try
                {
                    var specifier = Pep440Specifier.Parse(op + right);
                    return specifier.IsSatisfiedBy(version);
                }
                catch (FormatException)
                {
                    // Not a version on the right: fall back to string comparison.
                }
            }
            var c = string.CompareOrdinal(left, right);
            return op switch
            {
                "==" or "===" => c == 0,
                "!=" => c != 0,
                "<" => c < 0,
                "<=" => c <= 0,
                ">" => c > 0,
                ">=" => c >= 0,
                _ => false,
            };
        }

        public override string ToString() => $"{Left} {Operator} {Right}";
    }

    internal sealed record MarkerValue(string? Variable, string? Literal)
    {
        public string? Resolve(MarkerEnvironment environment) =>
            Literal ?? (environment.Variables.TryGetValue(Canonical(Variable!), out var value) ? value : null);

        private static string Canonical(string variable) => variable switch
        {
            "os.name" => "os_name",
            "sys.platform" => "sys_platform",
            "platform.version" => "platform_version",
            "platform.machine" => "platform_machine",
            "platform.python_implementation" or "python_implementation" => "platform_python_implementation",
            _ => variable,
        };

        // A literal read from single quotes may contain '"'; quote it so that it re-parses.
        public override string ToString() =>
            Literal is null ? Variable! : Literal.Contains('"', StringComparison.Ordinal) ? "'" + Literal + "'" : "\"" + Literal + "\"";
    }

    private sealed class MarkerParser(string text)
    {
        private static readonly string[] ComparisonOperators = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];
        private int _position;

        public MarkerExpression ParseAll()
        {
            var expression = ParseOr();
            SkipWhitespace();
            if (_position != text.Length)
            {
                throw Error("unexpected text");
            }
            return expression;
        }

        private MarkerExpression ParseOr()
        {
            var left = ParseAnd();
            while (TryKeyword("or"))
            {
                left = new Or(left, ParseAnd());
            }
            return left;
        }

        private MarkerExpression ParseAnd()
        {
            var left = ParseAtom();
            while (TryKeyword("and"))
            {
                left = new And(left, ParseAtom());
            }
            return left;
        }

        private MarkerExpression ParseAtom()
        {
            SkipWhitespace();
            if (Peek() == '(')
            {
                _position++;
                var inner = ParseOr();
                SkipWhitespace();
                if (Peek() != ')')
                {
                    throw Error("missing ')'");
                }
                _position++;
                return inner;
            }
            var left = ParseValue();
            var op = ParseOperator();
            var right = ParseValue();
            return new Comparison(left, op, right);
        }

        private MarkerValue ParseValue()
        {
            SkipWhitespace();
            var c = Peek();
            if (c is '"' or '\'')
            {
                var end = text.IndexOf(c, _position + 1);
                if (end < 0)
                {
                    throw Error("unterminated string");
                }
                var literal = text[(_position + 1)..end];
                _position = end + 1;
                return new MarkerValue(null, literal);
            }
            var start = _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '_' or '.'))
            {
                _position++;
            }
            var name = text[start.._position];
            if (!KnownVariables.Contains(name))
            {
                throw Error($"unknown marker variable '{name}'");
            }
            return new MarkerValue(name, null);
        }

        private string ParseOperator()
        {
            SkipWhitespace();
            foreach (var op in ComparisonOperators)
            {
                if (string.CompareOrdinal(text, _position, op, 0, op.Length) == 0)
                {
                    _position += op.Length;
                    return op;
                }
            }
            if (TryKeyword("in"))
            {
                return "in";
            }
            if (TryKeyword("not"))
            {
                if (TryKeyword("in"))
                {
                    return "not in";
                }
            }
            throw Error("expected a comparison operator");
        }

        private bool TryKeyword(string keyword)
        {
            SkipWhitespace();
            if (string.CompareOrdinal(text, _position, keyword, 0, keyword.Length) != 0)
            {
                return false;
            }
            var after = _position + keyword.Length;
            if (after < text.Length && (char.IsAsciiLetterOrDigit(text[after]) || text[after] == '_'))
            {
                return false;
            }
            _position = after;
            return true;
        }

        private char Peek() => _position < text.Length ? text[_position] : '\0';

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private FormatException Error(string what) =>
            new($"Invalid environment marker '{text}': {what} at position {_position}.");
    }
}
