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
    public static readonly EcosystemPolicyTraits Traits = new("PyPI", VersionsEqual);

    private readonly Lazy<RenderedPage>[] _pages;

    public PyPIProjectView(PyPIProjectState state, PolicySnapshot policy, AllowlistClosure? closure, DateTimeOffset now)
    {
        State = state;
        PolicyGeneration = policy.Generation;
        Closure = closure;
        var decisions = new Dictionary<string, VersionDecision>(StringComparer.Ordinal);
        var visible = new List<PyPIFileEntry>();
        DateTimeOffset? nextChange = null;
        foreach (var entry in state.Entries)
        {
            var decision = Decide(state.NormalizedName, entry, policy.Policy, now);
            decisions[entry.File.Filename] = decision;
            if (decision.Visible)
            {
                visible.Add(entry);
            }
            else if (decision.ChangesAt is { } changesAt && (nextChange is null || changesAt < nextChange))
            {
                nextChange = changesAt;
            }
        }
        Decisions = decisions;
        VisibleEntries = visible;
        Versions = visible.Where(e => e.ParsedVersion is not null)
            .GroupBy(e => e.ParsedVersion!)
            .Select(g => g.Key)
            .Order()
            .Select(v => v.ToString())
            .ToList();
        ValidUntil = nextChange ?? DateTimeOffset.MaxValue;
        var files = visible.Select(e => e.File).ToList();
        _pages = Enum.GetValues<SimpleFormat>()
            .Select(format => new Lazy<RenderedPage>(() => RenderedPage.Create(SimpleIndexRenderer.RenderProject(state.NormalizedName, files, Versions, format))))
            .ToArray();
    }

    public PyPIProjectState State { get; }
    public long PolicyGeneration { get; }
    public AllowlistClosure? Closure { get; }
    public IReadOnlyDictionary<string, VersionDecision> Decisions { get; }
    public IReadOnlyList<PyPIFileEntry> VisibleEntries { get; }
    public IReadOnlyList<string> Versions { get; }
    public DateTimeOffset ValidUntil { get; }

    public RenderedPage Page(SimpleFormat format) => _pages[(int)format].Value;

    /// <summary>
    /// The decision for one file. A file is judged by its own upload time, so a file added to an old release
    /// waits out the quarantine like a new release does. Files upstream gives no SHA-256 for are never offered:
    /// they could not be verified.
    /// </summary>
    public static VersionDecision Decide(string normalizedName, PyPIFileEntry entry, TierPolicy policy, DateTimeOffset now)
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
        return policy.EvaluateVersion(new VersionFacts("pypi", normalizedName, entry.Version, entry.Uploaded), Traits, now);
    }

    private static bool VersionsEqual(string left, string right) =>
        Pep440Version.TryParse(left, out var l) && Pep440Version.TryParse(right, out var r) ? l.Equals(r) : left == right;
}
