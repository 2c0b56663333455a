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

    public static PyPIProject ParseProject(ReadOnlySpan<byte> content, string? contentType, Uri pageUrl, string normalizedName)
    {
        if (!IsJson(contentType))
        {
            return ParseProjectHtml(Decode(content), pageUrl, normalizedName);
        }
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return ParseProjectJson(stream, pageUrl, normalizedName);
    }

    /// <summary>
    /// Parses a page read from a stream (an upstream page spooled to disk): PEP 691 JSON is deserialised as a stream
    /// into the file records only, so memory does not grow with the page's size. PEP 503 HTML is decoded and tokenised in pieces (see <see cref="PipHtmlParser.StartTags(TextReader, int)"/>).
    /// </summary>
    public static PyPIProject ParseProject(UpstreamDocument document, string normalizedName)
    {
        using var stream = document.OpenRead();
        return IsJson(document.ContentType)
            ? ParseProjectJson(stream, document.Url, normalizedName)
            : ParseProjectHtml(stream, document.Url, normalizedName);
    }

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

    private static PyPIProject ParseProjectJson(Stream content, Uri pageUrl, string normalizedName)
    {
        try
        {
            var page = JsonSerializer.Deserialize(content, SimpleJsonPageContext.Default.SimpleJsonPage)
                ?? throw new UpstreamFormatException($"upstream page for '{normalizedName}' is JSON null");
            if (page.Meta?.ApiVersion is not { } version)
            {
                throw new UpstreamFormatException("PEP 691 JSON without meta.api-version");
            }
            if (!version.StartsWith("1.", StringComparison.Ordinal))
            {
                throw new UpstreamFormatException($"unsupported simple API version {version}");
            }
            if (!page.HasName)
            {
                throw new UpstreamFormatException($"upstream page for '{normalizedName}' has no name");
            }
            var name = page.Name ?? normalizedName;
            if (PackageName.NormalizePyPI(name) != normalizedName)
            {
                throw new UpstreamFormatException($"upstream answered for project '{name}' when asked for '{normalizedName}'");
            }
            if (page.Files is null)
            {
                throw new UpstreamFormatException($"upstream page for '{normalizedName}' has no files list");
            }
            var files = new List<PyPIFile>(page.Files.Count);
            foreach (var file in page.Files)
            {
                if (string.IsNullOrEmpty(file.Filename) || string.IsNullOrEmpty(file.Url))
                {
                    throw new UpstreamFormatException("a file without filename or url");
                }
                CheckFilename(file.Filename);
                files.Add(new PyPIFile
                {
                    Filename = file.Filename,
                    Url = Resolve(pageUrl, file.Url),
                    Sha256 = file.Sha256,
                    RequiresPython = file.RequiresPython,
                    CoreMetadata = file.CoreMetadata,
                    CoreMetadataSha256 = file.CoreMetadataSha256,
                    Yanked = file.Yanked,
                    YankedReason = file.YankedReason,
                    Size = file.Size,
                    UploadTime = file.UploadTime,
                });
            }
            // PEP 700 versions exactly as upstream lists them, or null when upstream gives none.
            var versions = page.Versions?.Select(v => v is { Length: > 0 } text ? text : throw new UpstreamFormatException("a PEP 700 version that is not a string")).ToList();
            return new PyPIProject { Name = name, Files = files, Versions = versions };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new UpstreamFormatException($"upstream page for '{normalizedName}' is not valid PEP 691 JSON: {e.Message}", e);
        }
    }

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
        return ProjectFromLinks(PipHtmlParser.ParseLinks(html), pageUrl, normalizedName);
    }

    /// <summary>As above, decoding and tokenising the page in pieces, so memory holds the links, not the page.</summary>
    private static PyPIProject ParseProjectHtml(Stream content, Uri pageUrl, string normalizedName)
    {
        PipHtmlLinks links;
        bool looksLikeHtml;
        try
        {
            using var reader = new HtmlSniffingReader(new StreamReader(content, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, 64 * 1024));
            links = PipHtmlParser.ParseLinks(reader);
            looksLikeHtml = reader.LooksLikeHtml;
        }
        catch (DecoderFallbackException e)
        {
            throw new UpstreamFormatException("upstream page is not UTF-8", e);
        }
        if (!looksLikeHtml)
        {
            throw new UpstreamFormatException("upstream page is neither PEP 691 JSON nor HTML");
        }
        return ProjectFromLinks(links, pageUrl, normalizedName);
    }

    /// <summary>
    /// Reads text through, noting whether it contains <c>&lt;a</c>, <c>&lt;html</c> or <c>&lt;!doctype</c> (in any case,
    /// across piece boundaries): what <see cref="RequireHtml"/> checks of a whole page.
    /// </summary>
    private sealed class HtmlSniffingReader(TextReader inner) : TextReader
    {
        private string _tail = "";

        public bool LooksLikeHtml { get; private set; }

        public override int Read(char[] buffer, int index, int count)
        {
            var read = inner.Read(buffer, index, count);
            if (!LooksLikeHtml && read > 0)
            {
                var text = _tail + new string(buffer, index, read);
                LooksLikeHtml = text.Contains("<a", StringComparison.OrdinalIgnoreCase) || text.Contains("<html", StringComparison.OrdinalIgnoreCase)
                    || text.Contains("<!doctype", StringComparison.OrdinalIgnoreCase);
                _tail = text.Length > 8 ? text[^8..] : text;
            }
            return read;
        }

        public override int Peek() => inner.Peek();

        public override int Read() => throw new NotSupportedException("read in pieces");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private static PyPIProject ProjectFromLinks(PipHtmlLinks links, Uri pageUrl, string normalizedName)
    {
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
