using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// What the tier lets clients see of one project at one moment: the visible files, the decision for every file,
/// and the rendered pages (built on first use). Valid until upstream is re-read, the policy changes, or a
/// quarantine ends (<see cref="ValidUntil"/>).
/// </summary>
public sealed class PyPIProjectView
{
    public static readonly EcosystemPolicyTraits Traits = new("PyPI", VersionsEqual, CompareVersions);

    private static readonly IReadOnlyDictionary<string, DateTimeOffset> NoneSeen = new Dictionary<string, DateTimeOffset>();

    private static readonly IReadOnlyDictionary<string, Artifacts.PinnedFile> NoneReplaced = new Dictionary<string, Artifacts.PinnedFile>();

    private readonly Lazy<RenderedPage>[] _pages;

    /// <param name="firstSeen">
    /// The appliance's first-seen time of each file upstream gives no upload time for, by <see cref="FirstSeenKey"/>:
    /// the clock of last resort for the quarantine. A file with neither stays hidden at Tier 2+.
    /// </param>
    /// <param name="approvedOutsideClosure">
    /// Tier 3+: the project is on the approved list, but the closure could not resolve it (no version was visible
    /// when it was computed). It is shown for what is visible now, and a page with nothing visible is refused with the real cause.
    /// </param>
    /// <param name="replaced">
    /// Pins, by file name (a PEP 658 metadata file as <c>name.metadata</c>), that upstream's listed hash contradicts:
    /// upstream replaced the file. The page shows the pinned hash, because the pinned copy is what is served; with
    /// upstream's new hash every client would refuse the file as a mismatch (hiding it instead would break every
    /// lock file that names it, for content that was verified and is still served unchanged).
    /// </param>
    public PyPIProjectView(PyPIProjectState state, PolicySnapshot policy, AllowlistClosure? closure, DateTimeOffset now,
        IReadOnlyDictionary<string, DateTimeOffset>? firstSeen = null, bool approvedOutsideClosure = false,
        IReadOnlyDictionary<string, Artifacts.PinnedFile>? replaced = null)
    {
        Replaced = replaced ?? NoneReplaced;
        State = state;
        PolicyGeneration = policy.Generation;
        Closure = closure;
        FirstSeen = firstSeen ?? NoneSeen;
        ApprovedOutsideClosure = approvedOutsideClosure;
        var decisions = new Dictionary<string, VersionDecision>(StringComparer.Ordinal);
        var hiddenByCode = new Dictionary<string, int>(StringComparer.Ordinal);
        var visible = new List<PyPIFileEntry>();
        var visibleVersions = new HashSet<string>(StringComparer.Ordinal);
        var versionsWithFiles = new HashSet<string>(StringComparer.Ordinal);
        DateTimeOffset? nextChange = null;
        foreach (var entry in state.Entries)
        {
            DateTimeOffset? seen = NeedsFirstSeen(entry) && FirstSeen.TryGetValue(FirstSeenKey(state.NormalizedName, entry.File), out var at) ? at : null;
            var decision = Decide(state.NormalizedName, entry, policy.Policy, now, seen);
            decisions[entry.File.Filename] = decision;
            if (entry.Version is not null)
            {
                versionsWithFiles.Add(entry.Version);
            }
            if (decision.Visible)
            {
                visible.Add(entry);
                if (entry.Version is not null)
                {
                    visibleVersions.Add(entry.Version);
                }
            }
            else
            {
                hiddenByCode[decision.Code] = hiddenByCode.GetValueOrDefault(decision.Code) + 1;
                if (decision.ChangesAt is { } changesAt && (nextChange is null || changesAt < nextChange))
                {
                    nextChange = changesAt;
                }
            }
        }
        Decisions = decisions;
        HiddenByCode = hiddenByCode;
        VisibleEntries = visible;
        if (state.Project.Versions is { } upstreamVersions)
        {
            // PEP 700: upstream's own list (it may name versions whose files are gone), less the versions the tier
            // hides entirely: every file of them hidden. A version with no files at all has nothing to hide.
            Versions = upstreamVersions
                .Where(v => !versionsWithFiles.Contains(VersionKey(v)) || visibleVersions.Contains(VersionKey(v)))
                .ToList();
        }
        else
        {
            // No upstream list (PEP 503 HTML): the versions of the visible files.
            Versions = visible.Where(e => e.ParsedVersion is not null)
                .GroupBy(e => e.ParsedVersion!)
                .Select(g => g.Key)
                .Order()
                .Select(v => v.ToString())
                .ToList();
        }
        ValidUntil = nextChange ?? DateTimeOffset.MaxValue;
        // upload-time is passed through exactly as upstream wrote it, and only then: a first-seen time is the
        // appliance's own clock and is never presented as upstream's (pip's --uploaded-prior-to and uv's
        // exclude-newer need the real value). An upload-time the appliance cannot read is not passed on either.
        var files = visible.Select(e => WithPinnedHashes(e.Uploaded is null && e.File.UploadTime is not null ? e.File with { UploadTime = null } : e.File, Replaced)).ToList();
        _pages = Enum.GetValues<SimpleFormat>()
            .Select(format => new Lazy<RenderedPage>(() => RenderedPage.Create(SimpleIndexRenderer.RenderProject(state.NormalizedName, files, Versions, format))))
            .ToArray();
    }

    public PyPIProjectState State { get; }

    /// <summary>The pins this view's page shows instead of upstream's contradicting hashes.</summary>
    public IReadOnlyDictionary<string, Artifacts.PinnedFile> Replaced { get; }

    private static PyPIFile WithPinnedHashes(PyPIFile file, IReadOnlyDictionary<string, Artifacts.PinnedFile> replaced)
    {
        if (replaced.Count == 0)
        {
            return file;
        }
        if (replaced.TryGetValue(file.Filename, out var pin))
        {
            // The stored copy's length too (PEP 700 size), or none when it is not stored, never upstream's new one.
            file = file with { Sha256 = pin.Pin.Sha256.Hex, Size = pin.Length };
        }
        if (file.CoreMetadata && replaced.TryGetValue(file.Filename + ".metadata", out var metadataPin))
        {
            file = file with { CoreMetadataSha256 = metadataPin.Pin.Sha256.Hex };
        }
        return file;
    }
    public long PolicyGeneration { get; }
    public AllowlistClosure? Closure { get; }
    public IReadOnlyDictionary<string, DateTimeOffset> FirstSeen { get; }
    public bool ApprovedOutsideClosure { get; }
    public IReadOnlyDictionary<string, VersionDecision> Decisions { get; }

    /// <summary>How many upstream files the tier hides, by decision code.</summary>
    public IReadOnlyDictionary<string, int> HiddenByCode { get; }

    public IReadOnlyList<PyPIFileEntry> VisibleEntries { get; }
    public IReadOnlyList<string> Versions { get; }
    public DateTimeOffset ValidUntil { get; }

    public RenderedPage Page(SimpleFormat format) => _pages[(int)format].Value;

    /// <summary>Whether a file's quarantine falls back to the appliance's first-seen time: upstream gives no (readable) upload time for it.</summary>
    public static bool NeedsFirstSeen(PyPIFileEntry entry) =>
        entry.Uploaded is null && entry.File.Sha256 is not null && Core.Blobs.BlobDigest.TryParse(entry.File.Sha256, out _);

    /// <summary>
    /// The first-seen identity of a file: project, file name and upstream SHA-256. A file replaced under the same
    /// name is a new file and waits out the quarantine again.
    /// </summary>
    public static string FirstSeenKey(string normalizedName, PyPIFile file) => $"{normalizedName}/{file.Filename}#sha256={file.Sha256}";

    /// <summary>
    /// The most common reason files are hidden, and a sentence for people saying why nothing is visible; the code is
    /// null when upstream lists no files at all (nothing is hidden, there is nothing).
    /// </summary>
    public (string? Code, string Reason) NothingVisible(int tier)
    {
        if (State.Entries.Count == 0)
        {
            return (null, $"tier {tier}: '{State.NormalizedName}' is approved, but upstream lists no files for it");
        }
        var code = HiddenByCode.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
        var counts = string.Join(", ", HiddenByCode.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value} {p.Key}"));
        var example = Decisions.Values.First(d => d.Code == code).Reason;
        return (code, $"tier {tier}: '{State.NormalizedName}' is approved, but none of its {State.Entries.Count} upstream files is visible at this tier ({counts}); for example: {example}");
    }

    /// <summary>
    /// The decision for one file. A file is judged by its own upload time, so a file added to an old release
    /// waits out the quarantine like a new release does. Files upstream gives no SHA-256 for are never offered:
    /// they could not be verified. A file with no upstream upload time is judged by <paramref name="firstSeen"/>,
    /// the appliance's own first sight of it; while that holds it back, its code is <c>no-upload-date</c>.
    /// </summary>
    public static VersionDecision Decide(string normalizedName, PyPIFileEntry entry, TierPolicy policy, DateTimeOffset now, DateTimeOffset? firstSeen = null)
    {
        if (entry.File.Sha256 is null || !Core.Blobs.BlobDigest.TryParse(entry.File.Sha256, out _))
        {
            return new VersionDecision(false, VersionDecision.Unverifiable, $"upstream gives no SHA-256 for {entry.File.Filename}, so it cannot be verified");
        }
        if (entry.Version is null)
        {
            return policy.AppliesQuarantine
                ? new VersionDecision(false, VersionDecision.UnknownVersion, $"tier {policy.Tier}: the version of {entry.File.Filename} cannot be read from its name")
                : new VersionDecision(true, VersionDecision.PassThrough, $"tier {policy.Tier}: pass-through");
        }
        if (entry.Uploaded is null && firstSeen is { } seen && policy.AppliesQuarantine)
        {
            var byFirstSeen = policy.EvaluateVersion(new VersionFacts("pypi", normalizedName, entry.Version, seen), Traits, now);
            var days = policy.MinimumAge.TotalDays;
            return byFirstSeen.Code switch
            {
                VersionDecision.Quarantined => new VersionDecision(false, VersionDecision.NoUploadDate,
                    $"tier {policy.Tier}: upstream gives no upload time for {entry.File.Filename}; this appliance first saw it at {seen.UtcDateTime:yyyy-MM-dd HH:mm}Z, so it is held until {byFirstSeen.VisibleFrom!.Value.UtcDateTime:yyyy-MM-dd HH:mm}Z ({days:0}-day delay from first sight)",
                    byFirstSeen.VisibleFrom),
                VersionDecision.Aged => new VersionDecision(true, VersionDecision.Aged,
                    $"tier {policy.Tier}: no upstream upload time; first seen by this appliance {seen.UtcDateTime:yyyy-MM-dd}, past the {days:0}-day quarantine"),
                _ => byFirstSeen,
            };
        }
        return policy.EvaluateVersion(new VersionFacts("pypi", normalizedName, entry.Version, entry.Uploaded), Traits, now);
    }

    private static string VersionKey(string version) => Pep440Version.TryParse(version, out var parsed) ? parsed.ToString() : version;

    private static int? CompareVersions(string left, string right) =>
        Pep440Version.TryParse(left, out var l) && Pep440Version.TryParse(right, out var r) ? l.CompareTo(r) : null;

    private static bool VersionsEqual(string left, string right) =>
        Pep440Version.TryParse(left, out var l) && Pep440Version.TryParse(right, out var r) ? l.Equals(r) : left == right;
}
