using System.Buffers;
using System.Text.Json;
using NuGet.Versioning;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// Writes the appliance's NuGet v3 documents. Every URL in them is the appliance's own, absolute (NuGet clients
/// need absolute URLs), built from <c>baseUrl</c>: the request's scheme, host and path base plus <c>/nuget/v3/</c>.
/// Only visible versions are ever written.
/// </summary>
public static class NuGetRenderer
{
    public const string FlatContainerPath = "flatcontainer/";
    public const string RegistrationPath = "registration/";
    public const string SearchPath = "query";

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string RegistrationIndexUrl(string baseUrl, string lowerId) => $"{baseUrl}{RegistrationPath}{Uri.EscapeDataString(lowerId)}/index.json";

    public static string LeafUrl(string baseUrl, string lowerId, string version) => $"{baseUrl}{RegistrationPath}{Uri.EscapeDataString(lowerId)}/{Uri.EscapeDataString(version)}.json";

    public static string PackageContentUrl(string baseUrl, string lowerId, string version)
    {
        var id = Uri.EscapeDataString(lowerId);
        var v = Uri.EscapeDataString(version);
        return $"{baseUrl}{FlatContainerPath}{id}/{v}/{id}.{v}.nupkg";
    }

    /// <summary>The service index: the appliance's flat container, registrations and search.</summary>
    public static byte[] ServiceIndex(string baseUrl) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("version", "3.0.0");
        w.WriteStartArray("resources");
        void Resource(string path, string type, string comment)
        {
            w.WriteStartObject();
            w.WriteString("@id", baseUrl + path);
            w.WriteString("@type", type);
            w.WriteString("comment", comment);
            w.WriteEndObject();
        }
        Resource(FlatContainerPath, "PackageBaseAddress/3.0.0", "Flat container: version lists and packages visible at this tier.");
        foreach (var type in (string[])["RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl"])
        {
            Resource(RegistrationPath, type, "Package metadata of the versions visible at this tier (inline pages).");
        }
        foreach (var type in (string[])["SearchQueryService", "SearchQueryService/3.0.0-rc", "SearchQueryService/3.5.0"])
        {
            Resource(SearchPath, type, "Search over the package ids this appliance knows and the tier lets through.");
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>The flat container's version list: normalised, lower case, oldest first.</summary>
    public static byte[] FlatContainerVersions(NuGetPackageView view) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("versions");
        foreach (var entry in view.Visible)
        {
            w.WriteStringValue(entry.Normalized);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>The registration index with one inline page holding every visible version.</summary>
    public static byte[] RegistrationIndex(string baseUrl, NuGetPackageView view) => Write(w =>
    {
        var lowerId = view.State.LowerId;
        var indexUrl = RegistrationIndexUrl(baseUrl, lowerId);
        w.WriteStartObject();
        w.WriteString("@id", indexUrl);
        w.WriteStartArray("@type");
        w.WriteStringValue("catalog:CatalogRoot");
        w.WriteStringValue("PackageRegistration");
        w.WriteStringValue("catalog:Permalink");
        w.WriteEndArray();
        var visible = view.Visible;
        w.WriteNumber("count", visible.Count == 0 ? 0 : 1);
        w.WriteStartArray("items");
        if (visible.Count > 0)
        {
            var lower = visible[0].Normalized;
            var upper = visible[^1].Normalized;
            w.WriteStartObject();
            w.WriteString("@id", $"{indexUrl}#page/{lower}/{upper}");
            w.WriteString("@type", "catalog:CatalogPage");
            w.WriteNumber("count", visible.Count);
            w.WriteStartArray("items");
            foreach (var entry in visible)
            {
                WriteLeaf(w, baseUrl, view, entry);
            }
            w.WriteEndArray();
            w.WriteString("lower", lower);
            w.WriteString("upper", upper);
            w.WriteString("parent", indexUrl);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>A registration leaf document (<c>{id}/{version}.json</c>).</summary>
    public static byte[] RegistrationLeaf(string baseUrl, NuGetPackageView view, NuGetVersionEntry entry) => Write(w =>
    {
        var lowerId = view.State.LowerId;
        w.WriteStartObject();
        w.WriteString("@id", LeafUrl(baseUrl, lowerId, entry.Normalized));
        w.WriteStartArray("@type");
        w.WriteStringValue("Package");
        w.WriteEndArray();
        w.WriteBoolean("listed", entry.Leaf.Listed);
        w.WriteString("packageContent", PackageContentUrl(baseUrl, lowerId, entry.Normalized));
        WritePublished(w, view, entry);
        w.WriteString("registration", RegistrationIndexUrl(baseUrl, lowerId));
        w.WriteEndObject();
    });

    /// <summary>
    /// The date the policy judged the version by (upstream's string unchanged, else the signature timestamp or the
    /// first-seen time), or nothing at all: never a made-up date (NuGet clients read the 1900 placeholder as "unlisted").
    /// </summary>
    private static void WritePublished(Utf8JsonWriter w, NuGetPackageView view, NuGetVersionEntry entry)
    {
        if (view.PublishedText(entry) is { } published)
        {
            w.WriteString("published", published);
        }
    }

    private static void WriteLeaf(Utf8JsonWriter w, string baseUrl, NuGetPackageView view, NuGetVersionEntry entry)
    {
        var lowerId = view.State.LowerId;
        var leafUrl = LeafUrl(baseUrl, lowerId, entry.Normalized);
        var content = PackageContentUrl(baseUrl, lowerId, entry.Normalized);
        var leaf = entry.Leaf;
        w.WriteStartObject();
        w.WriteString("@id", leafUrl);
        w.WriteString("@type", "Package");
        w.WriteStartObject("catalogEntry");
        w.WriteString("@id", leafUrl + "#catalogEntry");
        w.WriteString("@type", "PackageDetails");
        w.WriteString("id", leaf.Id);
        w.WriteString("version", entry.Version.ToFullString());
        WritePublished(w, view, entry);
        w.WriteBoolean("listed", leaf.Listed);
        w.WriteString("authors", leaf.Authors ?? "");
        w.WriteString("description", leaf.Description ?? "");
        OptionalString(w, "summary", leaf.Summary);
        OptionalString(w, "title", leaf.Title);
        w.WriteStartArray("tags");
        foreach (var tag in leaf.Tags)
        {
            w.WriteStringValue(tag);
        }
        w.WriteEndArray();
        OptionalString(w, "projectUrl", leaf.ProjectUrl);
        OptionalString(w, "licenseExpression", leaf.LicenseExpression);
        OptionalString(w, "licenseUrl", leaf.LicenseUrl);
        OptionalString(w, "minClientVersion", leaf.MinClientVersion);
        w.WriteBoolean("requireLicenseAcceptance", leaf.RequireLicenseAcceptance);
        if (view.Knowledge.PinnedSha512.GetValueOrDefault(entry.Normalized) is { } pinned)
        {
            // The SHA-512 pinned at the first verified download: what the appliance serves for this version, also
            // when upstream's index now gives another (a replaced file, refused).
            w.WriteString("packageHash", pinned);
            w.WriteString("packageHashAlgorithm", "SHA512");
        }
        else if (leaf.PackageHash is not null && (entry.Sha512 is not null || entry.Sha256 is not null))
        {
            w.WriteString("packageHash", leaf.PackageHash);
            w.WriteString("packageHashAlgorithm", entry.Sha512 is not null ? "SHA512" : "SHA256");
        }
        w.WriteString("packageContent", content);
        // The registration's groups, else the verified .nuspec's; left out while unknown (never written as "none").
        var groups = view.DependencyGroupsOf(entry);
        if (groups is not null)
        {
            WriteDependencyGroups(w, baseUrl, leafUrl, groups);
        }
        w.WriteEndObject();
        w.WriteString("packageContent", content);
        w.WriteString("registration", RegistrationIndexUrl(baseUrl, lowerId));
        w.WriteEndObject();
    }

    private static void WriteDependencyGroups(Utf8JsonWriter w, string baseUrl, string leafUrl, IReadOnlyList<NuGetDependencyGroup> groups)
    {
        w.WriteStartArray("dependencyGroups");
        var groupIndex = 0;
        foreach (var group in groups)
        {
            w.WriteStartObject();
            w.WriteString("@id", $"{leafUrl}#dependencygroup/{groupIndex++}");
            w.WriteString("@type", "PackageDependencyGroup");
            OptionalString(w, "targetFramework", group.TargetFramework);
            w.WriteStartArray("dependencies");
            foreach (var dependency in group.Dependencies)
            {
                var dependencyId = dependency.Id.ToLowerInvariant();
                w.WriteStartObject();
                w.WriteString("@type", "PackageDependency");
                w.WriteString("id", dependency.Id);
                w.WriteString("range", dependency.Range is { } range && VersionRange.TryParse(range, out var parsed) ? parsed.ToNormalizedString() : dependency.Range ?? "(, )");
                w.WriteString("registration", RegistrationIndexUrl(baseUrl, dependencyId));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void OptionalString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>One search hit: a package and the versions of it the search shows (oldest first, non-empty).</summary>
    public sealed record SearchHit(NuGetPackageView View, IReadOnlyList<NuGetVersionEntry> Versions);

    /// <summary>A search answer in the documented SearchQueryService shape.</summary>
    public static byte[] SearchResults(string baseUrl, int totalHits, IEnumerable<SearchHit> hits) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("totalHits", totalHits);
        w.WriteStartArray("data");
        foreach (var hit in hits)
        {
            var lowerId = hit.View.State.LowerId;
            var latest = hit.Versions[^1];
            var indexUrl = RegistrationIndexUrl(baseUrl, lowerId);
            w.WriteStartObject();
            w.WriteString("@id", indexUrl);
            w.WriteString("@type", "Package");
            w.WriteString("registration", indexUrl);
            w.WriteString("id", latest.Leaf.Id);
            w.WriteString("version", latest.Version.ToFullString());
            w.WriteString("description", latest.Leaf.Description ?? "");
            w.WriteString("summary", latest.Leaf.Summary ?? "");
            w.WriteString("title", latest.Leaf.Title ?? latest.Leaf.Id);
            OptionalString(w, "projectUrl", latest.Leaf.ProjectUrl);
            OptionalString(w, "licenseUrl", latest.Leaf.LicenseUrl);
            w.WriteStartArray("tags");
            foreach (var tag in latest.Leaf.Tags)
            {
                w.WriteStringValue(tag);
            }
            w.WriteEndArray();
            w.WriteStartArray("authors");
            foreach (var author in (latest.Leaf.Authors ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                w.WriteStringValue(author);
            }
            w.WriteEndArray();
            w.WriteStartArray("owners");
            w.WriteEndArray();
            w.WriteNumber("totalDownloads", 0);
            w.WriteBoolean("verified", false);
            w.WriteStartArray("packageTypes");
            w.WriteStartObject();
            w.WriteString("name", "Dependency");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("versions");
            foreach (var version in hit.Versions)
            {
                w.WriteStartObject();
                w.WriteString("version", version.Version.ToFullString());
                w.WriteNumber("downloads", 0);
                w.WriteString("@id", LeafUrl(baseUrl, lowerId, version.Normalized));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
