using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SafeHaven.Core.IO;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>Python core metadata (METADATA / PKG-INFO): an RFC 822-style header block.</summary>
public sealed record CoreMetadata(string? Name, string? Version, string? MetadataVersion, IReadOnlyList<string> RequiresDist, IReadOnlyList<string> Dynamic)
{
    /// <summary>
    /// Whether <see cref="RequiresDist"/> can be trusted: always for wheels; for sdists only from metadata 2.2 on
    /// and when <c>Requires-Dist</c> is not declared dynamic (PEP 643).
    /// </summary>
    public bool DependenciesAreStatic(bool fromSdist)
    {
        if (!fromSdist)
        {
            return true;
        }
        if (MetadataVersion is null || !System.Version.TryParse(MetadataVersion, out var parsed) || parsed < new System.Version(2, 2))
        {
            return false;
        }
        return !Dynamic.Any(d => d.Equals("Requires-Dist", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>Reads core metadata from a metadata file, a wheel (<c>*.dist-info/METADATA</c>) or an sdist (<c>PKG-INFO</c>).</summary>
public static class CoreMetadataReader
{
    /// <summary>Largest metadata file read; real ones are kilobytes.</summary>
    public const int MaximumBytes = 4 * 1024 * 1024;

    public static CoreMetadata Parse(string text)
    {
        string? name = null, version = null, metadataVersion = null;
        var requires = new List<string>();
        var dynamic = new List<string>();
        string? currentKey = null;
        var currentValue = new StringBuilder();

        void Flush()
        {
            if (currentKey is null)
            {
                return;
            }
            var value = currentValue.ToString().Trim();
            switch (currentKey.ToLowerInvariant())
            {
                case "name": name = value; break;
                case "version": version = value; break;
                case "metadata-version": metadataVersion = value; break;
                case "requires-dist": requires.Add(value); break;
                case "dynamic": dynamic.Add(value); break;
            }
            currentKey = null;
            currentValue.Clear();
        }

        foreach (var line in text.Split('\n'))
        {
            var trimmedEnd = line.TrimEnd('\r');
            if (trimmedEnd.Length == 0)
            {
                break; // the body (long description) follows the first blank line
            }
            if (char.IsWhiteSpace(trimmedEnd[0]) && currentKey is not null)
            {
                currentValue.Append(' ').Append(trimmedEnd.Trim());
                continue;
            }
            Flush();
            var colon = trimmedEnd.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            currentKey = trimmedEnd[..colon];
            currentValue.Append(trimmedEnd[(colon + 1)..]);
        }
        Flush();
        return new CoreMetadata(name, version, metadataVersion, requires, dynamic);
    }

    public static async Task<CoreMetadata> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(new ReadLimitStream(stream, MaximumBytes, limit => new InvalidDataException($"metadata is larger than {limit} bytes"), leaveOpen: true), Encoding.UTF8);
        return Parse(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reads <c>*.dist-info/METADATA</c> from a wheel (a seekable stream).</summary>
    public static async Task<CoreMetadata?> ReadFromWheelAsync(Stream wheel, CancellationToken cancellationToken)
    {
        using var archive = new ZipArchive(wheel, ZipArchiveMode.Read, leaveOpen: true);
        var entry = archive.Entries.FirstOrDefault(e =>
            e.FullName.Count(c => c == '/') == 1 && e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal));
        if (entry is null)
        {
            return null;
        }
        await using var stream = entry.Open();
        return await ReadAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the top-level <c>PKG-INFO</c> of a <c>.tar.gz</c> or <c>.zip</c> sdist.</summary>
    public static async Task<CoreMetadata?> ReadFromSdistAsync(Stream sdist, string filename, CancellationToken cancellationToken)
    {
        static bool IsPkgInfo(string path) => path.Count(c => c == '/') == 1 && path.EndsWith("/PKG-INFO", StringComparison.Ordinal);

        if (filename.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            using var archive = new ZipArchive(sdist, ZipArchiveMode.Read, leaveOpen: true);
            var entry = archive.Entries.FirstOrDefault(e => IsPkgInfo(e.FullName));
            if (entry is null)
            {
                return null;
            }
            await using var stream = entry.Open();
            return await ReadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        if (!filename.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) && !filename.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        await using var gzip = new GZipStream(sdist, CompressionMode.Decompress, leaveOpen: true);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is (TarEntryType.RegularFile or TarEntryType.V7RegularFile) && IsPkgInfo(entry.Name.TrimStart('.', '/')) && entry.DataStream is not null)
            {
                return await ReadAsync(entry.DataStream, cancellationToken).ConfigureAwait(false);
            }
        }
        return null;
    }
}
