using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Volumes;

/// <summary>
/// Who may do what with a volume: <c>External</c> (write-only deposit from outside), <c>Review</c> (frozen while
/// reviewers decide), <c>Internal</c> (read-only inside). Files can be added only in <c>External</c> mode; the
/// workflow decides when a volume moves on.
/// </summary>
public enum VolumeMode
{
    External,
    Review,
    Internal,
}

public sealed record AirlockVolume(string Id, string WorkPackage, string Name, VolumeMode Mode, DateTimeOffset CreatedAt);

/// <summary>A complete file in a volume: its path in the volume and the blob holding its content.</summary>
public sealed record VolumeFile(string Path, BlobDigest Sha256, long Size, DateTimeOffset AddedAt);

/// <summary>
/// Every file of a volume with size and SHA-256, and a digest over the whole. The canonical text is one line per
/// file, sorted by path (ordinal, UTF-8): <c>&lt;sha256 hex&gt; &lt;size&gt; &lt;path&gt;\n</c>; the volume digest is the
/// SHA-256 of that text, so anyone holding the manifest can recompute it.
/// </summary>
public sealed record VolumeManifest(string VolumeId, IReadOnlyList<VolumeFile> Files)
{
    public IReadOnlyList<VolumeFile> Files { get; } = Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

    public long TotalSize => Files.Sum(f => f.Size);

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var file in Files)
        {
            text.Append(file.Sha256.Hex).Append(' ').Append(file.Size).Append(' ').Append(file.Path).Append('\n');
        }
        return text.ToString();
    }

    public BlobDigest VolumeDigest => BlobDigest.FromHash(SHA256.HashData(Encoding.UTF8.GetBytes(Render())));
}

/// <summary>
/// Paths of files within a volume: relative, <c>/</c>-separated, no <c>.</c> or <c>..</c> segments, in Unicode
/// normalisation form C, and names a reviewer can trust: no control or format characters (bidi overrides,
/// zero-width characters), no two paths of one volume equal but for case, and no path that is both a file and a
/// directory.
/// </summary>
public static class VolumePath
{
    public const int MaxLength = 1024;

    private static readonly ICU4N.Text.Normalizer2 Nfc = ICU4N.Text.Normalizer2.NFCInstance;

    /// <summary>The canonical (NFC) form of <paramref name="path"/>, or an <see cref="ArgumentException"/> saying why not.</summary>
    public static string Normalise(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // The appliance runs with invariant globalization (string.Normalize is a no-op there), so NFC comes from ICU4N's
        // own Unicode data. Unpaired surrogates are refused below, after normalisation leaves them as they are.
        if (!Nfc.IsNormalized(path))
        {
            path = Nfc.Normalize(path);
        }
        if (path.Length == 0 || path.Length > MaxLength)
        {
            throw new ArgumentException($"A volume path must have 1 to {MaxLength} characters.");
        }
        for (var i = 0; i < path.Length; i++)
        {
            if (Refused(path, i) is { } what)
            {
                throw new ArgumentException(
                    $"A volume path may not contain {what} (U+{(int)path[i]:X4} at position {i}): names must read the same to reviewers as to programs.");
            }
        }
        if (path.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException("A volume path may not contain backslashes.");
        }
        if (path.StartsWith('/'))
        {
            throw new ArgumentException($"A volume path is relative: '{path}'.");
        }
        var segments = path.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"A volume path may not have empty, '.' or '..' segments: '{path}'.");
        }
        return path;
    }

    /// <summary>
    /// Why <paramref name="path"/> (normalised) cannot join a volume that already has <paramref name="existing"/>
    /// (files and paths being uploaded), or null: another path equal but for case, a file where
    /// <paramref name="path"/> needs a directory, or a directory where it would be a file. An identical path is
    /// not reported here (that is a plain conflict: files are never overwritten).
    /// </summary>
    public static string? Clash(string path, IEnumerable<string> existing)
    {
        ArgumentNullException.ThrowIfNull(existing);
        foreach (var other in existing)
        {
            if (string.Equals(other, path, StringComparison.Ordinal))
            {
                continue;
            }
            if (string.Equals(other, path, StringComparison.OrdinalIgnoreCase))
            {
                return $"'{path}' differs only in case from '{other}', already in the volume.";
            }
            if (other.Length > path.Length && other[path.Length] == '/' && other.StartsWith(path, StringComparison.OrdinalIgnoreCase))
            {
                return $"'{path}' would be a file, but the volume has '{other}' inside a directory of that name.";
            }
            if (path.Length > other.Length && path[other.Length] == '/' && path.StartsWith(other, StringComparison.OrdinalIgnoreCase))
            {
                return $"'{path}' needs '{path[..other.Length]}' to be a directory, but the volume has a file '{other}'.";
            }
        }
        return null;
    }

    private static string? Refused(string path, int i)
    {
        var c = path[i];
        if (char.IsSurrogate(c))
        {
            var paired = char.IsHighSurrogate(c) ? i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]) : i > 0 && char.IsHighSurrogate(path[i - 1]);
            if (!paired)
            {
                return "an unpaired surrogate";
            }
            return char.IsHighSurrogate(c) && System.Globalization.CharUnicodeInfo.GetUnicodeCategory(path, i) == System.Globalization.UnicodeCategory.Format
                ? "a format character"
                : null;
        }
        return System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            System.Globalization.UnicodeCategory.Control => "a control character",
            System.Globalization.UnicodeCategory.Format => "a format character (bidirectional override, zero-width or other invisible formatting)",
            System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator => "a line or paragraph separator",
            _ => null,
        };
    }
}

/// <summary>Volumes and their complete files.</summary>
public interface IVolumeStore
{
    Task<AirlockVolume> CreateAsync(string workPackage, string name, CancellationToken cancellationToken);

    Task<AirlockVolume?> GetAsync(string volumeId, CancellationToken cancellationToken);

    Task<IReadOnlyList<AirlockVolume>> ListAsync(CancellationToken cancellationToken);

    Task SetModeAsync(string volumeId, VolumeMode mode, CancellationToken cancellationToken);

    /// <summary>The volume's complete files (uploads in progress are never listed), or null for an unknown volume.</summary>
    Task<VolumeManifest?> GetManifestAsync(string volumeId, CancellationToken cancellationToken);
}
