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

    // Held compactly (hundreds of thousands of these per subdir): the hash as four words, absent numbers as -1, and the
    // file name only when it is not the usual <name>-<version>-<build>.<ext>.
    private readonly ulong _h0, _h1, _h2, _h3;
    private readonly bool _hasSha256;
    private readonly long _size = -1;
    private readonly long _timestamp = -1;
    private readonly string? _filename;

    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Build { get; init; }
    public int BuildNumber { get; init; }

    /// <summary>Whether the record is under <c>packages.conda</c> (a <c>.conda</c> file) rather than <c>packages</c>.</summary>
    public bool IsConda { get; init; }

    /// <summary>The file name, the record's key in the index.</summary>
    public required string Filename
    {
        get => _filename ?? string.Concat(Name, "-", Version, "-", Build, IsConda ? ".conda" : ".tar.bz2");
        init => _filename = value == string.Concat(Name, "-", Version, "-", Build, IsConda ? ".conda" : ".tar.bz2") ? null : value;
    }

    /// <summary>The record's <c>sha256</c> (lower-case hex), or null when it gives none (such a record is never listed).</summary>
    public string? Sha256
    {
        get => _hasSha256 ? string.Create(64, (_h0, _h1, _h2, _h3), static (span, h) =>
        {
            h.Item1.TryFormat(span[..16], out _, "x16");
            h.Item2.TryFormat(span[16..32], out _, "x16");
            h.Item3.TryFormat(span[32..48], out _, "x16");
            h.Item4.TryFormat(span[48..], out _, "x16");
        }) : null;
        init
        {
            if (value is { Length: 64 }
                && ulong.TryParse(value.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out _h0)
                && ulong.TryParse(value.AsSpan(16, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out _h1)
                && ulong.TryParse(value.AsSpan(32, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out _h2)
                && ulong.TryParse(value.AsSpan(48, 16), System.Globalization.NumberStyles.AllowHexSpecifier, null, out _h3))
            {
                _hasSha256 = true;
            }
        }
    }

    public bool HasSha256 => _hasSha256;

    public long? Size
    {
        get => _size < 0 ? null : _size;
        init => _size = value ?? -1;
    }

    /// <summary>The record's <c>timestamp</c> as written (milliseconds, or seconds for old records).</summary>
    public long? Timestamp
    {
        get => _timestamp < 0 ? null : _timestamp;
        init => _timestamp = value ?? -1;
    }

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
/// A subdir's records by file name without holding every file name as a string: keyed by a 64-bit FNV-1a hash of the
/// name, each hit checked against the record's own name (the rare colliding name is kept in a small exact table).
/// </summary>
public sealed class CondaRecordIndex
{
    public static readonly CondaRecordIndex Empty = new([]);

    private readonly Dictionary<ulong, CondaRecord> _byHash;
    private readonly Dictionary<string, CondaRecord> _collisions = new(StringComparer.Ordinal);

    public CondaRecordIndex(IReadOnlyList<CondaRecord> records)
    {
        _byHash = new Dictionary<ulong, CondaRecord>(records.Count);
        foreach (var record in records)
        {
            var filename = record.Filename;
            if (!_byHash.TryAdd(Hash(filename), record) && Find(filename) is null)
            {
                _collisions.TryAdd(filename, record);
            }
        }
    }

    /// <summary>The record of a file name (the first, when upstream lists one twice), or null.</summary>
    public CondaRecord? Find(string filename) =>
        _byHash.TryGetValue(Hash(filename), out var record) && record.Filename == filename ? record : _collisions.GetValueOrDefault(filename);

    private static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
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
