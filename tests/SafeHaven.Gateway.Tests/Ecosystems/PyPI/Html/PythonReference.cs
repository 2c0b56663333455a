using System.Diagnostics;
using System.Text.Json;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI.Html;

/// <summary>
/// Runs Debian's own Python 3.11 (<c>/usr/bin/python3</c>, the interpreter of Debian's pip 23.0.1) at test time,
/// so the port is compared with the real <c>html.parser.HTMLParser</c> and pip's own <c>parse_links</c>, not with
/// what the port's author believes they do.
/// </summary>
internal static class PythonReference
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Every start tag Python's HTMLParser reports (fed once, never closed, as pip does), or null where it raises.</summary>
    private const string StartTagsScript = """
        import json, sys
        from html.parser import HTMLParser
        class Tags(HTMLParser):
            def __init__(self):
                super().__init__(convert_charrefs=True)
                self.tags = []
            def handle_starttag(self, tag, attrs):
                self.tags.append([tag, [[k, v] for k, v in attrs]])
        out = []
        for doc in json.load(sys.stdin):
            p = Tags()
            try:
                p.feed(doc)
                out.append(p.tags)
            except AssertionError:
                out.append(None)
        json.dump(out, sys.stdout)
        """;

    /// <summary>The links Debian's pip 23.0.1 itself reads from each page.</summary>
    private const string PipLinksScript = """
        import json, sys
        sys.path.insert(0, "/usr/lib/python3/dist-packages")
        from pip._internal.index.collector import IndexContent, parse_links
        out = []
        for page in json.load(sys.stdin):
            content = IndexContent(page["html"].encode("utf-8"), page["type"], encoding="utf-8", url=page["url"])
            links = []
            for link in parse_links(content):
                links.append({
                    "url": link.url_without_fragment,
                    "filename": link.filename,
                    "sha256": link._hashes.get("sha256"),
                    "requires_python": link.requires_python,
                    "yanked_reason": link.yanked_reason,
                    "dist_info_metadata": link.dist_info_metadata,
                })
            out.append(links)
        json.dump(out, sys.stdout)
        """;

    public sealed record PipLink(string Url, string Filename, string? Sha256, string? RequiresPython, string? YankedReason, string? DistInfoMetadata);

    public static IReadOnlyList<List<(string Tag, List<KeyValuePair<string, string?>> Attributes)>?> StartTags(IReadOnlyList<string> documents)
    {
        using var output = Run(StartTagsScript, JsonSerializer.Serialize(documents));
        return output.RootElement.EnumerateArray().Select(doc => doc.ValueKind == JsonValueKind.Null ? null
            : doc.EnumerateArray().Select(tag => (
                tag[0].GetString()!,
                tag[1].EnumerateArray().Select(a => new KeyValuePair<string, string?>(a[0].GetString()!, a[1].GetString())).ToList())).ToList())
            .ToList();
    }

    public static IReadOnlyList<List<PipLink>> PipLinks(IReadOnlyList<(string Html, string Url)> pages, string contentType = "text/html")
    {
        using var output = Run(PipLinksScript, JsonSerializer.Serialize(pages.Select(p => new { html = p.Html, url = p.Url, type = contentType })));
        return output.RootElement.EnumerateArray().Select(page => page.EnumerateArray().Select(l => new PipLink(
            l.GetProperty("url").GetString()!, l.GetProperty("filename").GetString()!, l.GetProperty("sha256").GetString(),
            l.GetProperty("requires_python").GetString(), l.GetProperty("yanked_reason").GetString(), l.GetProperty("dist_info_metadata").GetString())).ToList()).ToList();
    }

    private static JsonDocument Run(string script, string input)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("python3 did not finish");
        }
        Assert.True(process.ExitCode == 0, $"python3 failed: {stderr.Result}");
        return JsonDocument.Parse(stdout.Result);
    }
}
