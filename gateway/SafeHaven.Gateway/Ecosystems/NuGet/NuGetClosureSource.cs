using NuGet.Frameworks;
using NuGet.Versioning;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// Closes a NuGet allowlist over dependency groups, over every version a client may pick:
/// <list type="bullet">
/// <item>An approved id (a root) stands for <b>every</b> visible version of it, or every visible version in the range
/// its allowlist entry names (<c>Id@[1.0,2.0)</c>, NuGet range syntax): a project may pin any of them, so the
/// dependencies of each are followed.</item>
/// <item>A dependency resolves as <c>dotnet restore</c> does: the lowest visible version in its range
/// (<see cref="VersionRange.FindBestMatch{T}"/>). When several ranges meet on one id restore takes the lowest version
/// that satisfies them all, which for the lower-bounded ranges NuGet packages use is the lowest pick of the range with
/// the highest lower bound: one of the versions followed here.</item>
/// <item>Dependencies are the registration's groups, else those of the verified package's <c>.nuspec</c> (the package is
/// fetched and verified to read them); unknown dependencies are an unsatisfied entry, never "none".</item>
/// <item>Groups: with <c>TargetFrameworks</c> configured, for each framework the group restore would pick (the nearest
/// compatible one); otherwise every group, whatever its framework.</item>
/// </list>
/// </summary>
public sealed class NuGetClosureSource(NuGetMirror mirror, IReadOnlyList<string>? targetFrameworks = null) : IClosureSource
{
    /// <summary>Marks a root node: it stands for every visible version in the range after the marker.</summary>
    public const string EveryVersionMarker = "every:";

    private readonly IReadOnlyList<NuGetFramework> _frameworks = (targetFrameworks ?? []).Select(NuGetFramework.Parse).ToList();

    public async Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken)
    {
        VersionRange? range = null;
        if (request.Constraint.Length > 0 && !VersionRange.TryParse(request.Constraint, out range))
        {
            return ClosureResolution.Failed($"'{request.Constraint}' is not a NuGet version range");
        }
        var lookup = await mirror.GetPackageAsync(request.Name, cancellationToken, applyAllowlist: false).ConfigureAwait(false);
        if (lookup is not PackageLookup.Found found)
        {
            return ClosureResolution.Failed(lookup switch
            {
                PackageLookup.NotFound => $"upstream has no package '{request.Name}'",
                PackageLookup.Unavailable u => $"'{request.Name}' could not be read: {u.Reason}",
                PackageLookup.Hidden h => h.Reason,
                _ => "unknown",
            });
        }
        var view = found.View;
        if (request.IsRoot)
        {
            var versions = view.Visible.Where(e => range?.Satisfies(e.Version) ?? true).ToList();
            return versions.Count == 0
                ? ClosureResolution.Failed(NoVisibleVersion(request.Name, view, range))
                : ClosureResolution.Resolved(new ClosureNode(request.Name, EveryVersionMarker + (range?.ToNormalizedString() ?? ""), request.Extras));
        }
        var chosen = Pick(view.Visible, range);
        return chosen is null
            ? ClosureResolution.Failed(NoVisibleVersion(request.Name, view, range))
            : ClosureResolution.Resolved(new ClosureNode(request.Name, chosen.Normalized, request.Extras));
    }

    private static string NoVisibleVersion(string name, NuGetPackageView view, VersionRange? range)
    {
        var hidden = view.State.Entries.Where(e => (range?.Satisfies(e.Version) ?? true) && !view.Decisions[e.Normalized].Visible).ToList();
        var visibleText = view.Visible.Count == 0 ? "none" : string.Join(", ", view.Visible.TakeLast(5).Select(e => e.Normalized));
        var why = hidden.Count > 0
            ? $"; held back by the tier: {string.Join(", ", hidden.TakeLast(5).Select(e => e.Normalized))} ({string.Join("; ", hidden.Select(e => view.Decisions[e.Normalized].Code).Distinct())}): {view.Decisions[hidden[^1].Normalized].Reason}"
            : "";
        return $"no visible version of '{name}' satisfies '{(range is null ? "any" : range.ToNormalizedString())}' (visible: {visibleText}{why})";
    }

    /// <summary>
    /// The version a client would get among <paramref name="visible"/>: with no range, the newest stable one, else the
    /// newest; with a range, the lowest that satisfies it, as NuGet's resolver picks.
    /// </summary>
    public static NuGetVersionEntry? Pick(IReadOnlyList<NuGetVersionEntry> visible, VersionRange? range)
    {
        if (range is null)
        {
            return visible.LastOrDefault(e => !e.Version.IsPrerelease) ?? visible.LastOrDefault();
        }
        var best = range.FindBestMatch(visible.Select(e => e.Version));
        return best is null ? null : visible.First(e => VersionComparer.Default.Equals(e.Version, best));
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
    {
        var lookup = await mirror.GetPackageAsync(node.Name, cancellationToken, applyAllowlist: false).ConfigureAwait(false);
        if (lookup is not PackageLookup.Found found)
        {
            throw new ClosureSourceException($"'{node.Name}' {node.Version} could not be read again");
        }
        var view = found.View;
        List<NuGetVersionEntry> versions;
        if (node.Version.StartsWith(EveryVersionMarker, StringComparison.Ordinal))
        {
            var rangeText = node.Version[EveryVersionMarker.Length..];
            var range = rangeText.Length == 0 ? null : VersionRange.Parse(rangeText);
            versions = view.Visible.Where(e => range?.Satisfies(e.Version) ?? true).ToList();
        }
        else
        {
            versions = view.State.ByVersion.TryGetValue(node.Version, out var entry)
                ? [entry]
                : throw new ClosureSourceException($"'{node.Name}' {node.Version} could not be read again");
        }
        var groups = new List<NuGetDependencyGroup>();
        foreach (var entry in versions)
        {
            var known = view.DependencyGroupsOf(entry);
            if (known is null)
            {
                try
                {
                    known = (await mirror.EnsureVerifiedAsync(node.Name, entry, cancellationToken).ConfigureAwait(false)).DependencyGroups;
                }
                catch (UpstreamIntegrityException)
                {
                    continue; // refused: no longer listed, so no client can pick it
                }
                catch (Exception e) when (e is UpstreamUnavailableException or ClosureSourceException)
                {
                    throw new ClosureSourceException(
                        $"the dependencies of '{node.Name}' {entry.Normalized} are unknown: upstream's registration does not give them and its package could not be read ({e.Message})", e);
                }
            }
            groups.AddRange(Applicable(known, _frameworks));
        }
        return Dependencies(groups);
    }

    /// <summary>
    /// The groups restore could use: with no frameworks given, all of them; otherwise for each framework the nearest
    /// compatible group (NuGet.Frameworks' own rule), if any.
    /// </summary>
    public static IEnumerable<NuGetDependencyGroup> Applicable(IReadOnlyList<NuGetDependencyGroup> groups, IReadOnlyList<NuGetFramework> frameworks)
    {
        if (frameworks.Count == 0)
        {
            return groups;
        }
        return frameworks
            .Select(f => NuGetFrameworkUtility.GetNearest(groups, f, g => g.TargetFramework is null ? NuGetFramework.AnyFramework : NuGetFramework.Parse(g.TargetFramework)))
            .OfType<NuGetDependencyGroup>()
            .Distinct();
    }

    /// <summary>The dependencies of the given groups, each id and range once.</summary>
    public static IReadOnlyList<ClosureRequest> Dependencies(IEnumerable<NuGetDependencyGroup> groups)
    {
        var requests = new List<ClosureRequest>();
        var seen = new HashSet<(string, string)>();
        foreach (var dependency in groups.SelectMany(g => g.Dependencies))
        {
            var id = dependency.Id.ToLowerInvariant();
            // A dependency without a range accepts any version (NuGet then takes the lowest).
            var range = string.IsNullOrWhiteSpace(dependency.Range)
                ? VersionRange.All.ToNormalizedString()
                : VersionRange.TryParse(dependency.Range, out var parsed) ? parsed.ToNormalizedString() : dependency.Range;
            if (seen.Add((id, range)))
            {
                requests.Add(new ClosureRequest(id, range, new HashSet<string>()));
            }
        }
        return requests;
    }

    /// <summary>The dependencies of every dependency group of a registration leaf (empty when it gives none).</summary>
    public static IReadOnlyList<ClosureRequest> Dependencies(NuGetLeaf leaf) => Dependencies(leaf.DependencyGroups ?? []);
}
