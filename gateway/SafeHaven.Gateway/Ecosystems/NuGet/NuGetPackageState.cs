using System.Globalization;
using System.Security.Cryptography;
using NuGet.Versioning;
using SafeHaven.Core.Blobs;
using SafeHaven.Gateway.Artifacts;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// One upstream version with what the policy needs, derived once: the parsed version, its normalised lower-case
/// form (the flat container's spelling), the publish date (null when upstream gives none, or gives the 1900
/// placeholder it uses for unlisted versions) and the promised hash.
/// </summary>
public sealed record NuGetVersionEntry(NuGetLeaf Leaf, NuGetVersion Version, string Normalized, DateTimeOffset? Published, ExpectedHash? Sha512, BlobDigest? Sha256)
{
    /// <summary>Whether a hash to verify the package against is known or can be read from the upstream catalog leaf.</summary>
    public bool Verifiable => Sha512 is not null || Sha256 is not null || Leaf.CatalogUrl is not null;
}

/// <summary>A package's upstream registration (index and pages) as last fetched, merged and ordered. Immutable.</summary>
public sealed class NuGetPackageState
{
    public NuGetPackageState(string lowerId, IEnumerable<NuGetLeaf> leaves)
    {
        LowerId = lowerId;
        var entries = new Dictionary<string, NuGetVersionEntry>(StringComparer.Ordinal);
        foreach (var leaf in leaves)
        {
            if (!NuGetVersion.TryParse(leaf.Version, out var version))
            {
                continue; // not a version a NuGet client could ask for
            }
            var normalized = Normalize(version);
            var (sha512, sha256) = ParseHash(leaf.PackageHash, leaf.PackageHashAlgorithm);
            entries[normalized] = new NuGetVersionEntry(leaf, version, normalized, ParsePublished(leaf.Published), sha512, sha256);
        }
        Entries = entries.Values.OrderBy(e => e.Version, VersionComparer.Default).ToList();
        ByVersion = entries;
        DisplayId = Entries.Count > 0 ? Entries[^1].Leaf.Id : lowerId;
    }

    public string LowerId { get; }

    /// <summary>The id as the newest version spells it.</summary>
    public string DisplayId { get; }

    /// <summary>Every version, oldest first in NuGet's order.</summary>
    public IReadOnlyList<NuGetVersionEntry> Entries { get; }

    /// <summary>By normalised lower-case version.</summary>
    public IReadOnlyDictionary<string, NuGetVersionEntry> ByVersion { get; }

    public long EstimatedSize => 512 + Entries.Count * 1024L;

    /// <summary>The flat container's spelling of a version: normalised (no metadata, no trailing .0 revision), lower case.</summary>
    public static string Normalize(NuGetVersion version) => version.ToNormalizedString().ToLowerInvariant();

    public static bool TryNormalize(string text, out string normalized)
    {
        normalized = "";
        if (!NuGetVersion.TryParse(text, out var version))
        {
            return false;
        }
        normalized = Normalize(version);
        return true;
    }

    /// <summary>Upstream's <c>published</c>; the year-1900 placeholder of unlisted versions is no date at all.</summary>
    public static DateTimeOffset? ParsePublished(string? text) =>
        text is not null
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
        && value.Year > 1900
            ? value
            : null;

    /// <summary>NuGet's <c>packageHash</c> is base64; <c>packageHashAlgorithm</c> is SHA512 (SHA256 accepted too).</summary>
    public static (ExpectedHash? Sha512, BlobDigest? Sha256) ParseHash(string? hash, string? algorithm)
    {
        if (hash is null)
        {
            return (null, null);
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(hash);
        }
        catch (FormatException)
        {
            return (null, null);
        }
        return (algorithm ?? "SHA512").ToUpperInvariant() switch
        {
            "SHA512" when bytes.Length == 64 => (new ExpectedHash(HashAlgorithmName.SHA512, bytes), null),
            "SHA256" when bytes.Length == 32 => (null, BlobDigest.FromHash(bytes)),
            _ => (null, null),
        };
    }
}
