using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace SafeHaven.Core.Packages;

/// <summary>
/// A Debian package version, <c>[epoch:]upstream_version[-debian_revision]</c> (Debian policy 5.6.12), ordered exactly
/// as <c>dpkg --compare-versions</c> orders it: epochs numerically, then upstream versions, then revisions, each
/// compared by alternating non-digit parts (letters before non-letters, <c>~</c> before everything, even the end of
/// the part) and digit parts (numerically, any length). A missing revision compares equal to <c>-0</c>, so
/// <c>1.0</c> equals <c>1.0-0</c>; equality and hashing follow the ordering.
/// </summary>
/// <remarks>
/// Parsing is as strict as dpkg without its warnings: the epoch is a non-negative decimal number that fits an
/// <c>int</c>, the upstream version starts with a digit and holds only letters, digits and <c>. + - ~ :</c>, the
/// revision only letters, digits and <c>. + ~</c>. Leading and trailing white space is ignored, as dpkg does.
/// </remarks>
public sealed class DebianVersion : IComparable<DebianVersion>, IEquatable<DebianVersion>
{
    private readonly string _canonical;

    private DebianVersion(int epoch, string upstream, string revision, string text)
    {
        Epoch = epoch;
        Upstream = upstream;
        Revision = revision;
        Text = text;
        _canonical = string.Create(CultureInfo.InvariantCulture, $"{epoch}:{Canonical(upstream)}-{Canonical(revision)}");
    }

    /// <summary>The epoch; 0 when the version has none.</summary>
    public int Epoch { get; }

    /// <summary>The upstream version (between the epoch's colon and the last hyphen).</summary>
    public string Upstream { get; }

    /// <summary>The Debian revision (after the last hyphen); empty when the version has none.</summary>
    public string Revision { get; }

    /// <summary>The version as written (white space around it removed).</summary>
    public string Text { get; }

    public static DebianVersion Parse(string text) =>
        TryParse(text, out var version, out var error) ? version : throw new FormatException($"'{text}' is not a Debian version: {error}.");

    public static bool TryParse(string? text, [NotNullWhen(true)] out DebianVersion? version) => TryParse(text, out version, out _);

    /// <summary>Parses <paramref name="text"/>, giving dpkg's reason when it is not a version.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out DebianVersion? version, [NotNullWhen(false)] out string? error)
    {
        version = null;
        if (text is null)
        {
            error = "version string is empty";
            return false;
        }
        var trimmed = text.Trim(' ', '\t', '\n', '\r', '\f', '\v');
        if (trimmed.Length == 0)
        {
            error = "version string is empty";
            return false;
        }
        if (trimmed.Length > 256)
        {
            error = "version string is longer than 256 characters";
            return false;
        }
        foreach (var c in trimmed)
        {
            if (char.IsWhiteSpace(c))
            {
                error = "version string has embedded spaces";
                return false;
            }
        }
        var epoch = 0;
        var rest = trimmed;
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var epochText = trimmed[..colon];
            if (epochText.Length == 0)
            {
                error = "epoch in version is empty";
                return false;
            }
            if (epochText[0] == '-')
            {
                error = "epoch in version is negative";
                return false;
            }
            if (!epochText.All(char.IsAsciiDigit))
            {
                error = "epoch in version is not number";
                return false;
            }
            if (!int.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out epoch))
            {
                error = "epoch in version is too big";
                return false;
            }
            rest = trimmed[(colon + 1)..];
        }
        var upstream = rest;
        var revision = "";
        var hyphen = rest.LastIndexOf('-');
        if (hyphen >= 0)
        {
            upstream = rest[..hyphen];
            revision = rest[(hyphen + 1)..];
            if (revision.Length == 0)
            {
                error = "revision number is empty";
                return false;
            }
        }
        if (upstream.Length == 0)
        {
            error = "version number is empty";
            return false;
        }
        if (!char.IsAsciiDigit(upstream[0]))
        {
            error = "version number does not start with digit";
            return false;
        }
        foreach (var c in upstream)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '+' or '~' or ':'))
            {
                error = $"invalid character '{c}' in version number";
                return false;
            }
        }
        foreach (var c in revision)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '+' or '~'))
            {
                error = $"invalid character '{c}' in revision number";
                return false;
            }
        }
        version = new DebianVersion(epoch, upstream, revision, trimmed);
        error = null;
        return true;
    }

    /// <summary>Compares two version strings as <c>dpkg --compare-versions</c> does; throws when either is not a version.</summary>
    public static int Compare(string a, string b) => Parse(a).CompareTo(Parse(b));

    public int CompareTo(DebianVersion? other)
    {
        if (other is null)
        {
            return 1;
        }
        if (Epoch != other.Epoch)
        {
            return Epoch.CompareTo(other.Epoch);
        }
        var upstream = CompareParts(Upstream, other.Upstream);
        return upstream != 0 ? upstream : CompareParts(Revision, other.Revision);
    }

    /// <summary>dpkg's <c>verrevcmp</c>: non-digit runs character by character, then digit runs numerically.</summary>
    private static int CompareParts(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            var firstDifference = 0;
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = i < a.Length ? Order(a[i]) : 0;
                var bc = j < b.Length ? Order(b[j]) : 0;
                if (ac != bc)
                {
                    return Math.Sign(ac - bc);
                }
                i++;
                j++;
            }
            while (i < a.Length && a[i] == '0')
            {
                i++;
            }
            while (j < b.Length && b[j] == '0')
            {
                j++;
            }
            while (i < a.Length && char.IsAsciiDigit(a[i]) && j < b.Length && char.IsAsciiDigit(b[j]))
            {
                if (firstDifference == 0)
                {
                    firstDifference = a[i] - b[j];
                }
                i++;
                j++;
            }
            if (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                return 1;
            }
            if (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                return -1;
            }
            if (firstDifference != 0)
            {
                return Math.Sign(firstDifference);
            }
        }
        return 0;
    }

    /// <summary>dpkg's character order: the end of a part and digits 0, <c>~</c> lowest, letters, then everything else.</summary>
    private static int Order(char c) => c switch
    {
        _ when char.IsAsciiDigit(c) => 0,
        _ when char.IsAsciiLetter(c) => c,
        '~' => -1,
        _ => c + 256,
    };

    /// <summary>A form equal for exactly the parts that compare equal: digit runs without leading zeros, empty zero runs dropped.</summary>
    private static string Canonical(string part)
    {
        var builder = new StringBuilder(part.Length);
        var i = 0;
        while (i < part.Length)
        {
            var start = i;
            while (i < part.Length && !char.IsAsciiDigit(part[i]))
            {
                i++;
            }
            var nonDigits = part[start..i];
            start = i;
            while (i < part.Length && char.IsAsciiDigit(part[i]))
            {
                i++;
            }
            var digits = part[start..i].TrimStart('0');
            if (nonDigits.Length == 0 && digits.Length == 0)
            {
                continue;
            }
            builder.Append(nonDigits).Append('#').Append(digits).Append('#');
        }
        return builder.ToString();
    }

    public bool Equals(DebianVersion? other) => other is not null && string.Equals(_canonical, other._canonical, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is DebianVersion other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_canonical);

    public override string ToString() => Text;

    public static bool operator ==(DebianVersion? left, DebianVersion? right) => left is null ? right is null : left.Equals(right);
    public static bool operator !=(DebianVersion? left, DebianVersion? right) => !(left == right);
    public static bool operator <(DebianVersion left, DebianVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(DebianVersion left, DebianVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(DebianVersion left, DebianVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(DebianVersion left, DebianVersion right) => left.CompareTo(right) >= 0;
}
