using System.Text.Json;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills a <see cref="PackageMetadataRecord"/> from the PyPI JSON API document of a project
/// (<c>/pypi/&lt;name&gt;/json</c>: <c>info</c>, <c>releases</c> with per-file <c>upload_time_iso_8601</c>, <c>vulnerabilities</c>).
/// </summary>
public static class PyPIJsonExtractor
{
    public static PackageMetadataRecord Extract(string json, DateTimeOffset? observedAt = null)
    {
        using var doc = JsonHelpers.ParseDocument(json, "PyPI JSON metadata");
        var root = doc.RootElement;
        if (root.Prop("info") is not { ValueKind: JsonValueKind.Object } info || info.Str("name") is not { } name)
        {
            throw new FormatException("PyPI JSON metadata has no info.name.");
        }

        var versions = new List<ReleaseInfo>();
        var releasesComplete = false;
        if (root.Prop("releases") is { ValueKind: JsonValueKind.Object } releases)
        {
            releasesComplete = true;
            foreach (var release in releases.EnumerateObject())
            {
                DateTimeOffset? first = null;
                var allYanked = release.Value.ValueKind == JsonValueKind.Array && release.Value.GetArrayLength() > 0;
                if (release.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var file in release.Value.EnumerateArray())
                    {
                        var uploaded = file.Date("upload_time_iso_8601") ?? file.Date("upload_time");
                        if (uploaded is not null && (first is null || uploaded < first))
                        {
                            first = uploaded;
                        }
                        allYanked &= file.Bool("yanked") == true;
                    }
                }
                versions.Add(new ReleaseInfo(release.Name, first, allYanked));
            }
        }

        var links = new List<(string?, string?)>();
        if (info.Prop("project_urls") is { ValueKind: JsonValueKind.Object } urls)
        {
            links.AddRange(urls.EnumerateObject().Select(p => ((string?)p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null)));
        }
        links.Add(("home page", info.Str("home_page")));
        links.Add(("download", info.Str("download_url")));
        var source = SourceRepositories.Pick(links);

        int? dependencies = null;
        if (info.Prop("requires_dist") is { } requires)
        {
            dependencies = requires.ValueKind == JsonValueKind.Array
                ? requires.EnumerateArray().Select(r => r.GetString() ?? string.Empty).Count(r => !PyPICoreMetadataParser.IsExtraOnly(r))
                : null;
        }
        else if (info.Prop("name") is not null)
        {
            // requires_dist is null on PyPI when the latest release declares no dependencies or its metadata was not read.
            dependencies = null;
        }

        int? advisories = root.Prop("vulnerabilities") is { ValueKind: JsonValueKind.Array } vulns ? vulns.GetArrayLength() : null;

        var record = new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = Ecosystem.PyPI,
            ObservedAt = observedAt,
            LatestVersion = info.Str("version"),
            Versions = versions,
            MaintainerCount = PyPICoreMetadataParser.CountPeople(info.Str("author"), info.Str("author_email"), info.Str("maintainer"), info.Str("maintainer_email")),
            SourceRepository = source,
            HasSourceRepository = source is not null,
            License = info.Str("license_expression") ?? ShortLicense(info.Str("license")),
            Summary = info.Str("summary") ?? string.Empty,
            Description = info.Str("description"),
            DependencyCount = dependencies,
            KnownAdvisories = advisories,
        };
        return record.WithDerivedReleaseFacts(releasesComplete);
    }

    /// <summary>Some projects paste the whole licence text into <c>license</c>; keep its first line.</summary>
    internal static string? ShortLicense(string? license)
    {
        if (license is null)
        {
            return null;
        }
        var firstLine = license.Split('\n')[0].Trim();
        return firstLine.Length > 100 ? firstLine[..100] : firstLine;
    }
}
