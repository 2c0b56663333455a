using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SafeHaven.Core.Packages;
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
    [GeneratedRegex(@"<a\s(?<attrs>[^>]*)>(?<text>.*?)</a\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Anchor();

    [GeneratedRegex(@"(?<name>[a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:""(?<v1>[^""]*)""|'(?<v2>[^']*)'|(?<v3>[^\s""'=<>`]+)))?", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Attribute();

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
            return new PyPIProject { Name = name, Files = files };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UpstreamFormatException($"upstream page for '{normalizedName}' is not valid PEP 691 JSON: {e.Message}", e);
        }
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

    private static PyPIProject ParseProjectHtml(string html, Uri pageUrl, string normalizedName)
    {
        RequireHtml(html);
        var files = new List<PyPIFile>();
        foreach (Match anchor in Anchor().Matches(html))
        {
            var attributes = ParseAttributes(anchor.Groups["attrs"].Value);
            if (!attributes.TryGetValue("href", out var href) || string.IsNullOrEmpty(href))
            {
                continue;
            }
            var filename = WebUtility.HtmlDecode(anchor.Groups["text"].Value).Trim();
            string? sha256 = null;
            var fragment = href.IndexOf('#', StringComparison.Ordinal);
            var url = href;
            if (fragment >= 0)
            {
                var hash = href[(fragment + 1)..];
                url = href[..fragment];
                if (hash.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
                {
                    sha256 = hash[7..].ToLowerInvariant();
                }
            }
            if (filename.Length == 0)
            {
                filename = Uri.UnescapeDataString(url[(url.LastIndexOf('/') + 1)..]);
            }
            CheckFilename(filename);
            var coreMetadata = attributes.TryGetValue("data-core-metadata", out var cm) ? cm
                : attributes.TryGetValue("data-dist-info-metadata", out var dim) ? dim : null;
            string? coreMetadataSha = null;
            if (coreMetadata is not null && coreMetadata.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
            {
                coreMetadataSha = coreMetadata[7..].ToLowerInvariant();
            }
            attributes.TryGetValue("data-yanked", out var yankedReason);
            files.Add(new PyPIFile
            {
                Filename = filename,
                Url = Resolve(pageUrl, url),
                Sha256 = sha256,
                RequiresPython = attributes.TryGetValue("data-requires-python", out var rp) ? rp : null,
                CoreMetadata = coreMetadata is not null && !coreMetadata.Equals("false", StringComparison.OrdinalIgnoreCase),
                CoreMetadataSha256 = coreMetadataSha,
                Yanked = attributes.ContainsKey("data-yanked"),
                YankedReason = string.IsNullOrEmpty(yankedReason) ? null : yankedReason,
                Size = null,
                UploadTime = null,
            });
        }
        return new PyPIProject { Name = normalizedName, Files = files };
    }

    private static Dictionary<string, string> ParseAttributes(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match attribute in Attribute().Matches(text))
        {
            var value = attribute.Groups["v1"].Success ? attribute.Groups["v1"].Value
                : attribute.Groups["v2"].Success ? attribute.Groups["v2"].Value
                : attribute.Groups["v3"].Success ? attribute.Groups["v3"].Value : "";
            result.TryAdd(attribute.Groups["name"].Value, WebUtility.HtmlDecode(value));
        }
        return result;
    }

    private static void CheckFilename(string filename)
    {
        if (filename.Length == 0 || filename.Contains('/') || filename.Contains('\\') || filename is "." or ".." || filename.Any(char.IsControl))
        {
            throw new UpstreamFormatException($"unsafe file name '{filename}' in upstream index");
        }
    }

    private static string Resolve(Uri pageUrl, string url)
    {
        if (!Uri.TryCreate(pageUrl, url, out var absolute) || (absolute.Scheme != Uri.UriSchemeHttp && absolute.Scheme != Uri.UriSchemeHttps))
        {
            throw new UpstreamFormatException($"file URL '{url}' is not an http(s) URL");
        }
        return absolute.GetLeftPart(UriPartial.Query);
    }
}
