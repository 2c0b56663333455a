using System.Text;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// Lists a Unix <c>ar</c> archive (Debian <c>.deb</c> packages, static libraries) forwards only: 60-byte member
/// headers, GNU (<c>//</c> table, <c>/n</c> references) and BSD (<c>#1/n</c>) long names. Every member is a plain
/// file; each is handed on to be inspected as content (a <c>.deb</c>'s <c>data.tar.xz</c> is listed in turn).
/// </summary>
internal static class ArLister
{
    private const int MaxNameTable = 1024 * 1024;

    public static async Task ListAsync(
        Stream archive, string path, InspectionWalk walk, Func<Stream, string, CancellationToken, Task> inspectMember, CancellationToken cancellationToken)
    {
        var magic = new byte[8];
        await archive.ReadExactlyAsync(magic, cancellationToken).ConfigureAwait(false);
        var header = new byte[60];
        string? longNames = null;
        var links = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var read = await archive.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }
            if (read < header.Length || header[58] != '`' || header[59] != '\n')
            {
                throw new InvalidDataException("an ar member header is truncated or corrupt");
            }
            var rawName = Encoding.ASCII.GetString(header, 0, 16).TrimEnd(' ');
            if (!long.TryParse(Encoding.ASCII.GetString(header, 48, 10).Trim(), out var size) || size < 0)
            {
                throw new InvalidDataException($"ar member '{rawName}' has no valid size");
            }
            var dataLength = size;
            string name;
            if (rawName == "//")
            {
                if (size > MaxNameTable)
                {
                    throw new InvalidDataException("the ar long-name table is too large");
                }
                var table = new byte[size];
                await archive.ReadExactlyAsync(table, cancellationToken).ConfigureAwait(false);
                longNames = Encoding.UTF8.GetString(table);
                await SkipPaddingAsync(archive, size, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (rawName is "/" or "/SYM64/" or "__.SYMDEF" or "__.SYMDEF SORTED")
            {
                await SkipAsync(archive, size + (size & 1), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (rawName.StartsWith("#1/", StringComparison.Ordinal) && int.TryParse(rawName[3..], out var bsdLength) && bsdLength >= 0 && bsdLength <= size && bsdLength < 4096)
            {
                var bytes = new byte[bsdLength];
                await archive.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                name = Encoding.UTF8.GetString(bytes).TrimEnd('\0');
                dataLength = size - bsdLength;
            }
            else if (rawName.Length > 1 && rawName[0] == '/' && int.TryParse(rawName[1..], out var offset))
            {
                if (longNames is null || offset < 0 || offset >= longNames.Length)
                {
                    throw new InvalidDataException($"ar member '{rawName}' refers to a long name that is not there");
                }
                var end = longNames.IndexOf("/\n", offset, StringComparison.Ordinal);
                name = end < 0 ? longNames[offset..] : longNames[offset..end];
            }
            else
            {
                name = rawName.EndsWith('/') ? rawName[..^1] : rawName;
            }
            var entryPath = $"{path}!/{name}";
            walk.Budget.AddEntry(entryPath);
            walk.Entries.Add(new ArchiveEntryInfo(entryPath, dataLength, ArchiveEntryKind.File));
            walk.CheckMember(entryPath, name, links);
            var member = new BoundedReadStream(archive, dataLength);
            await inspectMember(member, entryPath, cancellationToken).ConfigureAwait(false);
            await member.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            if (member.Remaining > 0)
            {
                throw new InspectionStoppedException(FindingKind.Malformed, $"'{entryPath}' declares {dataLength} bytes but the archive ends early (truncated)", entryPath);
            }
            await SkipPaddingAsync(archive, size, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SkipPaddingAsync(Stream archive, long size, CancellationToken cancellationToken)
    {
        if ((size & 1) == 1)
        {
            await SkipAsync(archive, 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SkipAsync(Stream archive, long count, CancellationToken cancellationToken)
    {
        var bounded = new BoundedReadStream(archive, count);
        await bounded.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
    }
}
