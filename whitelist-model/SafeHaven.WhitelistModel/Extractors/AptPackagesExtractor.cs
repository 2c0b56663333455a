using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills <see cref="PackageMetadataRecord"/>s from an apt <c>Packages</c> index (<c>Package</c>, <c>Version</c>,
/// <c>Maintainer</c>, <c>Depends</c>, <c>Pre-Depends</c>, <c>Homepage</c>, <c>Description</c> whose first line is the summary).
/// <c>Packages</c> carries no dates: apt upload dates are the mirror's first-seen dates, which the caller may supply.
/// </summary>
public static class AptPackagesExtractor
{
    public static IReadOnlyList<PackageMetadataRecord> ExtractAll(
        string packages,
        DateTimeOffset? observedAt = null,
        IReadOnlyDictionary<string, DateTimeOffset>? firstSeen = null)
    {
        var stanzas = ControlFileParser.Parse(packages).Where(s => s.Get("Package") is not null).ToList();
        return stanzas.GroupBy(s => s.Get("Package")!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var versions = g.Select(s => s.Get("Version")).OfType<string>().Distinct(StringComparer.Ordinal)
                .Select(v => new ReleaseInfo(v, firstSeen is not null && firstSeen.TryGetValue(g.Key + "=" + v, out var seen) ? seen : null))
                .ToList();
            var latestVersion = VersionString.Highest(versions.Select(v => v.Version));
            var s = g.First(x => x.Get("Version") == latestVersion);
            var description = s.Get("Description");
            var newline = description?.IndexOf('\n', StringComparison.Ordinal) ?? -1;
            var source = SourceRepositories.Pick([("vcs", s.Get("Vcs-Git")), ("vcs", s.Get("Vcs-Browser")), ("home page", s.Get("Homepage"))]);
            var people = 1 + (s.Get("Uploaders")?.Split(',', StringSplitOptions.RemoveEmptyEntries).Length ?? 0);
            var record = new PackageMetadataRecord
            {
                Name = g.Key,
                Ecosystem = Ecosystem.Apt,
                ObservedAt = observedAt,
                LatestVersion = latestVersion,
                Versions = versions,
                MaintainerCount = s.Get("Maintainer") is null ? null : people,
                SourceRepository = source,
                HasSourceRepository = source is not null,
                Summary = description is null ? string.Empty : newline >= 0 ? description[..newline].Trim() : description.Trim(),
                Description = newline >= 0 ? description![(newline + 1)..].Trim() : null,
                DependencyCount = ControlFileParser.DependencyNames(s.Get("Depends")).Concat(ControlFileParser.DependencyNames(s.Get("Pre-Depends"))).Distinct(StringComparer.Ordinal).Count(),
            };
            return record.WithDerivedReleaseFacts(versionListIsComplete: false);
        }).ToList();
    }
}
