using NuGet.Versioning;
using SafeHaven.Core.Tiers;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// Closes a NuGet allowlist over dependency groups. An approved id resolves to its newest visible version (stable
/// if there is one: what <c>dotnet add package</c> picks). A dependency resolves as <c>dotnet restore</c> does: the
/// lowest visible version in its range (NuGet's own <see cref="VersionRange.FindBestMatch{T}"/>). The dependencies
/// followed are those of every dependency group, whatever its target framework, so a client on any framework
/// finds what it needs.
/// </summary>
public sealed class NuGetClosureSource(NuGetMirror mirror) : IClosureSource
{
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
        var chosen = Pick(view.Visible, range);
        if (chosen is null)
        {
            var hidden = view.State.Entries.Where(e => (range?.Satisfies(e.Version) ?? true) && !view.Decisions[e.Normalized].Visible)
                .Select(e => e.Normalized).ToList();
            var visibleText = view.Visible.Count == 0 ? "none" : string.Join(", ", view.Visible.TakeLast(5).Select(e => e.Normalized));
            var why = hidden.Count > 0 ? $"; held back by the tier: {string.Join(", ", hidden.Take(5))}" : "";
            return ClosureResolution.Failed(
                $"no visible version of '{request.Name}' satisfies '{(range is null ? "any" : range.ToNormalizedString())}' (visible: {visibleText}{why})");
        }
        return ClosureResolution.Resolved(new ClosureNode(request.Name, chosen.Normalized, request.Extras));
    }

    /// <summary>
    /// The version a client would get among <paramref name="visible"/>: with no range (an approved root), the newest
    /// stable one, else the newest; with a range, the lowest that satisfies it, as NuGet's resolver picks.
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
        if (lookup is not PackageLookup.Found found || !found.View.State.ByVersion.TryGetValue(node.Version, out var entry))
        {
            throw new ClosureSourceException($"'{node.Name}' {node.Version} could not be read again");
        }
        return Dependencies(entry.Leaf);
    }

    /// <summary>The dependencies of every dependency group (all target frameworks), each id and range once.</summary>
    public static IReadOnlyList<ClosureRequest> Dependencies(NuGetLeaf leaf)
    {
        var requests = new List<ClosureRequest>();
        var seen = new HashSet<(string, string)>();
        foreach (var dependency in leaf.DependencyGroups.SelectMany(g => g.Dependencies))
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
}
