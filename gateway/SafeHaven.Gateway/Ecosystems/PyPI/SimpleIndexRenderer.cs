using System.Net;
using System.Text;
using System.Text.Json;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// Renders the simple API as clients expect it: PEP 691 JSON (api-version 1.1, with PEP 700 fields) or PEP 503
/// HTML. File links are relative (<c>../../packages/&lt;project&gt;/&lt;file&gt;</c>), so pages are right behind any
/// host name or reverse proxy. Upstream URLs never appear.
/// </summary>
public static class SimpleIndexRenderer
{
    public const string ApiVersion = "1.1";

    // JSON is served as JSON, never embedded in HTML, so '<', '>' and '+' need no escaping.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string FileHref(string normalizedName, string filename) =>
        "../../packages/" + Uri.EscapeDataString(normalizedName) + "/" + Uri.EscapeDataString(filename);

    public static byte[] RenderProject(string normalizedName, IReadOnlyList<PyPIFile> files, IReadOnlyList<string> versions, SimpleFormat format) =>
        format == SimpleFormat.Json ? RenderProjectJson(normalizedName, files, versions) : RenderProjectHtml(normalizedName, files);

    /// <summary>The root index as one array (small lists; the served root is rendered by <see cref="RootIndex.PyPIRootIndex"/>).</summary>
    public static byte[] RenderRoot(IEnumerable<string> names, SimpleFormat format)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        RootIndex.RootIndexRenderer.Render(RootIndex.PyPIRootNames.FromNames(names), format, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMeta(Utf8JsonWriter json)
    {
        json.WriteStartObject("meta");
        json.WriteString("api-version", ApiVersion);
        json.WriteEndObject();
    }

    private static byte[] RenderProjectJson(string normalizedName, IReadOnlyList<PyPIFile> files, IReadOnlyList<string> versions)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256 + files.Count * 400);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            WriteMeta(json);
            json.WriteString("name", normalizedName);
            json.WriteStartArray("versions");
            foreach (var version in versions)
            {
                json.WriteStringValue(version);
            }
            json.WriteEndArray();
            json.WriteStartArray("files");
            foreach (var file in files)
            {
                json.WriteStartObject();
                json.WriteString("filename", file.Filename);
                json.WriteString("url", FileHref(normalizedName, file.Filename));
                json.WriteStartObject("hashes");
                if (file.Sha256 is not null)
                {
                    // PEP 691 allows an empty hashes object; a null hash value is not allowed.
                    json.WriteString("sha256", file.Sha256);
                }
                json.WriteEndObject();
                if (file.RequiresPython is not null)
                {
                    json.WriteString("requires-python", file.RequiresPython);
                }
                // PEP 714: JSON carries "core-metadata" only. The old PEP 658 key "dist-info-metadata" is never written:
                // older pips (Debian 12's 23.0.1 among them) read it and crash on the object form with
                // "TypeError: unhashable type: 'dict'". Those pips fall back to downloading the file itself.
                if (file.CoreMetadata && file.CoreMetadataSha256 is not null)
                {
                    json.WriteStartObject("core-metadata");
                    json.WriteString("sha256", file.CoreMetadataSha256);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteBoolean("core-metadata", file.CoreMetadata);
                }
                if (file.Yanked)
                {
                    if (file.YankedReason is null)
                    {
                        json.WriteBoolean("yanked", true);
                    }
                    else
                    {
                        json.WriteString("yanked", file.YankedReason);
                    }
                }
                else
                {
                    json.WriteBoolean("yanked", false);
                }
                if (file.Size is { } size)
                {
                    json.WriteNumber("size", size);
                }
                if (file.UploadTime is not null)
                {
                    json.WriteString("upload-time", file.UploadTime);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] RenderProjectHtml(string normalizedName, IReadOnlyList<PyPIFile> files)
    {
        var html = new StringBuilder(256 + files.Count * 300);
        var title = WebUtility.HtmlEncode(normalizedName);
        html.Append("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"").Append(ApiVersion)
            .Append("\">\n    <title>Links for ").Append(title).Append("</title>\n  </head>\n  <body>\n    <h1>Links for ")
            .Append(title).Append("</h1>\n");
        foreach (var file in files)
        {
            html.Append("    <a href=\"").Append(WebUtility.HtmlEncode(FileHref(normalizedName, file.Filename)));
            if (file.Sha256 is not null)
            {
                html.Append("#sha256=").Append(file.Sha256);
            }
            html.Append('"');
            if (file.RequiresPython is not null)
            {
                html.Append(" data-requires-python=\"").Append(WebUtility.HtmlEncode(file.RequiresPython)).Append('"');
            }
            if (file.CoreMetadata)
            {
                // PEP 714 keeps both attributes in HTML: pip 23.0.1 (Debian 12's) reads only
                // data-dist-info-metadata, a string there, which it handles; newer clients read data-core-metadata.
                var value = file.CoreMetadataSha256 is null ? "true" : "sha256=" + file.CoreMetadataSha256;
                html.Append(" data-dist-info-metadata=\"").Append(value).Append("\" data-core-metadata=\"").Append(value).Append('"');
            }
            if (file.Yanked)
            {
                html.Append(" data-yanked=\"").Append(WebUtility.HtmlEncode(file.YankedReason ?? "")).Append('"');
            }
            html.Append('>').Append(WebUtility.HtmlEncode(file.Filename)).Append("</a><br/>\n");
        }
        html.Append("  </body>\n</html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }
}
