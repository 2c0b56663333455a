using System.Globalization;

namespace SafeHaven.Core.Packages;

/// <summary>
/// A version as R's <c>package_version</c> reads it: non-negative integer components separated by <c>.</c> or
/// <c>-</c> (<c>1.0-3</c> is <c>1.0.3</c>). Ordered component by component, the shorter padded with zeros, so
/// <c>1.0</c> equals <c>1.0.0</c> and <c>1.10</c> is newer than <c>1.9</c>, as R compares them.
/// </summary>
public sealed class RVersion : IComparable<RVersion>, IEquatable<RVersion>
{
    private RVersion(IReadOnlyList<long> components, string text)
    {
        Components = components;
        Text = text;
    }

    public IReadOnlyList<long> Components { get; }

    /// <summary>The version as written upstream (kept for file names: <c>pkg_1.0-3.tar.gz</c>).</summary>
    public string Text { get; }

    public static RVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a valid R package version.");

    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RVersion? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 128)
        {
            return false;
        }
        var trimmed = text.Trim();
        var parts = trimmed.Split('.', '-');
        var components = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0 || parts[i].Length > 18 || !parts[i].All(char.IsAsciiDigit))
            {
                return false;
            }
            components[i] = long.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        version = new RVersion(components, trimmed);
        return true;
    }

    public int CompareTo(RVersion? other)
    {
        if (other is null)
        {
            return 1;
        }
        var length = Math.Max(Components.Count, other.Components.Count);
        for (var i = 0; i < length; i++)
        {
            var left = i < Components.Count ? Components[i] : 0;
            var right = i < other.Components.Count ? other.Components[i] : 0;
            if (left != right)
            {
                return left.CompareTo(right);
            }
        }
        return 0;
    }

    public bool Equals(RVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is RVersion other && Equals(other);

    public override int GetHashCode()
    {
        var significant = Components.Count;
        while (significant > 0 && Components[significant - 1] == 0)
        {
            significant--;
        }
        var hash = new HashCode();
        for (var i = 0; i < significant; i++)
        {
            hash.Add(Components[i]);
        }
        return hash.ToHashCode();
    }

    public override string ToString() => Text;

    public static bool operator ==(RVersion? left, RVersion? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(RVersion? left, RVersion? right) => !(left == right);
    public static bool operator <(RVersion left, RVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(RVersion left, RVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(RVersion left, RVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(RVersion left, RVersion right) => left.CompareTo(right) >= 0;

    /// <summary>Whether this version satisfies an R dependency constraint such as <c>&gt;= 1.2</c>.</summary>
    public bool Satisfies(string op, RVersion bound) => op switch
    {
        ">=" => this >= bound,
        ">" => this > bound,
        "<=" => this <= bound,
        "<" => this < bound,
        "==" => this == bound,
        "!=" => this != bound,
        _ => throw new FormatException($"'{op}' is not an R version operator (>=, >, <=, <, ==, !=)."),
    };
}
