using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SafeHaven.Core.Packages;

/// <summary>
/// A conda package version with conda's ordering, as rattler (the solver under pixi) parses and orders it, so the
/// allowlist closure agrees with the clients that will solve against the mirror. The version splits into an optional
/// epoch (<c>1!</c>), segments separated by <c>.</c>, <c>-</c> or <c>_</c>, and an optional local part after
/// <c>+</c>; each segment is a run of components (numbers, lower-cased letter runs, and the special <c>dev</c> and
/// <c>post</c>), a segment starting with letters gets an implicit leading 0 (<c>1.1.a1</c> is <c>1.1.0a1</c>).
/// Components compare as <c>dev</c> &lt; trailing <c>_</c>/<c>-</c> &lt; letters &lt; numbers &lt; <c>post</c>, and a
/// missing component counts as 0, so <c>1.0</c> equals <c>1.0.0</c>.
/// </summary>
public sealed class CondaVersion : IComparable<CondaVersion>, IEquatable<CondaVersion>
{
    private const int MaxLength = 1024;

    // rattler keeps the index of the first local segment in 7 bits.
    private const int MaxSegmentsBeforeLocal = 127;

    // rattler keeps a segment's component count in 13 bits.
    private const int MaxComponentsPerSegment = 8191;

    private static readonly Component[] EmptySegment = [];
    private static readonly Component[] ZeroSegment = [Component.Zero];

    private CondaVersion(string text, ulong epoch, bool hasEpoch, Component[][] segments, Component[][] local)
    {
        Text = text;
        Epoch = epoch;
        HasEpoch = hasEpoch;
        Segments = segments;
        Local = local;
    }

    /// <summary>The version as given (trimmed).</summary>
    public string Text { get; }

    /// <summary>The epoch (<c>2</c> in <c>2!1.0</c>); 0 when none is written.</summary>
    public ulong Epoch { get; }

    public bool HasEpoch { get; }

    public bool HasLocal => Local.Length > 0;

    /// <summary>Whether any component of the version proper is <c>dev</c> (as rattler's <c>isDev</c>).</summary>
    public bool IsDev => Segments.Any(segment => segment.Any(c => c.Kind == ComponentKind.Dev));

    /// <summary>The number of segments before the local part (<c>1.2a.3</c> has 3).</summary>
    public int SegmentCount => Segments.Length;

    private Component[][] Segments { get; }

    private Component[][] Local { get; }

    public static CondaVersion Parse(string text) =>
        TryParse(text, out var version, out var error) ? version : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out CondaVersion? version) => TryParse(text, out version, out _);

    /// <summary>Parses a version; on failure <paramref name="error"/> says what is wrong and where.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CondaVersion? version, [NotNullWhen(false)] out string? error)
    {
        version = null;
        if (text is null)
        {
            error = "a conda version is required.";
            return false;
        }
        var trimmed = text.Trim();
        if (trimmed.Length > MaxLength)
        {
            error = $"the conda version is longer than {MaxLength} characters.";
            return false;
        }
        if (!TryParsePrefix(trimmed, out version, out var end, out error))
        {
            return false;
        }
        if (end != trimmed.Length)
        {
            version = null;
            error = $"'{trimmed}' is not a valid conda version: unexpected '{trimmed[end]}' at position {end + 1}.";
            return false;
        }
        return true;
    }

    /// <summary>
    /// Parses the longest version at the start of <paramref name="text"/> the way rattler's version parser does,
    /// leaving the rest (e.g. <c>.*</c> in <c>1.2.*</c>) for the caller; <paramref name="end"/> is where it stopped.
    /// </summary>
    internal static bool TryParsePrefix(string text, [NotNullWhen(true)] out CondaVersion? version, out int end, [NotNullWhen(false)] out string? error)
    {
        version = null;
        end = 0;
        if (text.Length == 0)
        {
            error = "a conda version cannot be empty.";
            return false;
        }
        var parser = new Parser(text);
        if (!parser.Run(out error))
        {
            error = $"'{text}' is not a valid conda version: {error}.";
            return false;
        }
        end = parser.Position;
        version = new CondaVersion(text[..end], parser.Epoch, parser.HasEpoch, [.. parser.Segments], [.. parser.Local]);
        return true;
    }

    public int CompareTo(CondaVersion? other)
    {
        if (other is null)
        {
            return 1;
        }
        var c = Epoch.CompareTo(other.Epoch);
        if (c != 0)
        {
            return c;
        }
        c = CompareSegments(Segments, other.Segments, strict: false);
        return c != 0 ? c : CompareSegments(Local, other.Local, strict: false);
    }

    /// <summary>
    /// rattler's equality for <c>==</c> specs, which unlike its ordering tells a trailing <c>-</c> from a trailing
    /// <c>_</c> (<c>1.0-</c> and <c>1.0_</c> sort together but are not equal).
    /// </summary>
    internal bool EqualsExactly(CondaVersion other) =>
        Epoch == other.Epoch
        && CompareSegments(Segments, other.Segments, strict: true) == 0
        && CompareSegments(Local, other.Local, strict: true) == 0;

    /// <summary>
    /// Whether this version begins with <paramref name="prefix"/> (what <c>1.2.*</c> asks): same epoch, and each
    /// segment of the prefix found in this version's segment at the same place, in the version proper and in the
    /// local part. So <c>1.2.3</c> and <c>1.2.dev0</c> start with <c>1.2</c>, but <c>1.20</c> and <c>1.2a</c> do
    /// not; <c>1.2</c> starts with <c>1.2.0</c>.
    /// </summary>
    public bool StartsWith(CondaVersion prefix) =>
        Epoch == prefix.Epoch && SegmentsStartWith(Segments, prefix.Segments, prefix.Segments.Length) && SegmentsStartWith(Local, prefix.Local, prefix.Local.Length);

    /// <summary>
    /// Whether this version is compatible with <paramref name="limit"/> in the sense of <c>~=</c>: at least the
    /// limit, and starting with the limit without its last segment (<c>~=1.2</c> is <c>&gt;=1.2,1.*</c>).
    /// </summary>
    public bool IsCompatibleWith(CondaVersion limit) =>
        CompareTo(limit) >= 0
        && Epoch == limit.Epoch
        && SegmentsStartWith(Segments, limit.Segments, limit.Segments.Length - 1)
        && SegmentsStartWith(Local, limit.Local, limit.Local.Length);

    public bool Equals(CondaVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is CondaVersion other && Equals(other);

    /// <summary>Trailing zero components of each segment are left out, so <c>1.0</c> and <c>1</c> hash alike.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Epoch);
        AddSegments(ref hash, Segments);
        hash.Add('+');
        AddSegments(ref hash, Local);
        return hash.ToHashCode();
    }

    public override string ToString() => Text;

    public static bool operator ==(CondaVersion? left, CondaVersion? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(CondaVersion? left, CondaVersion? right) => !(left == right);
    public static bool operator <(CondaVersion left, CondaVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(CondaVersion left, CondaVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(CondaVersion left, CondaVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(CondaVersion left, CondaVersion right) => left.CompareTo(right) >= 0;

    private static void AddSegments(ref HashCode hash, Component[][] segments)
    {
        foreach (var segment in segments)
        {
            var significant = segment.Length;
            while (significant > 0 && segment[significant - 1].IsZero)
            {
                significant--;
            }
            for (var i = 0; i < significant; i++)
            {
                segment[i].AddTo(ref hash);
            }
        }
    }

    // Segment by segment, component by component; what one side lacks counts as the number 0.
    private static int CompareSegments(Component[][] left, Component[][] right, bool strict)
    {
        var count = Math.Max(left.Length, right.Length);
        for (var s = 0; s < count; s++)
        {
            var a = s < left.Length ? left[s] : EmptySegment;
            var b = s < right.Length ? right[s] : EmptySegment;
            var c = CompareSegment(a, b, strict);
            if (c != 0)
            {
                return c;
            }
        }
        return 0;
    }

    private static int CompareSegment(Component[] a, Component[] b, bool strict)
    {
        var length = Math.Max(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            var c = Component.Compare(i < a.Length ? a[i] : Component.Zero, i < b.Length ? b[i] : Component.Zero, strict);
            if (c != 0)
            {
                return c;
            }
        }
        return 0;
    }

    // A missing segment of the version counts as a single 0; within a segment, components the version has beyond
    // the prefix must be 0, and a component the prefix has beyond the version fails (rattler: "1.2a0" starts with
    // "1.2a", "1.2a" does not start with "1.2a0", "1.2" starts with "1.2.0").
    private static bool SegmentsStartWith(Component[][] version, Component[][] prefix, int prefixCount)
    {
        for (var s = 0; s < prefixCount; s++)
        {
            var segment = s < version.Length ? version[s] : ZeroSegment;
            var expected = prefix[s];
            for (var i = 0; i < Math.Max(segment.Length, expected.Length); i++)
            {
                var matches = i < expected.Length
                    ? i < segment.Length && Component.Compare(segment[i], expected[i], strict: true) == 0
                    : segment[i].IsZero;
                if (!matches)
                {
                    return false;
                }
            }
        }
        return true;
    }

    private enum ComponentKind
    {
        Dev = 0,
        UnderscoreOrDash = 1,
        Identifier = 2,
        Number = 3,
        Post = 4,
    }

    private readonly record struct Component(ComponentKind Kind, ulong Number, string? Identifier, bool IsDash)
    {
        public static readonly Component Zero = new(ComponentKind.Number, 0, null, false);

        public bool IsZero => Kind == ComponentKind.Number && Number == 0;

        public static Component Of(ulong number) => new(ComponentKind.Number, number, null, false);

        // strict: a dash and an underscore differ (rattler's equality); otherwise they are equal (its ordering).
        public static int Compare(Component a, Component b, bool strict)
        {
            if (a.Kind != b.Kind)
            {
                return a.Kind.CompareTo(b.Kind);
            }
            return a.Kind switch
            {
                ComponentKind.Number => a.Number.CompareTo(b.Number),
                ComponentKind.Identifier => string.CompareOrdinal(a.Identifier, b.Identifier),
                ComponentKind.UnderscoreOrDash when strict => a.IsDash.CompareTo(b.IsDash),
                _ => 0,
            };
        }

        public void AddTo(ref HashCode hash)
        {
            hash.Add(Kind);
            hash.Add(Number);
            hash.Add(Identifier, StringComparer.Ordinal);
        }
    }

    /// <summary>rattler's version grammar, one character at a time (it accepts ASCII only).</summary>
    private sealed class Parser(string text)
    {
        private char _dashOrUnderscore;

        public int Position { get; private set; }
        public ulong Epoch { get; private set; }
        public bool HasEpoch { get; private set; }
        public List<Component[]> Segments { get; } = [];
        public List<Component[]> Local { get; } = [];

        public bool Run([NotNullWhen(false)] out string? error)
        {
            var digits = CountDigits(0);
            if (digits > 0 && digits < text.Length && text[digits] == '!')
            {
                if (!ulong.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
                {
                    error = "the epoch is too large";
                    return false;
                }
                Epoch = epoch;
                HasEpoch = true;
                Position = digits + 1;
            }
            if (!ParsePart(Segments, out error))
            {
                return false;
            }
            if (Position < text.Length && text[Position] == '+')
            {
                if (Segments.Count > MaxSegmentsBeforeLocal)
                {
                    error = $"more than {MaxSegmentsBeforeLocal} segments before the local version";
                    return false;
                }
                Position++;
                if (!ParsePart(Local, out error))
                {
                    return false;
                }
            }
            return true;
        }

        private int CountDigits(int from)
        {
            var i = from;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
            return i - from;
        }

        // Segments separated by '.', '-' or '_' (never both '-' and '_'); a trailing '-' or '_' is a component of
        // its own (the openssl convention: 1.0.1_ sorts before 1.0.1a).
        private bool ParsePart(List<Component[]> segments, [NotNullWhen(false)] out string? error)
        {
            var first = ParseSegment(out error);
            if (error is not null)
            {
                return false;
            }
            if (first is null)
            {
                error = Position < text.Length
                    ? $"expected a version component (a number or letters) at position {Position + 1}, found '{text[Position]}'"
                    : $"expected a version component (a number or letters) at position {Position + 1}";
                return false;
            }
            segments.Add(first);
            while (Position < text.Length && text[Position] is '.' or '-' or '_')
            {
                var separator = text[Position];
                if (!NoteDashOrUnderscore(separator, out error))
                {
                    return false;
                }
                var separatorPosition = Position;
                Position++;
                var segment = ParseSegment(out error);
                if (error is not null)
                {
                    return false;
                }
                if (segment is not null)
                {
                    segments.Add(segment);
                    continue;
                }
                if (Position < text.Length && text[Position] is '-' or '_')
                {
                    var trailing = text[Position];
                    if (!NoteDashOrUnderscore(trailing, out error))
                    {
                        return false;
                    }
                    Position++;
                    segments.Add([Component.Zero, new Component(ComponentKind.UnderscoreOrDash, 0, null, trailing == '-')]);
                    return true;
                }
                if (separator is '-' or '_')
                {
                    segments[^1] = [.. segments[^1], new Component(ComponentKind.UnderscoreOrDash, 0, null, separator == '-')];
                    return true;
                }
                // A '.' followed by nothing that belongs to a version: leave it for the caller (".*" in "1.2.*").
                Position = separatorPosition;
                return true;
            }
            return true;
        }

        private bool NoteDashOrUnderscore(char separator, [NotNullWhen(false)] out string? error)
        {
            error = null;
            if (separator is not ('-' or '_'))
            {
                return true;
            }
            if (_dashOrUnderscore == '\0')
            {
                _dashOrUnderscore = separator;
                return true;
            }
            if (_dashOrUnderscore != separator)
            {
                error = $"it mixes '-' and '_' as separators (at position {Position + 1})";
                return false;
            }
            return true;
        }

        // null (and no error) when no component starts here.
        private Component[]? ParseSegment(out string? error)
        {
            var components = new List<Component>();
            while (true)
            {
                if (!TryParseComponent(out var component, out error))
                {
                    return null;
                }
                if (component is null)
                {
                    break;
                }
                if (components.Count == 0 && component.Value.Kind != ComponentKind.Number)
                {
                    components.Add(Component.Zero);
                }
                components.Add(component.Value);
                if (components.Count > MaxComponentsPerSegment)
                {
                    error = $"more than {MaxComponentsPerSegment} components in one segment";
                    return null;
                }
            }
            return components.Count == 0 ? null : [.. components];
        }

        private bool TryParseComponent(out Component? component, [NotNullWhen(false)] out string? error)
        {
            component = null;
            error = null;
            if (Position >= text.Length)
            {
                return true;
            }
            var start = Position;
            var digits = CountDigits(start);
            if (digits > 0)
            {
                if (!ulong.TryParse(text.AsSpan(start, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    error = $"the number '{text.Substring(start, digits)}' is too large";
                    return false;
                }
                Position += digits;
                component = Component.Of(number);
                return true;
            }
            if (start + 4 <= text.Length && string.Compare(text, start, "post", 0, 4, StringComparison.OrdinalIgnoreCase) == 0)
            {
                Position += 4;
                component = new Component(ComponentKind.Post, 0, null, false);
                return true;
            }
            if (start + 3 <= text.Length && string.Compare(text, start, "dev", 0, 3, StringComparison.OrdinalIgnoreCase) == 0)
            {
                Position += 3;
                component = new Component(ComponentKind.Dev, 0, null, false);
                return true;
            }
            var end = start;
            while (end < text.Length && char.IsAsciiLetter(text[end]))
            {
                end++;
            }
            if (end > start)
            {
                Position = end;
                component = new Component(ComponentKind.Identifier, 0, text[start..end].ToLowerInvariant(), false);
            }
            return true;
        }
    }
}
