using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Reads Python core metadata (<c>METADATA</c> in a wheel, <c>PKG-INFO</c> in an sdist, or the PEP 658 <c>.metadata</c> file):
/// RFC 822 headers (<c>Name</c>, <c>Version</c>, <c>Summary</c>, <c>License</c>, <c>Project-URL</c>, <c>Requires-Dist</c>, ...)
/// followed by the description as the message body.
/// </summary>
public static class PyPICoreMetadataParser
{
    public static PackageMetadataRecord Extract(string metadata, DateTimeOffset? observedAt = null)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var headers = new List<(string Key, string Value)>();
        var lines = metadata.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var bodyStart = lines.Length;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
            {
                bodyStart = i + 1;
                break;
            }
            if (line[0] is ' ' or '\t')
            {
                if (headers.Count > 0)
                {
                    var (k, v) = headers[^1];
                    headers[^1] = (k, v + "\n" + line.Trim());
                }
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        string? One(string key) => headers.FirstOrDefault(h => h.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Value is { Length: > 0 } v ? v : null;
        IEnumerable<string> All(string key) => headers.Where(h => h.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

        var name = One("Name") ?? throw new FormatException("Core metadata has no Name header.");
        var links = new List<(string?, string?)>();
        foreach (var projectUrl in All("Project-URL"))
        {
            var comma = projectUrl.IndexOf(',', StringComparison.Ordinal);
            links.Add(comma > 0 ? (projectUrl[..comma].Trim(), projectUrl[(comma + 1)..].Trim()) : (null, projectUrl));
        }
        links.Add(("home page", One("Home-page")));
        links.Add(("download", One("Download-URL")));
        var source = SourceRepositories.Pick(links);

        var body = bodyStart < lines.Length ? string.Join("\n", lines[bodyStart..]).Trim() : null;
        var version = One("Version");
        return new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = Ecosystem.PyPI,
            ObservedAt = observedAt,
            LatestVersion = version,
            Versions = version is null ? [] : [new ReleaseInfo(version, null)],
            Summary = One("Summary") ?? string.Empty,
            Description = string.IsNullOrEmpty(body) ? One("Description") : body,
            License = One("License-Expression") ?? PyPIJsonExtractor.ShortLicense(One("License")),
            SourceRepository = source,
            HasSourceRepository = source is not null,
            DependencyCount = All("Requires-Dist").Count(r => !IsExtraOnly(r)),
            MaintainerCount = CountPeople(One("Author"), One("Author-email"), One("Maintainer"), One("Maintainer-email")),
        };
    }

    /// <summary>True for a requirement only needed by an optional extra (<c>; extra == "test"</c>).</summary>
    public static bool IsExtraOnly(string requirement) =>
        requirement.Contains("extra ==", StringComparison.OrdinalIgnoreCase) || requirement.Contains("extra==", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Number of people named as authors plus maintainers (each field may list several, comma-separated; a name field and its
    /// e-mail field describe the same people, so each role counts the larger of the two); null when every field is empty.
    /// A lower bound: PyPI does not publish its owner list in metadata.
    /// </summary>
    public static int? CountPeople(string? author, string? authorEmail, string? maintainer, string? maintainerEmail)
    {
        var authors = Math.Max(People(author).Count, People(authorEmail).Count);
        var maintainerNames = People(maintainer);
        var maintainerMails = People(maintainerEmail);
        var authorPeople = People(author).Concat(People(authorEmail)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // A maintainer who is also listed as author counts once.
        var maintainers = Math.Max(
            maintainerNames.Count(p => !authorPeople.Contains(p)),
            maintainerMails.Count(p => !authorPeople.Contains(p)));
        var total = authors + maintainers;
        return total == 0 ? null : total;
    }

    private static List<string> People(string? field)
    {
        var people = new List<string>();
        if (string.IsNullOrWhiteSpace(field))
        {
            return people;
        }
        foreach (var part in field.Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var lt = part.IndexOf('<', StringComparison.Ordinal);
            var key = lt > 0 ? part[..lt].Trim().Trim('"') : part.Trim('<', '>', ' ');
            if (key.Length > 0 && !people.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                people.Add(key);
            }
        }
        return people;
    }
}
