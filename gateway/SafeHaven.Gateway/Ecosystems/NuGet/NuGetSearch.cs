namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// The search the appliance answers (SearchQueryService): query terms are matched against package ids only
/// (every term must occur in the id; <c>id:x</c> likewise; <c>packageid:x</c> names the id exactly), over the ids
/// the appliance may show (the closure at Tier 3+, the ids cached so far below). Unlisted versions are never shown;
/// prerelease and SemVer 2.0.0 versions only when asked for, as the protocol says.
/// </summary>
public sealed record NuGetSearchQuery(IReadOnlyList<string> Terms, IReadOnlyList<string> ExactIds, bool Prerelease, bool SemVer2)
{
    public static NuGetSearchQuery Parse(string? q, string? prerelease, string? semVerLevel)
    {
        var terms = new List<string>();
        var exact = new List<string>();
        foreach (var token in (q ?? "").Split((char[])[' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = token.IndexOf(':', StringComparison.Ordinal);
            var field = colon > 0 ? token[..colon].ToLowerInvariant() : "";
            var value = (colon > 0 ? token[(colon + 1)..] : token).Trim('"').ToLowerInvariant();
            if (value.Length == 0)
            {
                continue;
            }
            if (field == "packageid")
            {
                exact.Add(value);
            }
            else
            {
                terms.Add(value);
            }
        }
        var semVer2 = semVerLevel is not null && Version.TryParse(semVerLevel, out var level) && level.Major >= 2;
        return new NuGetSearchQuery(terms, exact, string.Equals(prerelease, "true", StringComparison.OrdinalIgnoreCase), semVer2);
    }

    /// <summary>Whether a package id matches the query (decided before anything is read from upstream).</summary>
    public bool Matches(string lowerId) =>
        ExactIds.All(e => e == lowerId) && Terms.All(t => lowerId.Contains(t, StringComparison.Ordinal));

    /// <summary>The versions of a package the search shows, oldest first; null when none.</summary>
    public NuGetRenderer.SearchHit? Hit(NuGetPackageView view)
    {
        var versions = view.Visible
            .Where(e => e.Leaf.Listed && (Prerelease || !e.Version.IsPrerelease) && (SemVer2 || !e.Version.IsSemVer2))
            .ToList();
        return versions.Count == 0 ? null : new NuGetRenderer.SearchHit(view, versions);
    }

    /// <summary>Best first: the exact id, then ids starting with the first term, then alphabetical.</summary>
    public IEnumerable<string> Order(IEnumerable<string> lowerIds)
    {
        var first = Terms.Count > 0 ? Terms[0] : "";
        return lowerIds
            .OrderBy(id => id == first ? 0 : first.Length > 0 && id.StartsWith(first, StringComparison.Ordinal) ? 1 : 2)
            .ThenBy(id => id, StringComparer.Ordinal);
    }
}
