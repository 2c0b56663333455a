using System.Text.RegularExpressions;
using SafeHaven.WhitelistModel.Metadata;

namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>
/// Fills <see cref="PackageMetadataRecord"/>s from CRAN metadata: a package's <c>DESCRIPTION</c> file and the repository
/// index <c>src/contrib/PACKAGES</c> (one stanza per package, same format, fewer fields).
/// </summary>
public static partial class CranExtractor
{
    [GeneratedRegex(@"\[([^\]]*)\]", RegexOptions.CultureInvariant)]
    private static partial Regex RoleBrackets();

    /// <summary>Reads one <c>DESCRIPTION</c> file.</summary>
    public static PackageMetadataRecord ExtractDescription(string description, DateTimeOffset? observedAt = null)
    {
        var stanzas = ControlFileParser.Parse(description);
        if (stanzas.Count == 0)
        {
            throw new FormatException("CRAN DESCRIPTION is empty.");
        }
        return FromStanza(stanzas[0], observedAt);
    }

    /// <summary>Reads every package of a <c>PACKAGES</c> index.</summary>
    public static IReadOnlyList<PackageMetadataRecord> ExtractPackages(string packages, DateTimeOffset? observedAt = null) =>
        ControlFileParser.Parse(packages).Where(s => s.Get("Package") is not null).Select(s => FromStanza(s, observedAt)).ToList();

    private static PackageMetadataRecord FromStanza(IReadOnlyDictionary<string, string> s, DateTimeOffset? observedAt)
    {
        var name = s.Get("Package") ?? throw new FormatException("CRAN stanza has no Package field.");
        var version = s.Get("Version");
        var published = JsonHelpers.ParseDate(s.Get("Date/Publication")?.Replace(" UTC", "Z", StringComparison.Ordinal));

        var dependencies = ControlFileParser.DependencyNames(s.Get("Depends"))
            .Concat(ControlFileParser.DependencyNames(s.Get("Imports")))
            .Concat(ControlFileParser.DependencyNames(s.Get("LinkingTo")))
            .Where(d => d != "R")
            .Distinct(StringComparer.Ordinal)
            .Count();

        var urls = new List<(string?, string?)>();
        foreach (var field in new[] { "URL", "BugReports" })
        {
            if (s.Get(field) is { } value)
            {
                urls.AddRange(value.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => ((string?)null, (string?)u)));
            }
        }
        var source = SourceRepositories.Pick(urls);
        // PACKAGES stanzas carry no URL field: there the source link is unknown, not absent.
        var hasDescriptionFields = s.Get("Title") is not null || s.Get("Description") is not null;

        return new PackageMetadataRecord
        {
            Name = name,
            Ecosystem = Ecosystem.Cran,
            ObservedAt = observedAt,
            LatestVersion = version,
            Versions = version is null ? [] : [new ReleaseInfo(version, published)],
            LatestRelease = published,
            Summary = hasDescriptionFields ? s.Get("Title") ?? string.Empty : null,
            Description = s.Get("Description"),
            License = s.Get("License"),
            SourceRepository = source,
            HasSourceRepository = hasDescriptionFields ? source is not null : (source is not null ? true : null),
            DependencyCount = dependencies,
            MaintainerCount = hasDescriptionFields ? CountAuthors(s.Get("Author"), s.Get("Maintainer")) : null,
        };
    }

    /// <summary>People with an author or maintainer role (<c>[aut, cre]</c>) in <c>Author</c>; else those listed; at least the maintainer.</summary>
    internal static int? CountAuthors(string? author, string? maintainer)
    {
        if (string.IsNullOrWhiteSpace(author))
        {
            return maintainer is null ? null : 1;
        }
        var people = ControlFileParser.SplitTopLevel(author.Replace('\n', ' ').Replace(" and ", ", ", StringComparison.Ordinal), ',').ToList();
        var withRoles = people.Where(p => RoleBrackets().IsMatch(p)).ToList();
        var count = withRoles.Count > 0
            ? withRoles.Count(p => RoleBrackets().Match(p).Groups[1].Value.Split(',').Select(r => r.Trim()).Any(r => r is "aut" or "cre"))
            : people.Count;
        return Math.Max(count, maintainer is null ? 0 : 1) is var n && n == 0 ? null : n;
    }
}
