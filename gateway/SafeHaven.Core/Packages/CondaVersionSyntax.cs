using System.Globalization;

namespace SafeHaven.Core.Packages;

/// <summary>
/// Where a version (with <c>*</c> globs) or an operator ends, as rattler's recognisers see it before any of it is
/// parsed: both the version-spec parser and the MatchSpec splitter (which must find where a version ends and the build
/// string begins) cut the text this way, so the two agree on what a spec contains.
/// </summary>
internal static class CondaVersionSyntax
{
    /// <summary>In the order rattler tries them (so "==" wins over "=").</summary>
    private static readonly string[] Operators = ["==", "!=", "=", ">=", ">", "<=", "<", "~="];

    /// <summary>The operator at <paramref name="at"/>, or null.</summary>
    public static string? OperatorAt(string text, int at)
    {
        foreach (var op in Operators)
        {
            if (string.CompareOrdinal(text, at, op, 0, op.Length) == 0)
            {
                return op;
            }
        }
        return null;
    }

    /// <summary>
    /// Moves past a version at <paramref name="position"/>: an optional epoch (<c>1!</c>, at most a 32-bit number),
    /// components (letter runs, digit runs or <c>*</c>) joined by any run of <c>.</c>, <c>-</c> and <c>_</c>, and an
    /// optional <c>+</c> local part. False when none starts there; <paramref name="error"/> is set when the text
    /// cannot be a version at all (a <c>+</c> with nothing after it).
    /// </summary>
    public static bool TryRecognizeVersion(string text, ref int position, out string? error)
    {
        error = null;
        var at = position;
        var digits = 0;
        while (at + digits < text.Length && char.IsAsciiDigit(text[at + digits]))
        {
            digits++;
        }
        if (digits > 0 && at + digits < text.Length && text[at + digits] == '!'
            && uint.TryParse(text.AsSpan(at, digits), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            at += digits + 1;
        }
        if (!TryComponents(text, ref at))
        {
            return false;
        }
        if (at < text.Length && text[at] == '+')
        {
            at++;
            if (!TryComponents(text, ref at))
            {
                error = $"expected a local version after '+' at position {at + 1}";
                return false;
            }
        }
        position = at;
        return true;
    }

    /// <summary>Moves past a run of <c>.</c> and <c>*</c> (the glob tail of <c>1.2.*</c>).</summary>
    public static void SkipGlobTail(string text, ref int position)
    {
        while (position < text.Length && text[position] is '.' or '*')
        {
            position++;
        }
    }

    private static bool TryComponents(string text, ref int at)
    {
        var end = ComponentEnd(text, at);
        if (end == at)
        {
            return false;
        }
        at = end;
        while (true)
        {
            var next = at;
            while (next < text.Length && text[next] is '.' or '-' or '_')
            {
                next++;
            }
            end = ComponentEnd(text, next);
            if (end == next)
            {
                return true;
            }
            at = end;
        }
    }

    private static int ComponentEnd(string text, int from)
    {
        if (from >= text.Length)
        {
            return from;
        }
        if (text[from] == '*')
        {
            return from + 1;
        }
        var end = from;
        var letters = char.IsAsciiLetter(text[from]);
        while (end < text.Length && (letters ? char.IsAsciiLetter(text[end]) : char.IsAsciiDigit(text[end])))
        {
            end++;
        }
        return end;
    }
}
