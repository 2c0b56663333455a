using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace SafeHaven.Core.Advisories;

/// <summary>A version that an advisory names as fixing it.</summary>
public sealed record AdvisoryFix(string AdvisoryId, string Ecosystem, string Package, string FixedVersion);

/// <summary>
/// Known vulnerabilities from OSV-format JSON files (https://ossf.github.io/osv-schema/) that an operator drops
/// into a folder: the environment has no internet, so nothing is fetched. Only what the fast-track needs is kept:
/// which versions are named as <c>fixed</c> in an <c>affected[].ranges[].events</c> list.
/// </summary>
public sealed class AdvisoryIndex
{
    public static readonly AdvisoryIndex Empty = new([], 0, []);

    private readonly Dictionary<(string Ecosystem, string Package), List<AdvisoryFix>> _fixes;

    private AdvisoryIndex(Dictionary<(string, string), List<AdvisoryFix>> fixes, int advisoryCount, IReadOnlyList<string> errors)
    {
        _fixes = fixes;
        AdvisoryCount = advisoryCount;
        Errors = errors;
    }

    public int AdvisoryCount { get; }

    /// <summary>Files that could not be read, with the reason; they are skipped, never guessed at.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>
    /// Loads every <c>*.json</c> file under <paramref name="directory"/>; each holds one OSV record or an array of them.
    /// <paramref name="normalizeName"/> maps an OSV ecosystem and package name to the mirror's key for it.
    /// </summary>
    public static AdvisoryIndex Load(string directory, Func<string, string, string> normalizeName, ILogger? logger = null)
    {
        if (!Directory.Exists(directory))
        {
            return Empty;
        }
        var fixes = new Dictionary<(string, string), List<AdvisoryFix>>();
        var errors = new List<string>();
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                using var stream = File.OpenRead(file);
                using var document = JsonDocument.Parse(stream);
                var records = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToList()
                    : [document.RootElement];
                // A file is used whole or not at all: stage its records and merge only once all of them are read.
                var staged = new Dictionary<(string, string), List<AdvisoryFix>>();
                var stagedCount = 0;
                foreach (var record in records)
                {
                    stagedCount += AddRecord(record, staged, normalizeName) ? 1 : 0;
                }
                foreach (var (key, list) in staged)
                {
                    if (!fixes.TryGetValue(key, out var existing))
                    {
                        fixes[key] = existing = [];
                    }
                    existing.AddRange(list);
                }
                count += stagedCount;
            }
            catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                var message = $"{file}: {e.Message}";
                errors.Add(message);
                logger?.LogWarning("Skipping unreadable advisory file {File}: {Reason}", file, e.Message);
            }
        }
        return new AdvisoryIndex(fixes, count, errors);
    }

    private static bool AddRecord(JsonElement record, Dictionary<(string, string), List<AdvisoryFix>> fixes, Func<string, string, string> normalizeName)
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
}
