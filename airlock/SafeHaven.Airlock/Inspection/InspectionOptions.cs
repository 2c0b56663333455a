using System.ComponentModel.DataAnnotations;

namespace SafeHaven.Airlock.Inspection;

/// <summary>Limits and tools for airlock inspection (section <c>SafeHaven:Airlock:Inspection</c>).</summary>
public sealed class InspectionOptions
{
    /// <summary>Largest allowed ratio of decompressed to compressed bytes, per compressed stream.</summary>
    [Range(1, 1_000_000)]
    public double MaxCompressionRatio { get; set; } = 100;

    /// <summary>The ratio is only judged once a stream has produced this many bytes (small text compresses well).</summary>
    [Range(0, long.MaxValue)]
    public long RatioGraceBytes { get; set; } = 1024 * 1024;

    /// <summary>Most decompressed bytes one file may produce, all nesting levels together.</summary>
    [Range(1, long.MaxValue)]
    public long MaxTotalUncompressedBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>Deepest archive-in-archive allowed (a top-level archive is depth 0).</summary>
    [Range(0, 32)]
    public int MaxNestingDepth { get; set; } = 3;

    [Range(1, int.MaxValue)]
    public int MaxEntries { get; set; } = 200_000;

    /// <summary>The git executable, for bundles.</summary>
    public string GitPath { get; set; } = "git";

    [Range(1, 86_400)]
    public int GitTimeoutSeconds { get; set; } = 300;

    /// <summary>The <c>clamdscan</c> executable; empty means no virus scan.</summary>
    public string? ClamdscanPath { get; set; }

    /// <summary>A scan that has not answered in this time fails (it never hangs the inspection).</summary>
    [Range(1, 86_400)]
    public int ClamAvTimeoutSeconds { get; set; } = 300;

    /// <summary>Where archives that need random access (zip, git bundles) are spooled when the store cannot seek.</summary>
    public string? TempDirectory { get; set; }
}
