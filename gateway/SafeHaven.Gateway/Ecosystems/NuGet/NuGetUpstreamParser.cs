using System.Text.Json;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// Reads the documented NuGet v3 JSON (service index, registration index and pages, catalog leaf) with
/// System.Text.Json. Anything that is not the documented shape is an <see cref="UpstreamFormatException"/>, so the
/// cache keeps its last good copy. Relative URLs are resolved against the document's own URL.
/// </summary>
public static class NuGetUpstreamParser
{
    private static readonly string[] RegistrationTypes =
        ["RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl/Versioned", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl"];

    private static readonly string[] PackageBaseAddressTypes = ["PackageBaseAddress/3.0.0"];

    public static NuGetServiceIndex ParseServiceIndex(byte[] content, Uri documentUrl)
    {
        using var document = Parse(content, "service index");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("resources", out var resources) || resources.ValueKind != JsonValueKind.Array)
        {
            throw new UpstreamFormatException("upstream service index has no 'resources' array");
        }
        var byType = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var resource in resources.EnumerateArray())
        {
            if (resource.ValueKind != JsonValueKind.Object || String(resource, "@id") is not { } id)
            {
                continue;
            }
            if (!resource.TryGetProperty("@type", out var type))
            {
                continue;
            }
            var types = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
                _ => (List<string>)[],
            };
            foreach (var t in types)
            {
                byType.TryAdd(t, id);
            }
        }
        string? Find(string[] wanted) => wanted.Select(w => byType.GetValueOrDefault(w)).FirstOrDefault(u => u is not null) is { } url
            ? Directory(Resolve(documentUrl, url))
            : null;
        var registrations = Find(RegistrationTypes);
        var flat = Find(PackageBaseAddressTypes);
        if (registrations is null)
        {
            throw new UpstreamFormatException("upstream service index names no RegistrationsBaseUrl resource (3.6.0, 3.4.0 or unversioned), which the mirror needs for publish dates");
        }
        return new NuGetServiceIndex(flat, registrations);
    }

    /// <summary>
    /// A registration index read as a stream (an upstream page spooled to disk): deserialised piece by piece, one
    /// leaf buffered at a time, so memory holds the parsed leaves, not the page.
    /// </summary>
    public static NuGetRegistrationIndex ParseRegistrationIndex(Stream content, Uri documentUrl, string lowerId)
    {
        var root = Deserialize(content, documentUrl, lowerId, c => c.RegistrationIndexJson, "registration index");
        if (root.Items is null)
        {
            throw new UpstreamFormatException($"upstream registration index of '{lowerId}' has no 'items' array");
        }
        var pages = new List<NuGetRegistrationPageRef>(root.Items.Count);
        foreach (var page in root.Items)
        {
            if (page is null)
            {
                throw new UpstreamFormatException($"upstream registration index of '{lowerId}' has a page that is not an object");
            }
            var url = page.Id is { } id ? Resolve(documentUrl, id) : null;
            if (page.Items is null && url is null)
            {
                throw new UpstreamFormatException($"upstream registration index of '{lowerId}' has a page with neither items nor an '@id' to fetch it from");
            }
            pages.Add(new NuGetRegistrationPageRef(url, page.Lower, page.Upper, page.Items?.Where(l => l.Leaf is not null).Select(l => l.Leaf!).ToList()));
        }
        return new NuGetRegistrationIndex(pages);
    }

    /// <summary>A linked registration page read as a stream, one leaf buffered at a time.</summary>
    public static NuGetRegistrationPage ParseRegistrationPage(Stream content, Uri documentUrl, string lowerId)
    {
        var root = Deserialize(content, documentUrl, lowerId, c => c.RegistrationPageJson, "registration page");
        return root.Items is null
            ? throw new UpstreamFormatException($"upstream registration page of '{lowerId}' has no 'items' array")
            : new NuGetRegistrationPage(root.Items.Where(l => l.Leaf is not null).Select(l => l.Leaf!).ToList());
    }

    private static T Deserialize<T>(Stream content, Uri documentUrl, string lowerId, Func<RegistrationJsonContext, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>> type, string what)
        where T : class
    {
        // The leaf converter needs the page's URL and the package's id: one context per page parsed.
        var context = new RegistrationJsonContext(new JsonSerializerOptions { MaxDepth = 64, Converters = { new LeafConverter(documentUrl, lowerId) } });
        try
        {
            return JsonSerializer.Deserialize(content, type(context)) ?? throw new UpstreamFormatException($"upstream {what} of '{lowerId}' is JSON null");
        }
        catch (JsonException e)
        {
            throw new UpstreamFormatException($"upstream {what} of '{lowerId}' is not valid JSON of the expected shape: {e.Message}", e);
        }
    }

    internal sealed class RegistrationIndexJson
    {
        [System.Text.Json.Serialization.JsonPropertyName("items")]
        public List<RegistrationPageJson?>? Items { get; set; }
    }

    internal sealed class RegistrationPageJson
    {
        [System.Text.Json.Serialization.JsonPropertyName("@id")]
        public string? Id { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("lower")]
        public string? Lower { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("upper")]
        public string? Upper { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("items")]
        public List<LeafJson>? Items { get; set; }
    }

    /// <summary>A leaf as read by <see cref="LeafConverter"/>; null when it speaks for another package.</summary>
    internal sealed record LeafJson(NuGetLeaf? Leaf);

    /// <summary>Reads one leaf (the serializer buffers just that value) with the same rules as a whole-document parse.</summary>
    private sealed class LeafConverter(Uri documentUrl, string lowerId) : System.Text.Json.Serialization.JsonConverter<LeafJson>
    {
        public override LeafJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return new LeafJson(ParseLeaf(document.RootElement, documentUrl, lowerId));
        }

        public override void Write(Utf8JsonWriter writer, LeafJson value, JsonSerializerOptions options) =>
            throw new NotSupportedException("upstream registrations are only read");
    }

    /// <summary>A registration index; leaves whose id is not <paramref name="lowerId"/> are dropped.</summary>
    public static NuGetRegistrationIndex ParseRegistrationIndex(byte[] content, Uri documentUrl, string lowerId) =>
        ParseRegistrationIndex(new MemoryStream(content, writable: false), documentUrl, lowerId);

    public static NuGetRegistrationPage ParseRegistrationPage(byte[] content, Uri documentUrl, string lowerId) =>
        ParseRegistrationPage(new MemoryStream(content, writable: false), documentUrl, lowerId);

    public static NuGetCatalogLeaf ParseCatalogLeaf(byte[] content)
    {
        using var document = Parse(content, "catalog leaf");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || String(root, "id") is not { } id || String(root, "version") is not { } version)
        {
            throw new UpstreamFormatException("upstream catalog leaf has no 'id' and 'version'");
        }
        return new NuGetCatalogLeaf(id, version, String(root, "packageHash"), String(root, "packageHashAlgorithm"));
    }

    /// <summary>One registration leaf; null when it speaks for another package (a registration only speaks for its own).</summary>
    private static NuGetLeaf? ParseLeaf(JsonElement item, Uri documentUrl, string lowerId)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("catalogEntry", out var entry) || entry.ValueKind != JsonValueKind.Object)
        {
            throw new UpstreamFormatException($"upstream registration of '{lowerId}' has a leaf without an inline catalogEntry");
        }
        if (String(entry, "id") is not { } id || String(entry, "version") is not { } version)
        {
            throw new UpstreamFormatException($"upstream registration of '{lowerId}' has a catalogEntry without id or version");
        }
        if (!string.Equals(id, lowerId, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var content = String(item, "packageContent") ?? String(entry, "packageContent");
        return new NuGetLeaf
        {
            Id = id,
            Version = version,
            Published = String(entry, "published"),
            Listed = !(entry.TryGetProperty("listed", out var listed) && listed.ValueKind == JsonValueKind.False),
            PackageContent = content is null ? null : Resolve(documentUrl, content),
            CatalogUrl = String(entry, "@id") is { } catalog ? Resolve(documentUrl, catalog) : null,
            PackageHash = String(entry, "packageHash"),
            PackageHashAlgorithm = String(entry, "packageHashAlgorithm"),
            DependencyGroups = ParseDependencyGroups(entry, lowerId),
            Authors = StringOrJoined(entry, "authors", ", "),
            Description = String(entry, "description"),
            Summary = String(entry, "summary"),
            Title = String(entry, "title"),
            Tags = StringList(entry, "tags"),
            ProjectUrl = String(entry, "projectUrl"),
            LicenseExpression = String(entry, "licenseExpression"),
            LicenseUrl = String(entry, "licenseUrl"),
            RequireLicenseAcceptance = entry.TryGetProperty("requireLicenseAcceptance", out var rla) && rla.ValueKind == JsonValueKind.True,
            MinClientVersion = String(entry, "minClientVersion"),
        };
    }

    /// <summary>The leaf's dependency groups; null when the leaf has none (unknown: the .nuspec says, never "no dependencies").</summary>
    private static List<NuGetDependencyGroup>? ParseDependencyGroups(JsonElement entry, string lowerId)
    {
        var groups = new List<NuGetDependencyGroup>();
        if (!entry.TryGetProperty("dependencyGroups", out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new UpstreamFormatException($"upstream registration of '{lowerId}' has dependencyGroups that are not an array");
        }
        foreach (var group in array.EnumerateArray())
        {
            if (group.ValueKind != JsonValueKind.Object)
            {
                throw new UpstreamFormatException($"upstream registration of '{lowerId}' has a dependency group that is not an object");
            }
            var dependencies = new List<NuGetDependency>();
            if (group.TryGetProperty("dependencies", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var dependency in list.EnumerateArray())
                {
                    if (dependency.ValueKind != JsonValueKind.Object || String(dependency, "id") is not { } id)
                    {
                        throw new UpstreamFormatException($"upstream registration of '{lowerId}' has a dependency without an id");
                    }
                    dependencies.Add(new NuGetDependency(id, String(dependency, "range")));
                }
            }
            groups.Add(new NuGetDependencyGroup(String(group, "targetFramework"), dependencies));
        }
        return groups;
    }

    private static JsonDocument Parse(byte[] content, string what)
    {
        try
        {
            return JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new UpstreamFormatException($"upstream {what} is not valid JSON: {e.Message}", e);
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static string? StringOrJoined(JsonElement element, string name, string separator)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Array => string.Join(separator, value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString())),
            _ => null,
        };
    }

    private static List<string> StringList(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return [];
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            JsonValueKind.Array => value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList(),
            _ => [],
        };
    }

    private static string Resolve(Uri documentUrl, string url) =>
        Uri.TryCreate(documentUrl, url, out var absolute)
            ? absolute.AbsoluteUri
            : throw new UpstreamFormatException($"upstream document {documentUrl} has an unusable URL '{url}'");

    private static string Directory(string url) => url.EndsWith('/') ? url : url + "/";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(NuGetUpstreamParser.RegistrationIndexJson))]
[System.Text.Json.Serialization.JsonSerializable(typeof(NuGetUpstreamParser.RegistrationPageJson))]
internal sealed partial class RegistrationJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
