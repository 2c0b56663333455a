using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Packages;

namespace SafeHaven.Core.Advisories;

/// <summary>A version that an advisory names as fixing it.</summary>
public sealed record AdvisoryFix(string AdvisoryId, string Ecosystem, string Package, string FixedVersion);

/// <summary>
/// A record of a malicious package (OSV id starting <c>MAL-</c>, as the OpenSSF malicious-packages feed publishes them):
/// the versions it lists and the versions inside its ranges are never served.
/// </summary>
public sealed record MaliciousRecord(string Id, string Ecosystem, string Package, IReadOnlyList<string> Versions, IReadOnlyList<IReadOnlyList<OsvEvent>> Ranges);

/// <summary>One event of an OSV range: <c>introduced</c>, <c>fixed</c>, <c>last_affected</c> or <c>limit</c>.</summary>
public sealed record OsvEvent(string Kind, string Version);

/// <summary>
/// Known vulnerabilities from OSV-format JSON files (https://ossf.github.io/osv-schema/) that an operator drops
/// into a folder: the environment has no internet, so nothing is fetched. Only what the fast-track needs is kept:
/// which versions are named as <c>fixed</c> in an <c>affected[].ranges[].events</c> list.
/// </summary>
public sealed class AdvisoryIndex
{
    public static readonly AdvisoryIndex Empty = new([], [], [], 0, [], "");

    /// <summary>The id prefix of the OpenSSF malicious-packages records.</summary>
    public const string MaliciousPrefix = "MAL-";

    private readonly Dictionary<(string Ecosystem, string Package), List<AdvisoryFix>> _fixes;
    private readonly Dictionary<(string Ecosystem, string Package), List<MaliciousRecord>> _malicious;
    private readonly Dictionary<(string Source, string Codename), TrackerFix> _trackerFixes;

    private AdvisoryIndex(Dictionary<(string, string), List<AdvisoryFix>> fixes, Dictionary<(string, string), List<MaliciousRecord>> malicious,
        Dictionary<(string, string), TrackerFix> trackerFixes, int advisoryCount, IReadOnlyList<string> errors, string fingerprint)
    {
        Fingerprint = fingerprint;
        _fixes = fixes;
        _malicious = malicious;
        _trackerFixes = trackerFixes;
        AdvisoryCount = advisoryCount;
        MaliciousCount = malicious.Values.Sum(l => l.Count);
        Errors = errors;
    }

    public int AdvisoryCount { get; }

    /// <summary>
    /// SHA-256 (hex) over every file read, by its path under the folder and its content; empty when there is no folder.
    /// Two replicas whose advisories folders hold the same files have the same fingerprint.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>How many (source package, codename) pairs the Debian security tracker names a fixed version for.</summary>
    public int TrackerFixCount => _trackerFixes.Count;

    /// <summary>How many (record, package) pairs of malicious-package records are in force.</summary>
    public int MaliciousCount { get; }

    /// <summary>Files that could not be read, with the reason; they are skipped, never guessed at.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>
    /// Loads every <c>*.json</c> file under <paramref name="directory"/>; each holds one OSV record or an array of them,
    /// or is the Debian security tracker's JSON export (recognised by its content, read as a stream:
    /// <see cref="DebianSecurityTracker"/>). <paramref name="normalizeName"/> maps an OSV ecosystem and package name
    /// to the mirror's key for it.
    /// </summary>
    public static AdvisoryIndex Load(string directory, Func<string, string, string> normalizeName, ILogger? logger = null)
    {
        if (!Directory.Exists(directory))
        {
            return Empty;
        }
        var fixes = new Dictionary<(string, string), List<AdvisoryFix>>();
        var malicious = new Dictionary<(string, string), List<MaliciousRecord>>();
        var trackerFixes = new Dictionary<(string, string), TrackerFix>();
        var errors = new List<string>();
        var count = 0;
        using var fingerprint = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                using (var content = File.OpenRead(file))
                {
                    fingerprint.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, file) + "\n"));
                    fingerprint.AppendData(SHA256.HashData(content));
                }
                using (var trackerStream = File.OpenRead(file))
                {
                    if (DebianSecurityTracker.TryRead(trackerStream) is { } tracker)
                    {
                        MergeTracker(trackerFixes, tracker);
                        count += tracker.Values.Sum(f => f.EntryCount);
                        continue;
                    }
                }
                using var stream = File.OpenRead(file);
                using var document = JsonDocument.Parse(stream);
                var records = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToList()
                    : [document.RootElement];
                // A file is used whole or not at all: stage its records and merge only once all of them are read.
                var staged = new Dictionary<(string, string), List<AdvisoryFix>>();
                var stagedMalicious = new Dictionary<(string, string), List<MaliciousRecord>>();
                var stagedCount = 0;
                foreach (var record in records)
                {
                    stagedCount += AddRecord(record, staged, stagedMalicious, normalizeName) ? 1 : 0;
                }
                Merge(fixes, staged);
                Merge(malicious, stagedMalicious);
                count += stagedCount;
            }
            catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or UnauthorizedAccessException or InvalidDataException)
            {
                var message = $"{file}: {e.Message}";
                errors.Add(message);
                logger?.LogWarning("Skipping unreadable advisory file {File}: {Reason}", file, e.Message);
            }
        }
        return new AdvisoryIndex(fixes, malicious, trackerFixes, count, errors, Convert.ToHexStringLower(fingerprint.GetHashAndReset()));
    }

    private static void MergeTracker(Dictionary<(string, string), TrackerFix> into, Dictionary<(string Source, string Codename), TrackerFix> from)
    {
        foreach (var (key, fix) in from)
        {
            if (!into.TryGetValue(key, out var existing))
            {
                into[key] = fix;
            }
            else
            {
                var newer = fix.FixedVersion.CompareTo(existing.FixedVersion) > 0 ? fix : existing;
                into[key] = newer with { EntryCount = existing.EntryCount + fix.EntryCount };
            }
        }
    }

    /// <summary>
    /// The Debian security tracker's newest fix for <paramref name="source"/> in the release <paramref name="codename"/>
    /// when <paramref name="version"/> is exactly that fixed version (it carries every fix the tracker knows for that
    /// release), else null. Exactly, as for OSV: a later upload of the same source is a new, unreviewed version and waits
    /// out the quarantine like any other. Tracker data only ever fast-tracks: it never blocks a version.
    /// </summary>
    public TrackerFix? TrackerFixFor(string source, string codename, DebianVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return _trackerFixes.TryGetValue((source, codename.ToLowerInvariant()), out var fix) && version.Equals(fix.FixedVersion)
            ? fix
            : null;
    }

    private static void Merge<T>(Dictionary<(string, string), List<T>> into, Dictionary<(string, string), List<T>> from)
    {
        foreach (var (key, list) in from)
        {
            if (!into.TryGetValue(key, out var existing))
            {
                into[key] = existing = [];
            }
            existing.AddRange(list);
        }
    }

    private static bool AddRecord(JsonElement record, Dictionary<(string, string), List<AdvisoryFix>> fixes,
        Dictionary<(string, string), List<MaliciousRecord>> malicious, Func<string, string, string> normalizeName)
    {
        if (record.ValueKind != JsonValueKind.Object || !record.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String)
        {
            throw new InvalidOperationException("an OSV record needs a string 'id'");
        }
        if (record.TryGetProperty("withdrawn", out var withdrawn) && withdrawn.ValueKind == JsonValueKind.String)
        {
            return false;
        }
        var id = idElement.GetString()!;
        if (!record.TryGetProperty("affected", out var affected) || affected.ValueKind != JsonValueKind.Array)
        {
            return true;
        }
        if (id.StartsWith(MaliciousPrefix, StringComparison.OrdinalIgnoreCase))
        {
            AddMalicious(id, affected, malicious, normalizeName);
            return true; // a malicious-package record names no fix: nothing is fast-tracked by it
        }
        foreach (var entry in affected.EnumerateArray())
        {
            if (!entry.TryGetProperty("package", out var package)
                || !package.TryGetProperty("ecosystem", out var ecosystemElement)
                || !package.TryGetProperty("name", out var nameElement))
            {
                continue;
            }
            var ecosystem = ecosystemElement.GetString() ?? "";
            var name = nameElement.GetString() ?? "";
            var key = (ecosystem.ToLowerInvariant(), normalizeName(ecosystem, name));
            if (!entry.TryGetProperty("ranges", out var ranges) || ranges.ValueKind != JsonValueKind.Array)
            {
                continue;
            }
            foreach (var range in ranges.EnumerateArray())
            {
                if (range.TryGetProperty("type", out var type) && type.GetString() == "GIT")
                {
                    continue; // commit hashes, not versions
                }
                if (!range.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }
                foreach (var ev in events.EnumerateArray())
                {
                    if (ev.TryGetProperty("fixed", out var fixedElement) && fixedElement.ValueKind == JsonValueKind.String)
                    {
                        if (!fixes.TryGetValue(key, out var list))
                        {
                            fixes[key] = list = [];
                        }
                        list.Add(new AdvisoryFix(id, ecosystem, name, fixedElement.GetString()!));
                    }
                }
            }
        }
        return true;
    }

    private static void AddMalicious(string id, JsonElement affected, Dictionary<(string, string), List<MaliciousRecord>> malicious,
        Func<string, string, string> normalizeName)
    {
        foreach (var entry in affected.EnumerateArray())
        {
            if (!entry.TryGetProperty("package", out var package)
                || !package.TryGetProperty("ecosystem", out var ecosystemElement) || ecosystemElement.ValueKind != JsonValueKind.String
                || !package.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                throw new InvalidOperationException($"{id}: an affected entry needs a package ecosystem and name");
            }
            var ecosystem = ecosystemElement.GetString()!;
            var name = nameElement.GetString()!;
            var versions = new List<string>();
            if (entry.TryGetProperty("versions", out var versionList) && versionList.ValueKind == JsonValueKind.Array)
            {
                versions.AddRange(versionList.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!));
            }
            var ranges = new List<IReadOnlyList<OsvEvent>>();
            if (entry.TryGetProperty("ranges", out var rangeList) && rangeList.ValueKind == JsonValueKind.Array)
            {
                foreach (var range in rangeList.EnumerateArray())
                {
                    if (range.TryGetProperty("type", out var type) && type.GetString() == "GIT")
                    {
                        continue; // commit hashes, not versions
                    }
                    if (!range.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                    {
                        continue;
                    }
                    var list = new List<OsvEvent>();
                    foreach (var ev in events.EnumerateArray())
                    {
                        foreach (var kind in (string[])["introduced", "fixed", "last_affected", "limit"])
                        {
                            if (ev.TryGetProperty(kind, out var value) && value.ValueKind == JsonValueKind.String)
                            {
                                list.Add(new OsvEvent(kind, value.GetString()!));
                            }
                        }
                    }
                    if (list.Count > 0)
                    {
                        ranges.Add(list);
                    }
                }
            }
            if (versions.Count == 0 && ranges.Count == 0)
            {
                // An entry naming no versions and no ranges affects every version (OSV: the whole package).
                ranges.Add([new OsvEvent("introduced", "0")]);
            }
            var key = (ecosystem.ToLowerInvariant(), normalizeName(ecosystem, name));
            if (!malicious.TryGetValue(key, out var records))
            {
                malicious[key] = records = [];
            }
            records.Add(new MaliciousRecord(id, ecosystem, name, versions, ranges));
        }
    }

    /// <summary>
    /// The malicious-package records (<c>MAL-</c>) that name <paramref name="version"/>, by its <c>versions</c> list
    /// or inside one of its ranges. <paramref name="compareVersions"/> orders two versions, or answers null when either
    /// cannot be read; a range that cannot be decided for that reason counts as matching: fail closed.
    /// </summary>
    public IReadOnlyList<MaliciousRecord> MaliciousFor(string osvEcosystem, string normalizedPackage, string version,
        Func<string, string, bool> versionEquals, Func<string, string, int?>? compareVersions)
    {
        if (_malicious.Count == 0 || !_malicious.TryGetValue((osvEcosystem.ToLowerInvariant(), normalizedPackage), out var list))
        {
            return [];
        }
        return list.Where(r => r.Versions.Any(v => versionEquals(v, version)) || r.Ranges.Any(range => InRange(range, version, compareVersions))).ToList();
    }

    /// <summary>
    /// The OSV evaluation of one range: the version is affected when some <c>introduced</c> event is at or below it
    /// and no <c>fixed</c>/<c>limit</c> event after that introduction is at or below it, nor any <c>last_affected</c>
    /// event at or after it lies below it. Versions that cannot be compared fail closed (affected).
    /// </summary>
    private static bool InRange(IReadOnlyList<OsvEvent> events, string version, Func<string, string, int?>? compare)
    {
        foreach (var introduced in events.Where(e => e.Kind == "introduced"))
        {
            var fromZero = introduced.Version == "0";
            if (!fromZero)
            {
                if (compare?.Invoke(introduced.Version, version) is not { } ci)
                {
                    return true;
                }
                if (ci > 0)
                {
                    continue;
                }
            }
            var closed = false;
            foreach (var end in events.Where(e => e.Kind is "fixed" or "limit" or "last_affected"))
            {
                if (compare is null)
                {
                    return true;
                }
                if (compare(end.Version, version) is not { } versusTarget)
                {
                    return true;
                }
                int versusIntroduced;
                if (fromZero)
                {
                    versusIntroduced = 1;
                }
                else if (compare(end.Version, introduced.Version) is { } c)
                {
                    versusIntroduced = c;
                }
                else
                {
                    return true;
                }
                closed |= end.Kind == "last_affected"
                    ? versusIntroduced >= 0 && versusTarget < 0
                    : versusIntroduced > 0 && versusTarget <= 0;
            }
            if (!closed)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The advisories that name <paramref name="version"/> as their fix, compared with the ecosystem's own
    /// version equality.
    /// </summary>
    public IReadOnlyList<AdvisoryFix> FixesFor(string osvEcosystem, string normalizedPackage, string version, Func<string, string, bool> versionEquals)
    {
        if (!_fixes.TryGetValue((osvEcosystem.ToLowerInvariant(), normalizedPackage), out var list))
        {
            return [];
        }
        return list.Where(f => versionEquals(f.FixedVersion, version)).ToList();
    }

    /// <summary>
    /// Every record indexed for a package, whatever the version: the advisories with a fixed version and the
    /// malicious-package records (what a Referee's risk summary lists). Advisories without a <c>fixed</c> event are not
    /// indexed, so they are not listed.
    /// </summary>
    public (IReadOnlyList<AdvisoryFix> Fixes, IReadOnlyList<MaliciousRecord> Malicious) ForPackage(string osvEcosystem, string normalizedPackage)
    {
        var key = (osvEcosystem.ToLowerInvariant(), normalizedPackage);
        return (_fixes.TryGetValue(key, out var fixes) ? fixes : [], _malicious.TryGetValue(key, out var malicious) ? malicious : []);
    }
}
