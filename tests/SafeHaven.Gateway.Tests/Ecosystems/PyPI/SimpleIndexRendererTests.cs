using System.Text;
using System.Text.Json;
using SafeHaven.Gateway.Ecosystems.PyPI;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class SimpleIndexRendererTests
{
    /// <summary>Where the appliance serves the page; the links must resolve under it.</summary>
    private static readonly Uri MirrorPage = new("https://safehaven.example/pypi/simple/requests/");

    private static IReadOnlyList<PyPIFile> UpstreamFiles() =>
        SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(PyPIPages.RequestsJson), SimpleContentNegotiation.JsonV1, PyPIPages.RequestsPage, "requests").Files;

    private static readonly string[] Versions = ["0.2.0", "2.31.0", "2.32.0"];

    private static PyPIProject RoundTrip(IReadOnlyList<PyPIFile> files, SimpleFormat format, string name = "requests")
    {
        var page = new Uri($"https://safehaven.example/pypi/simple/{name}/");
        var body = SimpleIndexRenderer.RenderProject(name, files, Versions, format);
        return SimpleIndexParser.ParseProject(body, SimpleContentNegotiation.ContentType(format), page, name);
    }

    private static string ExpectedUrl(string name, string escapedFilename) => $"https://safehaven.example/pypi/packages/{name}/{escapedFilename}";

    [Fact]
    public void JsonRoundTripGivesBackEveryField()
    {
        var files = UpstreamFiles();

        var parsed = RoundTrip(files, SimpleFormat.Json);

        Assert.Equal("requests", parsed.Name);
        Assert.Equal(files.Count, parsed.Files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i] with { Url = ExpectedUrl("requests", files[i].Filename) }, parsed.Files[i]);
        }
    }

    [Theory]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void HtmlRoundTripGivesBackWhatHtmlCarries(SimpleFormat format)
    {
        var files = UpstreamFiles();

        var parsed = RoundTrip(files, format);

        Assert.Equal(files.Count, parsed.Files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            // Size and upload time have no place in PEP 503 HTML.
            Assert.Equal(files[i] with { Url = ExpectedUrl("requests", files[i].Filename), Size = null, UploadTime = null }, parsed.Files[i]);
        }
    }

    [Theory]
    [InlineData(SimpleFormat.Json)]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void AwkwardValuesRoundTrip(SimpleFormat format)
    {
        var files = new List<PyPIFile>
        {
            new()
            {
                Filename = "torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl",
                Url = "https://download.pytorch.org/whl/cpu/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
                Sha256 = "ffd2e2fb6f9e2a3c8e1f9b6e2d3c4b5a6978675645342312f0e1d2c3b4a59687",
                RequiresPython = ">=3.8.0, <3.13, !=3.9.*",
                Yanked = true,
                YankedReason = "\"broken\" <build> & 'more'",
                CoreMetadata = true,
                Size = 184_000_000,
                UploadTime = "2023-10-04T17:31:11Z",
            },
            new()
            {
                Filename = "torch-2.0.0 (copy).tar.gz",
                Url = "https://download.pytorch.org/whl/cpu/x.tar.gz",
                Sha256 = "0000000000000000000000000000000000000000000000000000000000000000",
            },
        };

        var parsed = RoundTrip(files, format, "torch");

        Assert.Equal(files.Select(f => f.Filename), parsed.Files.Select(f => f.Filename));
        Assert.Equal(files.Select(f => f.RequiresPython), parsed.Files.Select(f => f.RequiresPython));
        Assert.Equal(files.Select(f => f.YankedReason), parsed.Files.Select(f => f.YankedReason));
        Assert.Equal(files.Select(f => f.Sha256), parsed.Files.Select(f => f.Sha256));
        Assert.Equal(ExpectedUrl("torch", "torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl"), parsed.Files[0].Url);
        Assert.Equal(ExpectedUrl("torch", "torch-2.0.0%20%28copy%29.tar.gz"), parsed.Files[1].Url);
    }

    [Fact]
    public void JsonHasTheShapePep691AndPep700Require()
    {
        var files = UpstreamFiles();

        using var document = JsonDocument.Parse(SimpleIndexRenderer.RenderProject("requests", files, Versions, SimpleFormat.Json));
        var root = document.RootElement;

        Assert.Equal("1.1", root.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.Equal("requests", root.GetProperty("name").GetString());
        Assert.Equal(Versions, root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));

        var rendered = root.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(4, rendered.Count);

        var wheel = rendered[1];
        Assert.Equal("requests-2.31.0-py3-none-any.whl", wheel.GetProperty("filename").GetString());
        Assert.Equal("../../packages/requests/requests-2.31.0-py3-none-any.whl", wheel.GetProperty("url").GetString());
        Assert.Equal(PyPIPages.Sha256Whl2310, wheel.GetProperty("hashes").GetProperty("sha256").GetString());
        Assert.Equal(">=3.7", wheel.GetProperty("requires-python").GetString());
        Assert.Equal(PyPIPages.Sha256Metadata2310, wheel.GetProperty("core-metadata").GetProperty("sha256").GetString());
        // PEP 714: never the old key, which crashes older pips (Debian 12's 23.0.1) when it is an object.
        Assert.All(rendered, f => Assert.False(f.TryGetProperty("dist-info-metadata", out _)));
        Assert.Equal(JsonValueKind.False, wheel.GetProperty("yanked").ValueKind);
        Assert.Equal(62574, wheel.GetProperty("size").GetInt64());
        Assert.Equal("2023-05-22T15:12:42.313790Z", wheel.GetProperty("upload-time").GetString());

        var old = rendered[0];
        Assert.Equal(JsonValueKind.False, old.GetProperty("core-metadata").ValueKind);
        Assert.False(old.TryGetProperty("requires-python", out var rp) && rp.ValueKind != JsonValueKind.Null);
        Assert.Equal("2011-02-14T16:28:05.036018Z", old.GetProperty("upload-time").GetString());

        var yanked = rendered[3];
        Assert.Equal("Yanked due to conflicts with CVE-2024-35195 mitigation", yanked.GetProperty("yanked").GetString());
        Assert.Equal(JsonValueKind.True, yanked.GetProperty("core-metadata").ValueKind);
    }

    [Fact]
    public void UploadTimeIsPassedThroughByteForByte()
    {
        var file = new PyPIFile
        {
            Filename = "requests-2.28.2-py3-none-any.whl",
            Url = "https://files.pythonhosted.org/x",
            Sha256 = "64299f4909223da747622c030b781c0d7811e359c37124b4bd368fb8c6518baa",
            UploadTime = "2023-02-17T18:31:56.494954Z",
            Size = 62822,
        };

        var text = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", [file], ["2.28.2"], SimpleFormat.Json));

        Assert.Contains("\"upload-time\":\"2023-02-17T18:31:56.494954Z\"", text, StringComparison.Ordinal);
        Assert.Contains("\"size\":62822", text, StringComparison.Ordinal);
    }

    [Fact]
    public void YankedWithoutReasonIsTrueInJson()
    {
        var file = UpstreamFiles()[1] with { Yanked = true, YankedReason = null };

        using var document = JsonDocument.Parse(SimpleIndexRenderer.RenderProject("requests", [file], Versions, SimpleFormat.Json));

        Assert.Equal(JsonValueKind.True, document.RootElement.GetProperty("files")[0].GetProperty("yanked").ValueKind);
    }

    [Theory]
    [InlineData(SimpleFormat.Json)]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void UpstreamUrlsNeverAppear(SimpleFormat format)
    {
        var text = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", UpstreamFiles(), Versions, format));

        Assert.DoesNotContain("pythonhosted", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pypi.org", text, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void HtmlHasWhatPipReads(SimpleFormat format)
    {
        var text = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", UpstreamFiles(), Versions, format));

        Assert.StartsWith("<!DOCTYPE html>", text, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"pypi:repository-version\" content=\"1.1\">", text, StringComparison.Ordinal);
        Assert.Contains(
            $"href=\"../../packages/requests/requests-2.31.0-py3-none-any.whl#sha256={PyPIPages.Sha256Whl2310}\"",
            text, StringComparison.Ordinal);
        Assert.Contains($"href=\"../../packages/requests/requests-0.2.0.tar.gz#sha256={PyPIPages.Sha256Whl0200}\"", text, StringComparison.Ordinal);
        Assert.Contains("data-requires-python=\"&gt;=3.7\"", text, StringComparison.Ordinal);
        Assert.Contains($"data-core-metadata=\"sha256={PyPIPages.Sha256Metadata2310}\"", text, StringComparison.Ordinal);
        Assert.Contains($"data-dist-info-metadata=\"sha256={PyPIPages.Sha256Metadata2310}\"", text, StringComparison.Ordinal);
        Assert.Contains("data-core-metadata=\"true\"", text, StringComparison.Ordinal);
        Assert.Contains("data-yanked=\"Yanked due to conflicts with CVE-2024-35195 mitigation\"", text, StringComparison.Ordinal);
        Assert.Contains(">requests-2.31.0-py3-none-any.whl</a>", text, StringComparison.Ordinal);
        // Exactly one yanked file and three files with metadata markers or not, as upstream said.
        Assert.Equal(1, CountOf(text, "data-yanked="));
        Assert.Equal(2, CountOf(text, "data-core-metadata="));
        Assert.Equal(4, CountOf(text, "<a href="));
    }

    [Fact]
    public void HtmlEscapesRequiresPythonAndYankedReason()
    {
        var file = UpstreamFiles()[1] with { RequiresPython = ">=3.7, <4", Yanked = true, YankedReason = "use \"2.31.1\" & <later>" };

        var text = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", [file], Versions, SimpleFormat.LegacyHtml));

        Assert.Contains("data-requires-python=\"&gt;=3.7, &lt;4\"", text, StringComparison.Ordinal);
        Assert.Contains("data-yanked=\"use &quot;2.31.1&quot; &amp; &lt;later&gt;\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void YankedWithoutReasonIsAnEmptyAttribute()
    {
        var file = UpstreamFiles()[1] with { Yanked = true, YankedReason = null };

        var text = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", [file], Versions, SimpleFormat.LegacyHtml));

        Assert.Contains("data-yanked=\"\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void FileHrefIsRelativeAndEscaped()
    {
        Assert.Equal("../../packages/requests/requests-2.31.0.tar.gz", SimpleIndexRenderer.FileHref("requests", "requests-2.31.0.tar.gz"));
        Assert.Equal("../../packages/torch/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
            SimpleIndexRenderer.FileHref("torch", "torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl"));
        Assert.Equal("../../packages/zope-interface/zope.interface-6.1.tar.gz", SimpleIndexRenderer.FileHref("zope-interface", "zope.interface-6.1.tar.gz"));
        // From /pypi/simple/requests/ the link lands on /pypi/packages/requests/<file>.
        Assert.Equal("https://safehaven.example/pypi/packages/requests/requests-2.31.0.tar.gz",
            new Uri(MirrorPage, SimpleIndexRenderer.FileHref("requests", "requests-2.31.0.tar.gz")).AbsoluteUri);
    }

    [Theory]
    [InlineData(SimpleFormat.Json)]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void AnEmptyProjectRenders(SimpleFormat format)
    {
        var parsed = SimpleIndexParser.ParseProject(
            SimpleIndexRenderer.RenderProject("requests", [], [], format), SimpleContentNegotiation.ContentType(format), MirrorPage, "requests");

        Assert.Empty(parsed.Files);
    }

    [Theory]
    [InlineData(SimpleFormat.Json)]
    [InlineData(SimpleFormat.Html)]
    [InlineData(SimpleFormat.LegacyHtml)]
    public void RootRoundTrips(SimpleFormat format)
    {
        string[] names = ["requests", "django", "zope-interface", "a&b"];

        var body = SimpleIndexRenderer.RenderRoot(names, format);
        var parsed = SimpleIndexParser.ParseRoot(body, SimpleContentNegotiation.ContentType(format));

        Assert.Equal(names, parsed.Names);
        if (format == SimpleFormat.Json)
        {
            using var document = JsonDocument.Parse(body);
            Assert.Equal("1.1", document.RootElement.GetProperty("meta").GetProperty("api-version").GetString());
        }
        else
        {
            var text = Encoding.UTF8.GetString(body);
            Assert.StartsWith("<!DOCTYPE html>", text, StringComparison.Ordinal);
            Assert.Contains("<a href=\"requests/\">requests</a>", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AFileWithoutAHashGetsNoEmptyHash()
    {
        var file = UpstreamFiles()[1] with { Sha256 = null };

        using var document = JsonDocument.Parse(SimpleIndexRenderer.RenderProject("requests", [file], Versions, SimpleFormat.Json));
        var html = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("requests", [file], Versions, SimpleFormat.LegacyHtml));

        // PEP 691: hashes may be empty, but every value must be a hex digest string.
        var hashes = document.RootElement.GetProperty("files")[0].GetProperty("hashes");
        Assert.Equal(JsonValueKind.Object, hashes.ValueKind);
        Assert.Empty(hashes.EnumerateObject());
        Assert.DoesNotContain("#sha256=", html, StringComparison.Ordinal);
        Assert.Contains("href=\"../../packages/requests/requests-2.31.0-py3-none-any.whl\"", html, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
