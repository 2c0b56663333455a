using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SafeHaven.Core.Packages;

/// <summary>A version as defined by PEP 440, with its total ordering.</summary>
public sealed partial class Pep440Version : IComparable<Pep440Version>, IEquatable<Pep440Version>
{
    // The permissive pattern from PEP 440 appendix B (the one `packaging` uses).
    [GeneratedRegex(
        @"^\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\.[0-9]+)*)" +
        @"(?<pre>[-_\.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\.]?(?<pre_n>[0-9]+)?)?" +
        @"(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\.]?(?<post_l>post|rev|r)[-_\.]?(?<post_n2>[0-9]+)?))?" +
        @"(?<dev>[-_\.]?(?<dev_l>dev)[-_\.]?(?<dev_n>[0-9]+)?)?)" +
        @"(?:\+(?<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Pattern();

    private Pep440Version(
        long epoch, IReadOnlyList<long> release, string? preLabel, long preNumber,
        long? post, long? dev, IReadOnlyList<string>? local)
    {
        Epoch = epoch;
        Release = release;
        PreLabel = preLabel;
        PreNumber = preNumber;
        Post = post;
        Dev = dev;
        Local = local;
    }

    public long Epoch { get; }
    public IReadOnlyList<long> Release { get; }
    /// <summary>"a", "b" or "rc" (normalised), or null.</summary>
    public string? PreLabel { get; }
    public long PreNumber { get; }
    public long? Post { get; }
    public long? Dev { get; }
    public IReadOnlyList<string>? Local { get; }

    public bool IsPrerelease => PreLabel is not null || Dev is not null;
    public bool IsPostRelease => Post is not null;
    public bool HasLocal => Local is not null;

    /// <summary>The version without its local segment.</summary>
    public Pep440Version Public => Local is null ? this : new(Epoch, Release, PreLabel, PreNumber, Post, Dev, null);

    /// <summary>The release with pre, post, dev and local removed (epoch kept).</summary>
    public Pep440Version BaseVersion => new(Epoch, Release, null, 0, null, null, null);

    public static Pep440Version Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a valid PEP 440 version.");

    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Pep440Version? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 256)
        {
            return false;
        }
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }
        try
        {
            var epoch = match.Groups["epoch"].Success ? ParseNumber(match.Groups["epoch"].Value) : 0;
            var release = match.Groups["release"].Value.Split('.').Select(ParseNumber).ToArray();
            string? preLabel = null;
            long preNumber = 0;
            if (match.Groups["pre"].Success)
            {
                preLabel = match.Groups["pre_l"].Value.ToLowerInvariant() switch
                {
                    "alpha" or "a" => "a",
                    "beta" or "b" => "b",
                    _ => "rc",
                };
                preNumber = match.Groups["pre_n"].Success ? ParseNumber(match.Groups["pre_n"].Value) : 0;
            }
            long? post = null;
            if (match.Groups["post_n1"].Success)
            {
                post = ParseNumber(match.Groups["post_n1"].Value);
            }
            else if (match.Groups["post_l"].Success)
            {
                post = match.Groups["post_n2"].Success ? ParseNumber(match.Groups["post_n2"].Value) : 0;
            }
            long? dev = null;
            if (match.Groups["dev"].Success)
            {
                dev = match.Groups["dev_n"].Success ? ParseNumber(match.Groups["dev_n"].Value) : 0;
            }
            string[]? local = match.Groups["local"].Success
                ? match.Groups["local"].Value.ToLowerInvariant().Split('-', '_', '.').Select(NormaliseLocalSegment).ToArray()
                : null;
            version = new Pep440Version(epoch, release, preLabel, preNumber, post, dev, local);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static long ParseNumber(string digits) => long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    // PEP 440 integer normalisation applies to numeric local segments too ("+01" is "+1").
    private static string NormaliseLocalSegment(string segment)
    {
        if (!IsDigits(segment))
        {
            return segment;
        }
        var trimmed = segment.TrimStart('0');
        return trimmed.Length == 0 ? "0" : trimmed;
    }

    private static bool IsDigits(string segment) => segment.Length > 0 && segment.All(char.IsAsciiDigit);

    /// <summary>The canonical string form (PEP 440 normalisation).</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        if (Epoch != 0)
        {
            builder.Append(Epoch).Append('!');
        }
        builder.AppendJoin('.', Release);
        if (PreLabel is not null)
        {
            builder.Append(PreLabel).Append(PreNumber);
        }
        if (Post is not null)
        {
            builder.Append(".post").Append(Post.Value);
        }
        if (Dev is not null)
        {
            builder.Append(".dev").Append(Dev.Value);
        }
        if (Local is not null)
        {
            builder.Append('+').AppendJoin('.', Local);
        }
        return builder.ToString();
    }

    public int CompareTo(Pep440Version? other)
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
        c = CompareRelease(Release, other.Release);
        if (c != 0)
        {
            return c;
        }
        c = PreKey().CompareTo(other.PreKey());
        if (c != 0)
        {
            return c;
        }
        c = (Post ?? -1).CompareTo(other.Post ?? -1);
        if (c != 0)
        {
            return c;
        }
        // No dev segment sorts after any dev segment (even dev9223372036854775807).
        c = (Dev is null).CompareTo(other.Dev is null);
        if (c != 0)
        {
            return c;
        }
        c = (Dev ?? 0).CompareTo(other.Dev ?? 0);
        if (c != 0)
        {
            return c;
        }
        return CompareLocal(Local, other.Local);
    }

    // Ordering of the pre-release part: a dev release of a final version sorts before its
    // pre-releases; a final (or post) release after them.
    private (int Rank, long Number) PreKey()
    {
        if (PreLabel is null)
        {
            return Post is null && Dev is not null ? (-1, 0) : (4, 0);
        }
        var rank = PreLabel switch { "a" => 1, "b" => 2, _ => 3 };
        return (rank, PreNumber);
    }

    internal static int CompareRelease(IReadOnlyList<long> left, IReadOnlyList<long> right)
    {
        var length = Math.Max(left.Count, right.Count);
        for (var i = 0; i < length; i++)
        {
            var l = i < left.Count ? left[i] : 0;
            var r = i < right.Count ? right[i] : 0;
            var c = l.CompareTo(r);
            if (c != 0)
            {
                return c;
            }
        }
        return 0;
    }

    private static int CompareLocal(IReadOnlyList<string>? left, IReadOnlyList<string>? right)
    {
        if (left is null || right is null)
        {
            return (left is null ? 0 : 1) - (right is null ? 0 : 1);
        }
        for (var i = 0; i < Math.Min(left.Count, right.Count); i++)
        {
            // Numeric segments compare as integers of any size (they carry no leading zeros),
            // and sort after alphanumeric ones.
            var leftIsNumber = IsDigits(left[i]);
            var rightIsNumber = IsDigits(right[i]);
            var c = (leftIsNumber, rightIsNumber) switch
            {
                (true, true) => left[i].Length != right[i].Length
                    ? left[i].Length.CompareTo(right[i].Length)
                    : string.CompareOrdinal(left[i], right[i]),
                (true, false) => 1,
                (false, true) => -1,
                _ => string.CompareOrdinal(left[i], right[i]),
            };
            if (c != 0)
            {
                return c;
            }
        }
        return left.Count.CompareTo(right.Count);
    }

    public bool Equals(Pep440Version? other) => other is not null && CompareTo(other) == 0;
    public override bool Equals(object? obj) => obj is Pep440Version other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Epoch);
        var release = Release.ToList();
        while (release.Count > 1 && release[^1] == 0)
        {
            release.RemoveAt(release.Count - 1);
        }
        foreach (var part in release)
        {
            hash.Add(part);
        }
        hash.Add(PreLabel);
        hash.Add(PreNumber);
        hash.Add(Post);
        hash.Add(Dev);
        if (Local is not null)
        {
            foreach (var part in Local)
            {
                hash.Add(part);
            }
        }
        return hash.ToHashCode();
    }

    public static bool operator <(Pep440Version left, Pep440Version right) => left.CompareTo(right) < 0;
    public static bool operator >(Pep440Version left, Pep440Version right) => left.CompareTo(right) > 0;
    public static bool operator <=(Pep440Version left, Pep440Version right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Pep440Version left, Pep440Version right) => left.CompareTo(right) >= 0;
}
