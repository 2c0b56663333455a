using System.Globalization;
using SafeHaven.Core.Packages;

namespace SafeHaven.Gateway.Ecosystems.Apt.Debian;

/// <summary>
/// One binary package entry of a <c>Packages</c> index, the fields the mirror and the closure use read and checked,
/// the whole <see cref="Stanza"/> kept for re-publishing. <see cref="MultiArch"/> is <c>no</c>, <c>same</c>,
/// <c>foreign</c> or <c>allowed</c>; <see cref="Priority"/> is empty when the entry has none; <see cref="Sha256"/> is
/// lower-case hexadecimal.
/// </summary>
public sealed record AptPackage(
    string Name, DebianVersion Version, string Architecture, string MultiArch,
    IReadOnlyList<IReadOnlyList<AptRelation>> Depends, IReadOnlyList<IReadOnlyList<AptRelation>> PreDepends,
    IReadOnlyList<AptRelation> Provides, bool Essential, string Priority, string Filename, long Size, string Sha256,
    Deb822Paragraph Stanza)
{
    private static readonly string[] MultiArchValues = ["no", "same", "foreign", "allowed"];

    /// <summary>
    /// Reads an entry of the <c>Packages</c> index of <paramref name="architecture"/> (the native architecture it is
    /// read for: architecture restrictions in relation fields are evaluated for it). Any of <c>Package</c>,
    /// <c>Version</c>, <c>Architecture</c>, <c>Filename</c>, <c>Size</c>, <c>SHA256</c> missing or malformed, or a
    /// malformed <c>Depends</c>/<c>Pre-Depends</c>/<c>Provides</c>/<c>Multi-Arch</c>/<c>Essential</c>, is an
    /// <see cref="InvalidDataException"/>: an entry that cannot be read exactly is not served.
    /// </summary>
    public static AptPackage FromParagraph(Deb822Paragraph paragraph, string architecture)
    {
        ArgumentNullException.ThrowIfNull(paragraph);
        ArgumentNullException.ThrowIfNull(architecture);
        var name = Required(paragraph, "Package", null);
        if (!AptRelations.IsValidName(name))
        {
            throw new InvalidDataException($"Package '{name}' is not a Debian package name (policy 5.6.1)");
        }
        var versionText = Required(paragraph, "Version", name);
        if (!DebianVersion.TryParse(versionText, out var version, out var versionError))
        {
            throw new InvalidDataException($"package '{name}': Version '{versionText}' is not a Debian version: {versionError}");
        }
        var arch = Required(paragraph, "Architecture", name);
        if (!arch.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new InvalidDataException($"package '{name}': Architecture '{arch}' is not one architecture name");
        }
        var filename = Required(paragraph, "Filename", name);
        if (ReleaseFile.UnsafePath(filename) is { } unsafePath)
        {
            throw new InvalidDataException($"package '{name}': Filename '{filename}' {unsafePath}");
        }
        var sizeText = Required(paragraph, "Size", name);
        if (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new InvalidDataException($"package '{name}': Size '{sizeText}' is not a non-negative number");
        }
        var sha256 = Required(paragraph, "SHA256", name);
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
        {
            throw new InvalidDataException($"package '{name}': SHA256 '{sha256}' is not 64 hexadecimal digits");
        }
        var multiArch = paragraph["Multi-Arch"]?.Trim() ?? "no";
        if (!MultiArchValues.Contains(multiArch, StringComparer.Ordinal))
        {
            throw new InvalidDataException($"package '{name}': Multi-Arch '{multiArch}' is not one of no, same, foreign, allowed");
        }
        var essentialText = paragraph["Essential"]?.Trim();
        if (essentialText is not (null or "yes" or "no"))
        {
            throw new InvalidDataException($"package '{name}': Essential '{essentialText}' is neither yes nor no");
        }
        IReadOnlyList<IReadOnlyList<AptRelation>> depends, preDepends;
        IReadOnlyList<AptRelation> provides;
        try
        {
            depends = AptRelations.Parse(paragraph["Depends"], architecture);
            preDepends = AptRelations.Parse(paragraph["Pre-Depends"], architecture);
            provides = AptRelations.ParseProvides(paragraph["Provides"], architecture);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"package '{name}' {versionText}: {e.Message}", e);
        }
        return new AptPackage(
            name, version, arch, multiArch, depends, preDepends, provides, essentialText == "yes",
            paragraph["Priority"]?.Trim() ?? "", filename, size, sha256.ToLowerInvariant(), paragraph);
    }

    private static string Required(Deb822Paragraph paragraph, string field, string? package)
    {
        var value = paragraph[field]?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            throw new InvalidDataException(package is null
                ? $"a Packages entry has no {field} field"
                : $"package '{package}': no {field} field");
        }
        if (value.Contains('\n', StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{(package is null ? "a Packages entry" : $"package '{package}'")}: {field} spans several lines");
        }
        return value;
    }
}
