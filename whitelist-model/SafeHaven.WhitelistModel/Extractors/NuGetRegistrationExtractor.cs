using System.Text.Json;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills a <see cref="PackageMetadataRecord"/> from a NuGet v3 registration index (<c>RegistrationsBaseUrl</c>
/// <c>{id}/index.json</c>): pages of leaves, each with a <c>catalogEntry</c> (<c>id</c>, <c>version</c>, <c>published</c>,
/// <c>listed</c>, <c>authors</c>, <c>projectUrl</c>, <c>licenseExpression</c>, <c>description</c>, <c>dependencyGroups</c>,
/// <c>vulnerabilities</c>). Pages that are not inlined make the version list incomplete; counts then stay unknown.
/// </summary>
public static class NuGetRegistrationExtractor
{
    /// <summary>NuGet marks unlisted packages with this placeholder publication date.</summary>
    private static readonly DateTimeOffset UnlistedPlaceholder = new(1900, 1, 2, 0, 0, 0, TimeSpan.Zero);

    public static PackageMetadataRecord Extract(string json, DateTimeOffset? observedAt = null, long? totalDownloads = null)
    {
        using var doc = JsonHelpers.ParseDocument(json, "NuGet registration index");
        var root = doc.RootElement;
        if (root.Prop("items") is not { ValueKind: JsonValueKind.Array } pages)
        {
            throw new FormatException("NuGet registration index has no items.");
        }

        var entries = new List<JsonElement>();
        var complete = true;
        foreach (var page in pages.EnumerateArray())
        {
            if (page.Prop("items") is { ValueKind: JsonValueKind.Array } leaves)
            {
                entries.AddRange(leaves.EnumerateArray().Select(l => l.Prop("catalogEntry")).OfType<JsonElement>().Where(e => e.ValueKind == JsonValueKind.Object));
            }
            else
            {
                complete = false;
            }
        }
        if (entries.Count == 0)
        {
            throw new FormatException("NuGet registration index has no inlined catalog entries.");
        }

        var versions = entries
            .Select(e => new ReleaseInfo(
                e.Str("version") ?? string.Empty,
                e.Date("published") is { } p && p > UnlistedPlaceholder ? p : null,
                Yanked: e.Bool("listed") == false))
            .Where(v => v.Version.Length > 0)
            .ToList();
        var latestVersion = VersionString.Highest(versions.Where(v => !v.Yanked).Select(v => v.Version))
            ?? VersionString.Highest(versions.Select(v => v.Version));
        var latest = entries.First(e => e.Str("version") == latestVersion);

        var source = SourceRepositories.Pick([("project", latest.Str("projectUrl")), ("repository", latest.Prop("repository")?.Str("url"))]);
        var dependencies = latest.Prop("dependencyGroups") is { ValueKind: JsonValueKind.Array } groups
            ? groups.EnumerateArray()
                .SelectMany(g => g.Prop("dependencies") is { ValueKind: JsonValueKind.Array } d ? d.EnumerateArray().Select(x => x.Str("id")) : [])
                .OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).Count()
            : 0;
        var advisories = entries
            .SelectMany(e => e.Prop("vulnerabilities") is { ValueKind: JsonValueKind.Array } v ? v.EnumerateArray().Select(x => x.Str("advisoryUrl")) : [])
            .OfType<string>().Distinct(StringComparer.Ordinal).Count();
        var authors = latest.Str("authors");

        var record = new PackageMetadataRecord
        {
            Name = latest.Str("id") ?? throw new FormatException("NuGet catalog entry has no id."),
            Ecosystem = Ecosystem.NuGet,
            ObservedAt = observedAt,
            LatestVersion = latestVersion,
            Versions = versions,
            DownloadCount = totalDownloads,
            PopularityKnown = totalDownloads is not null,
            MaintainerCount = authors is null ? null : authors.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length,
            SourceRepository = source,
            HasSourceRepository = source is not null,
            License = latest.Str("licenseExpression") ?? latest.Str("licenseUrl"),
            Summary = latest.Str("summary") ?? latest.Str("title") ?? string.Empty,
            Description = latest.Str("description"),
            DependencyCount = dependencies,
            KnownAdvisories = advisories,
        };
        return record.WithDerivedReleaseFacts(complete);
    }
}
