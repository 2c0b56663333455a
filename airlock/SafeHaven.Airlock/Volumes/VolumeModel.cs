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

/// <summary>Paths of files within a volume: relative, <c>/</c>-separated, no <c>.</c> or <c>..</c> segments.</summary>
public static class VolumePath
{
    public const int MaxLength = 1024;

    /// <summary>The canonical form of <paramref name="path"/>, or an <see cref="ArgumentException"/> saying why not.</summary>
    public static string Normalise(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.Length > MaxLength)
        {
            throw new ArgumentException($"A volume path must have 1 to {MaxLength} characters.", nameof(path));
        }
        if (path.Any(c => char.IsControl(c) || c == '\\'))
        {
            throw new ArgumentException("A volume path may not contain control characters or backslashes.", nameof(path));
        }
        if (path.StartsWith('/'))
        {
            throw new ArgumentException($"A volume path is relative: '{path}'.", nameof(path));
        }
        var segments = path.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"A volume path may not have empty, '.' or '..' segments: '{path}'.", nameof(path));
        }
        return path;
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
