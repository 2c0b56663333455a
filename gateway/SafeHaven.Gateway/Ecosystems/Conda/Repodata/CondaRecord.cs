namespace SafeHaven.Gateway.Ecosystems.Conda.Repodata;

/// <summary>
/// What the mirror keeps in memory of one upstream <c>repodata.json</c> record: the fields the tier policy and the
/// downloads need, and where the whole record sits in the upstream file kept on disk (<see cref="Offset"/>,
/// <see cref="Length"/>), from which the published index copies every other field and the closure reads
/// <c>depends</c>. A conda-forge platform index has hundreds of thousands of records: this is all of each held.
/// </summary>
public sealed class CondaRecord
{
    /// <summary>Values of <c>timestamp</c> below this (9999-12-31T23:59:59Z in seconds) are seconds, as old records wrote them; others milliseconds.</summary>
    public const long SecondsBound = 253402300799;

    public required string Filename { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Build { get; init; }
    public int BuildNumber { get; init; }

    /// <summary>The record's <c>sha256</c> (lower-case hex), or null when it gives none (such a record is never listed).</summary>
    public string? Sha256 { get; init; }

    public long? Size { get; init; }

    /// <summary>The record's <c>timestamp</c> as written (milliseconds, or seconds for old records).</summary>
    public long? Timestamp { get; init; }

    /// <summary>Whether the record is under <c>packages.conda</c> (a <c>.conda</c> file) rather than <c>packages</c>.</summary>
    public bool IsConda { get; init; }

    public long Offset { get; init; }
    public int Length { get; init; }

    /// <summary>The appliance's first-seen time of the file (ms since the epoch), set once when the index is read.</summary>
    public long FirstSeenMs { get; set; }

    /// <summary>The upload time in milliseconds: <c>timestamp</c> read as seconds when below <see cref="SecondsBound"/>.</summary>
    public long? UploadedMs => Timestamp is not { } t || t <= 0 ? null : t < SecondsBound ? t * 1000 : t;

    /// <summary>The date the tier policy uses: the upload time, else the appliance's first-seen time.</summary>
    public DateTimeOffset Published => DateTimeOffset.FromUnixTimeMilliseconds(UploadedMs ?? FirstSeenMs);
}

/// <summary>
/// One upstream <c>repodata.json</c> as read: its <c>info</c> fields that matter (<c>subdir</c>, <c>base_url</c>),
/// <c>repodata_version</c>, the records of <c>packages</c> and <c>packages.conda</c> in upstream order, <c>removed</c>,
/// and how many records could not be read at all (no name, version or build).
/// </summary>
public sealed record CondaRepodata(
    string? Subdir, string? BaseUrl, long? RepodataVersion, IReadOnlyList<CondaRecord> Records, IReadOnlyList<string> Removed, int Unreadable)
{
    public static readonly CondaRepodata Empty = new(null, null, null, [], [], 0);
}

/// <summary>The parts of a record the closure follows, read from the upstream file when needed.</summary>
public sealed record CondaRecordDependencies(IReadOnlyList<string> Depends, IReadOnlyList<string> Constrains);
