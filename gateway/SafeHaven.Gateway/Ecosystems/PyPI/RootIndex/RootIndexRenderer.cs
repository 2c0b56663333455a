using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

/// <summary>
/// Writes the root index (PEP 691 JSON or PEP 503 HTML) from <see cref="PyPIRootNames"/> into a buffer writer,
/// without a string per name for the usual names (ASCII letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).
/// </summary>
public static class RootIndexRenderer
{
    // JSON is served as JSON, never embedded in HTML, so '<', '>' and '+' need no escaping.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");

    public static void Render(PyPIRootNames names, SimpleFormat format, IBufferWriter<byte> output)
    {
        if (format == SimpleFormat.Json)
        {
            RenderJson(names, output);
        }
        else
        {
            RenderHtml(names, output);
        }
    }

    private static void RenderJson(PyPIRootNames names, IBufferWriter<byte> output)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        json.WriteStartObject();
        json.WriteStartObject("meta");
        json.WriteString("api-version", SimpleIndexRenderer.ApiVersion);
        json.WriteEndObject();
        json.WriteStartArray("projects");
        var span = names.Utf8.Span;
        while (!span.IsEmpty)
        {
            var end = span.IndexOf((byte)'\n');
            json.WriteStartObject();
            json.WriteString(Name, span[..end]);
            json.WriteEndObject();
            span = span[(end + 1)..];
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void RenderHtml(PyPIRootNames names, IBufferWriter<byte> output)
    {
        Write(output, "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\""u8);
        Write(output, Encoding.ASCII.GetBytes(SimpleIndexRenderer.ApiVersion));
        Write(output, "\">\n    <title>Simple index</title>\n  </head>\n  <body>\n"u8);
        var span = names.Utf8.Span;
        while (!span.IsEmpty)
        {
            var end = span.IndexOf((byte)'\n');
            var name = span[..end];
            span = span[(end + 1)..];
            if (name.IndexOfAnyExcept(Plain) < 0)
            {
                // Nothing to escape in a URL path segment or in HTML text.
                Write(output, "    <a href=\""u8);
                Write(output, name);
                Write(output, "/\">"u8);
                Write(output, name);
                Write(output, "</a><br/>\n"u8);
            }
            else
            {
                var text = Encoding.UTF8.GetString(name);
                Write(output, "    <a href=\""u8);
                Write(output, Encoding.UTF8.GetBytes(WebUtility.HtmlEncode(Uri.EscapeDataString(text))));
                Write(output, "/\">"u8);
                Write(output, Encoding.UTF8.GetBytes(WebUtility.HtmlEncode(text)));
                Write(output, "</a><br/>\n"u8);
            }
        }
        Write(output, "  </body>\n</html>\n"u8);
    }

    private static readonly SearchValues<byte> Plain =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"u8);

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var target = output.GetSpan(bytes.Length);
        bytes.CopyTo(target);
        output.Advance(bytes.Length);
    }
}
