using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Inspection;

/// <summary>Why inspection blocked (or could not finish) a file.</summary>
public enum FindingKind
{
    /// <summary>An entry name climbs out of the archive root with <c>..</c>.</summary>
    PathTraversal,
    /// <summary>An entry name is absolute (<c>/etc/passwd</c>, <c>C:\…</c>).</summary>
    AbsolutePath,
    /// <summary>A symbolic or hard link points outside the archive root, or an entry sits under a link.</summary>
    LinkEscape,
    /// <summary>A device, FIFO or socket entry.</summary>
    SpecialFile,
    /// <summary>Decompressed data exceeded the ratio or total-size limit while being streamed.</summary>
    DecompressionBomb,
    /// <summary>Archives nested deeper than allowed.</summary>
    NestingTooDeep,
    /// <summary>More entries than allowed.</summary>
    TooManyEntries,
    /// <summary>The archive could not be read to the end (corrupt, truncated or deliberately malformed).</summary>
    Malformed,
    /// <summary>
    /// An archive or compressed format (recognised by its content or its name) that the inspector cannot list, so its
    /// contents cannot be cleared: blocked rather than let through as plain data.
    /// </summary>
    Uninspectable,
    /// <summary>The virus scanner found something.</summary>
    Malware,
    /// <summary>A check could not be completed (scanner timeout or error, tool missing).</summary>
    CheckFailed,
    /// <summary>The stored content does not hash to the digest recorded for it.</summary>
    IntegrityMismatch,
}

public enum InspectionVerdict
{
    /// <summary>Nothing found.</summary>
    Clean,
    /// <summary>A check failed to complete; the file is neither cleared nor blocked by it.</summary>
    Failed,
    /// <summary>Something was found that must not enter.</summary>
    Blocked,
}

public enum ArchiveEntryKind
{
    File,
    Directory,
    SymbolicLink,
    HardLink,
    Device,
    Fifo,
    Other,
}

/// <summary>One finding, on a path like <c>outer.tar.gz!/inner.zip!/a.txt</c>.</summary>
public sealed record InspectionFinding(string Path, FindingKind Kind, string Reason)
{
    public InspectionVerdict Verdict => Kind == FindingKind.CheckFailed ? InspectionVerdict.Failed : InspectionVerdict.Blocked;
}

/// <summary>One archive member as listed (never extracted). <see cref="Size"/> is what its header declares.</summary>
public sealed record ArchiveEntryInfo(string Path, long Size, ArchiveEntryKind Kind, string? LinkTarget = null);

/// <summary>What inspection learned about one file: its manifest line, its archive listing and its findings.</summary>
public sealed record FileInspection(
    string Path,
    long Size,
    BlobDigest Sha256,
    string Format,
    IReadOnlyList<ArchiveEntryInfo> Entries,
    IReadOnlyList<InspectionFinding> Findings)
{
    public InspectionVerdict Verdict => Findings.Count == 0 ? InspectionVerdict.Clean : Findings.Max(f => f.Verdict);
}

/// <summary>Inspection of a set of files (a volume): every file with size and SHA-256, listings and findings.</summary>
public sealed record InspectionReport(IReadOnlyList<FileInspection> Files)
{
    public InspectionVerdict Verdict => Files.Count == 0 ? InspectionVerdict.Clean : Files.Max(f => f.Verdict);
}
