using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace SafeHaven.Gateway.Ecosystems.Cran;

/// <summary>Reads <c>&lt;pkg&gt;/DESCRIPTION</c> from an R source tarball, without extracting anything else.</summary>
public static class CranDescriptionReader
{
    /// <summary>Largest DESCRIPTION read; real ones are a few kilobytes.</summary>
    public const int MaximumDescriptionBytes = 1024 * 1024;

    /// <summary>The DESCRIPTION record of <paramref name="package"/>, or null when the tarball has none.</summary>
    public static async Task<DcfRecord?> ReadAsync(Stream tarGz, string package, CancellationToken cancellationToken)
    {
        await using var gzip = new GZipStream(tarGz, CompressionMode.Decompress, leaveOpen: true);
        await using var tar = new TarReader(gzip, leaveOpen: true);
        var wanted = package + "/DESCRIPTION";
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            if (!string.Equals(name, wanted, StringComparison.Ordinal) || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue;
            }
            if (entry.Length > MaximumDescriptionBytes || entry.DataStream is null)
            {
                throw new InvalidDataException($"{wanted} is larger than {MaximumDescriptionBytes} bytes");
            }
            using var buffer = new MemoryStream();
            await entry.DataStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            var records = Dcf.Parse(Encoding.UTF8.GetString(buffer.ToArray()));
            return records.Count > 0 ? records[0] : null;
        }
        return null;
    }

    /// <summary>The MD5 of a whole stream, lower-case hex (what <c>PACKAGES</c> gives as <c>MD5sum</c>).</summary>
    public static async Task<string> Md5Async(Stream stream, CancellationToken cancellationToken) =>
        Convert.ToHexStringLower(await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
}
