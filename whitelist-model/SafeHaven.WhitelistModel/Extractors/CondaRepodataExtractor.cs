using System.Text.Json;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills <see cref="PackageMetadataRecord"/>s from a conda channel's <c>repodata.json</c> (<c>packages</c> and
/// <c>packages.conda</c>, each file record with <c>name</c>, <c>version</c>, <c>depends</c>, <c>license</c> and <c>timestamp</c>
/// in milliseconds). repodata has no summary or links (those are in <c>channeldata.json</c>), so they stay unknown.
/// One subdir's repodata lists only that subdir's builds: the release count is a lower bound and is left unknown.
/// </summary>
public static class CondaRepodataExtractor
{
    public static IReadOnlyList<PackageMetadataRecord> ExtractAll(string json, DateTimeOffset? observedAt = null)
    {
        using var doc = JsonHelpers.ParseDocument(json, "conda repodata.json");
        var root = doc.RootElement;
        var builds = new List<(string Name, string Version, DateTimeOffset? Time, string? License, int Depends)>();
        foreach (var section in new[] { "packages", "packages.conda" })
        {
            if (root.Prop(section) is not { ValueKind: JsonValueKind.Object } files)
            {
                continue;
            }
            foreach (var file in files.EnumerateObject())
            {
                var p = file.Value;
                if (p.Str("name") is not { } name || p.Str("version") is not { } version)
                {
                    continue;
                }
                DateTimeOffset? time = null;
                if (p.Prop("timestamp") is { ValueKind: JsonValueKind.Number } ts && ts.TryGetInt64(out var raw) && raw > 0)
                {
                    // Old repodata wrote seconds; current repodata writes milliseconds.
                    time = raw < 100_000_000_000 ? DateTimeOffset.FromUnixTimeSeconds(raw) : DateTimeOffset.FromUnixTimeMilliseconds(raw);
                }
                var depends = p.Prop("depends") is { ValueKind: JsonValueKind.Array } d ? d.GetArrayLength() : 0;
                builds.Add((name, version, time, p.Str("license"), depends));
            }
        }

        return builds.GroupBy(b => b.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var versions = g.GroupBy(b => b.Version, StringComparer.Ordinal)
                .Select(v => new ReleaseInfo(v.Key, v.Where(b => b.Time is not null).Select(b => b.Time).Min()))
                .ToList();
            var latestVersion = VersionString.Highest(versions.Select(v => v.Version));
            var latestBuilds = g.Where(b => b.Version == latestVersion).ToList();
            var record = new PackageMetadataRecord
            {
                Name = g.Key,
                Ecosystem = Ecosystem.Conda,
                ObservedAt = observedAt,
                LatestVersion = latestVersion,
                Versions = versions,
                License = latestBuilds.Select(b => b.License).FirstOrDefault(l => l is not null),
                DependencyCount = latestBuilds.Max(b => b.Depends),
            };
            return record.WithDerivedReleaseFacts(versionListIsComplete: false);
        }).ToList();
    }

    /// <summary>The record of one package, or null when repodata does not list it.</summary>
    public static PackageMetadataRecord? Extract(string json, string name, DateTimeOffset? observedAt = null) =>
        ExtractAll(json, observedAt).FirstOrDefault(r => r.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
