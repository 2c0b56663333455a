using System.Net;
using System.Text;
using System.Text.Json;
using SafeHaven.Core.Packages;
using SafeHaven.Gateway.Ecosystems.PyPI.Html;
using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// Parses upstream simple-index pages, PEP 691 JSON or PEP 503 HTML, into <see cref="PyPIProject"/>.
/// Relative URLs are resolved against the page URL. Anything malformed raises <see cref="UpstreamFormatException"/>
/// so that the last good copy keeps being served.
/// </summary>
public static partial class SimpleIndexParser
{
    public static bool IsJson(string? contentType) =>
        contentType is not null && (contentType.StartsWith(SimpleContentNegotiation.JsonV1, StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/vnd.pypi.simple.latest+json", StringComparison.OrdinalIgnoreCase));

    public static PyPIProject ParseProject(ReadOnlySpan<byte> content, string? contentType, Uri pageUrl, string normalizedName) =>
        IsJson(contentType) ? ParseProjectJson(content, pageUrl, normalizedName) : ParseProjectHtml(Decode(content), pageUrl, normalizedName);

    /// <summary>The names of an upstream root index (see <see cref="PyPIRootNames.Parse"/>: a streaming parse into a compact buffer).</summary>
    public static PyPIRootNames ParseRoot(ReadOnlySpan<byte> content, string? contentType) => PyPIRootNames.Parse(content, contentType);

    private static string Decode(ReadOnlySpan<byte> content)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException e)
        {
            throw new UpstreamFormatException("upstream page is not UTF-8", e);
        }
    }

    private static void RequireHtml(string html)
    {
        if (!html.Contains("<a", StringComparison.OrdinalIgnoreCase) && !html.Contains("<html", StringComparison.OrdinalIgnoreCase)
            && !html.Contains("<!doctype", StringComparison.OrdinalIgnoreCase))
        {
            throw new UpstreamFormatException("upstream page is neither PEP 691 JSON nor HTML");
        }
    }

    private static void CheckApiVersion(JsonElement root)
    {
        if (!root.TryGetProperty("meta", out var meta) || !meta.TryGetProperty("api-version", out var version) || version.ValueKind != JsonValueKind.String)
        {
            throw new UpstreamFormatException("PEP 691 JSON without meta.api-version");
        }
        var text = version.GetString()!;
        if (!text.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new UpstreamFormatException($"unsupported simple API version {text}");
        }
    }

    private static PyPIProject ParseProjectJson(ReadOnlySpan<byte> content, Uri pageUrl, string normalizedName)
    {
        try
        {
            using var document = JsonDocument.Parse(content.ToArray());
            var root = document.RootElement;
            CheckApiVersion(root);
            var name = root.GetProperty("name").GetString() ?? normalizedName;
            if (PackageName.NormalizePyPI(name) != normalizedName)
            {
                throw new UpstreamFormatException($"upstream answered for project '{name}' when asked for '{normalizedName}'");
            }
            var files = new List<PyPIFile>();
            foreach (var file in root.GetProperty("files").EnumerateArray())
            {
                var filename = file.GetProperty("filename").GetString();
                var url = file.GetProperty("url").GetString();
                if (string.IsNullOrEmpty(filename) || string.IsNullOrEmpty(url))
                {
                    throw new UpstreamFormatException("a file without filename or url");
                }
                CheckFilename(filename);
                string? sha256 = null;
                if (file.TryGetProperty("hashes", out var hashes) && hashes.ValueKind == JsonValueKind.Object
                    && hashes.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String)
                {
                    sha256 = sha.GetString()!.ToLowerInvariant();
                }
                var (coreMetadata, coreMetadataSha) = ReadCoreMetadata(file);
                var (yanked, yankedReason) = file.TryGetProperty("yanked", out var y) ? y.ValueKind switch
                {
                    JsonValueKind.True => (true, (string?)null),
                    JsonValueKind.String => (true, y.GetString()),
                    _ => (false, null),
                } : (false, null);
                files.Add(new PyPIFile
                {
                    Filename = filename,
                    Url = Resolve(pageUrl, url),
                    Sha256 = sha256,
                    RequiresPython = StringOrNull(file, "requires-python"),
                    CoreMetadata = coreMetadata,
                    CoreMetadataSha256 = coreMetadataSha,
                    Yanked = yanked,
                    YankedReason = yankedReason,
                    Size = file.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt64() : null,
                    UploadTime = StringOrNull(file, "upload-time"),
                });
            }
            return new PyPIProject { Name = name, Files = files, Versions = ReadVersions(root) };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UpstreamFormatException($"upstream page for '{normalizedName}' is not valid PEP 691 JSON: {e.Message}", e);
        }
    }

    /// <summary>PEP 700 <c>versions</c> exactly as upstream lists them, or null when upstream gives none.</summary>
    private static List<string>? ReadVersions(JsonElement root)
    {
        if (!root.TryGetProperty("versions", out var versions) || versions.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var result = new List<string>(versions.GetArrayLength());
        foreach (var version in versions.EnumerateArray())
        {
            result.Add(version.GetString() is { Length: > 0 } text ? text : throw new UpstreamFormatException("a PEP 700 version that is not a string"));
        }
        return result;
    }

    private static (bool, string?) ReadCoreMetadata(JsonElement file)
    {
        foreach (var key in (string[])["core-metadata", "dist-info-metadata", "data-dist-info-metadata"])
        {
            if (!file.TryGetProperty(key, out var value))
            {
                continue;
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.True:
                    return (true, null);
                case JsonValueKind.Object:
                    return (true, value.TryGetProperty("sha256", out var sha) && sha.ValueKind == JsonValueKind.String
                        ? sha.GetString()!.ToLowerInvariant() : null);
                default:
                    return (false, null);
            }
        }
        return (false, null);
    }

    private static string? StringOrNull(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Reads a PEP 503 page as pip does (<see cref="PipHtmlParser"/>): every <c>&lt;a href&gt;</c>, resolved against
    /// the first <c>&lt;base href&gt;</c> (itself resolved against the page URL) or the page URL; the file name is the
    /// last segment of the link's path, percent-decoded (pip ignores the anchor text); the SHA-256 comes from the
    /// URL fragment. Links to directories (a path ending in '/', such as a static server's <c>../</c>) are not files.
    /// Two deliberate differences from pip: a relative <c>&lt;base href&gt;</c> is resolved against the page URL, as
    /// browsers do (pip would join links to it as given and end with an unusable relative URL); and an href with a
    /// backslash is refused, since .NET would read it as '/' where pip would percent-encode it, so the two would
    /// name different files.
    /// </summary>
    private static PyPIProject ParseProjectHtml(string html, Uri pageUrl, string normalizedName)
    {
        RequireHtml(html);
        var links = PipHtmlParser.ParseLinks(html);
        var baseUrl = pageUrl;
        if (!string.IsNullOrEmpty(links.BaseHref))
        {
            if (!Uri.TryCreate(pageUrl, links.BaseHref, out var resolvedBase) || (resolvedBase.Scheme != Uri.UriSchemeHttp && resolvedBase.Scheme != Uri.UriSchemeHttps))
            {
                throw new UpstreamFormatException($"<base href> '{links.BaseHref}' is not an http(s) URL");
            }
            baseUrl = resolvedBase;
        }
        var files = new List<PyPIFile>();
        foreach (var attributes in links.Anchors)
        {
            if (attributes.GetValueOrDefault("href") is not { Length: > 0 } href)
            {
                continue;
            }
            string? sha256 = null;
            var url = href;
            var fragment = href.IndexOf('#', StringComparison.Ordinal);
            if (fragment >= 0)
            {
                url = href[..fragment];
                // The fragment is read as '&'-separated pairs (#sha256=...&egg=...) and the first sha256 is the one
                // verified. pip differs only on odd fragments: 23.0.1 takes everything after the first "<hash>=" as
                // the value, 23.2 the first hash of any kind. Clients never see upstream's fragment: the appliance
                // publishes its own "#sha256=" of the file it has verified.
                foreach (var pair in href[(fragment + 1)..].Split('&'))
                {
                    if (pair.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
                    {
                        sha256 = pair[7..].ToLowerInvariant();
                        break;
                    }
                }
            }
            if (url.Contains('\\', StringComparison.Ordinal))
            {
                throw new UpstreamFormatException($"file URL '{url}' contains a backslash");
            }
            var absolute = ResolveUri(baseUrl, url);
            var path = absolute.AbsolutePath;
            if (path.EndsWith('/'))
            {
                continue;
            }
            var filename = Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
            CheckFilename(filename);
            // PEP 714: data-core-metadata, else the older data-dist-info-metadata. A valueless attribute says
            // nothing (pip reads None), so no metadata file is advertised for it.
            var coreMetadata = attributes.GetValueOrDefault("data-core-metadata") ?? attributes.GetValueOrDefault("data-dist-info-metadata");
            string? coreMetadataSha = null;
            if (coreMetadata is not null && coreMetadata.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
            {
                coreMetadataSha = coreMetadata[7..].ToLowerInvariant();
            }
            // PEP 592: the attribute's presence marks the file yanked, with or without a reason. (pip itself reads a
            // valueless data-yanked as not yanked; treating it as yanked is the cautious reading.)
            var yanked = attributes.TryGetValue("data-yanked", out var yankedReason);
            files.Add(new PyPIFile
            {
                Filename = filename,
                Url = absolute.GetLeftPart(UriPartial.Query),
                Sha256 = sha256,
                RequiresPython = attributes.GetValueOrDefault("data-requires-python"),
                CoreMetadata = coreMetadata is { Length: > 0 } && !coreMetadata.Equals("false", StringComparison.OrdinalIgnoreCase),
                CoreMetadataSha256 = coreMetadataSha,
                Yanked = yanked,
                YankedReason = string.IsNullOrEmpty(yankedReason) ? null : yankedReason,
                Size = null,
                UploadTime = null,
            });
        }
        return new PyPIProject { Name = normalizedName, Files = files, Versions = null };
    }

    private static void CheckFilename(string filename)
    {
        if (filename.Length == 0 || filename.Contains('/') || filename.Contains('\\') || filename is "." or ".." || filename.Any(char.IsControl))
        {
            throw new UpstreamFormatException($"unsafe file name '{filename}' in upstream index");
        }
    }

    private static string Resolve(Uri pageUrl, string url) => ResolveUri(pageUrl, url).GetLeftPart(UriPartial.Query);

    private static Uri ResolveUri(Uri pageUrl, string url)
    {
        if (!Uri.TryCreate(pageUrl, url, out var absolute) || (absolute.Scheme != Uri.UriSchemeHttp && absolute.Scheme != Uri.UriSchemeHttps))
        {
            throw new UpstreamFormatException($"file URL '{url}' is not an http(s) URL");
        }
        return absolute;
    }
}
