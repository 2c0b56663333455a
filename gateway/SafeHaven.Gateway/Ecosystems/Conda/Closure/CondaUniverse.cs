using SafeHaven.Core.Packages;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Ecosystems.Conda.Upstream;

namespace SafeHaven.Gateway.Ecosystems.Conda.Closure;

/// <summary>A record the date policy lets through, with the subdir state whose upstream file holds the rest of it.</summary>
public sealed record CondaCandidate(CondaSubdirState State, CondaRecord Record, CondaVersion? Version)
{
    /// <summary>The node key of the record: <c>&lt;channel&gt;/&lt;subdir&gt;/&lt;filename&gt;</c>.</summary>
    public string Id => State.Key + "/" + Record.Filename;
}

/// <summary>
/// Every record of every configured channel and subdir that the tier's date rules let through (and that has a
/// <c>sha256</c>), by package name: what the allowlist closure chooses from. Records are ordered as conda's solvers
/// prefer them: highest version, then highest <c>build_number</c>, then newest <c>timestamp</c>.
/// </summary>
public sealed class CondaUniverse
{
    private readonly Dictionary<string, List<CondaCandidate>> _byName;
    private readonly Dictionary<string, CondaCandidate> _byId;

    private CondaUniverse(Dictionary<string, List<CondaCandidate>> byName, IReadOnlyList<string> platforms, string fingerprint)
    {
        _byName = byName;
        _byId = byName.Values.SelectMany(l => l).ToDictionary(c => c.Id, StringComparer.Ordinal);
        Platforms = platforms;
        Fingerprint = fingerprint;
    }

    /// <summary>The platform subdirs a client may be on (each sees its own subdir and <c>noarch</c>); <c>noarch</c> alone when none is configured.</summary>
    public IReadOnlyList<string> Platforms { get; }

    public string Fingerprint { get; }

    public static CondaUniverse Build(IEnumerable<CondaSubdirState> states, Func<CondaRecord, bool> visible, IEnumerable<string> subdirs, string fingerprint)
    {
        var byName = new Dictionary<string, List<CondaCandidate>>(StringComparer.Ordinal);
        foreach (var state in states)
        {
            foreach (var record in state.Repodata.Records)
            {
                if (record.Sha256 is null || !visible(record))
                {
                    continue;
                }
                var name = record.Name.ToLowerInvariant();
                if (!byName.TryGetValue(name, out var list))
                {
                    byName[name] = list = [];
                }
                list.Add(new CondaCandidate(state, record, CondaVersion.TryParse(record.Version, out var version) ? version : null));
            }
        }
        foreach (var list in byName.Values)
        {
            list.Sort(Preferred);
        }
        var platforms = subdirs.Where(s => s != "noarch").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new CondaUniverse(byName, platforms.Count == 0 ? ["noarch"] : platforms, fingerprint);
    }

    /// <summary>Best first: version (unreadable versions last), then build number, then timestamp.</summary>
    private static int Preferred(CondaCandidate a, CondaCandidate b)
    {
        if (a.Version is null || b.Version is null)
        {
            return (a.Version is null).CompareTo(b.Version is null);
        }
        var byVersion = b.Version.CompareTo(a.Version);
        if (byVersion != 0)
        {
            return byVersion;
        }
        var byBuild = b.Record.BuildNumber.CompareTo(a.Record.BuildNumber);
        return byBuild != 0 ? byBuild : (b.Record.UploadedMs ?? 0).CompareTo(a.Record.UploadedMs ?? 0);
    }

    /// <summary>The records of a package name, best first (empty when none is visible).</summary>
    public IReadOnlyList<CondaCandidate> Candidates(string name) =>
        _byName.TryGetValue(name.ToLowerInvariant(), out var list) ? list : [];

    public CondaCandidate? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Whether a candidate is installable on a platform: its own subdir is the platform or <c>noarch</c>.</summary>
    public static bool On(CondaCandidate candidate, string platform) =>
        candidate.State.Subdir == platform || candidate.State.Subdir == "noarch";
}
