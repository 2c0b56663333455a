using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class SimpleIndexParserTests
{
    private const string Json = "application/vnd.pypi.simple.v1+json";
    private const string Html = "text/html; charset=utf-8";

    private static PyPIProject ParseJson(string json, string name = "requests", Uri? page = null) =>
        SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(json), Json, page ?? PyPIPages.RequestsPage, name);

    private static PyPIProject ParseHtml(string html, string name = "requests", Uri? page = null) =>
        SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(html), Html, page ?? PyPIPages.RequestsPage, name);

    /// <summary>A one-file JSON page with the file's JSON object given.</summary>
    private static string JsonPage(string file, string name = "requests") => $$"""
        { "meta": { "api-version": "1.1" }, "name": "{{name}}", "versions": [], "files": [ {{file}} ] }
        """;

    private static string HtmlPage(string anchors) => $"""
        <!DOCTYPE html>
        <html><head><meta name="pypi:repository-version" content="1.0"><title>Links</title></head>
        <body>
        {anchors}
        </body></html>
        """;

    [Fact]
    public void ReadsAWarehouseJsonPage()
    {
        var project = ParseJson(PyPIPages.RequestsJson);

        Assert.Equal("requests", project.Name);
        Assert.Equal(["requests-0.2.0.tar.gz", "requests-2.31.0-py3-none-any.whl", "requests-2.31.0.tar.gz", "requests-2.32.0-py3-none-any.whl"],
            project.Files.Select(f => f.Filename));

        var old = project.Files[0];
        Assert.Equal(PyPIPages.Sha256Whl0200, old.Sha256);
        Assert.Null(old.RequiresPython);
        Assert.False(old.CoreMetadata);
        Assert.Null(old.CoreMetadataSha256);
        Assert.False(old.Yanked);
        Assert.Equal(5767, old.Size);
        Assert.Equal("2011-02-14T16:28:05.036018Z", old.UploadTime);

        var wheel = project.Files[1];
        Assert.Equal("https://files.pythonhosted.org/packages/70/8e/0e2d847013cb52cd35b38c009bb167a1a26b2ce6cd6965bf26b47bc0bf44/requests-2.31.0-py3-none-any.whl", wheel.Url);
        Assert.Equal(PyPIPages.Sha256Whl2310, wheel.Sha256);
        Assert.Equal(">=3.7", wheel.RequiresPython);
        Assert.True(wheel.CoreMetadata);
        Assert.Equal(PyPIPages.Sha256Metadata2310, wheel.CoreMetadataSha256);
        Assert.Equal(62574, wheel.Size);
        Assert.Equal("2023-05-22T15:12:42.313790Z", wheel.UploadTime);

        var yanked = project.Files[3];
        Assert.True(yanked.Yanked);
        Assert.Equal("Yanked due to conflicts with CVE-2024-35195 mitigation", yanked.YankedReason);
        Assert.True(yanked.CoreMetadata);
        Assert.Null(yanked.CoreMetadataSha256);
    }

    [Theory]
    [InlineData("application/vnd.pypi.simple.v1+json")]
    [InlineData("application/vnd.pypi.simple.latest+json")]
    [InlineData("application/json")]
    [InlineData("Application/Vnd.PyPI.Simple.V1+Json; charset=utf-8")]
    public void JsonIsRecognisedByContentType(string contentType)
    {
        Assert.True(SimpleIndexParser.IsJson(contentType));
        var project = SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(PyPIPages.RequestsJson), contentType, PyPIPages.RequestsPage, "requests");
        Assert.Equal(4, project.Files.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/html")]
    [InlineData("application/vnd.pypi.simple.v1+html")]
    public void OtherContentTypesAreHtml(string? contentType)
    {
        Assert.False(SimpleIndexParser.IsJson(contentType));
    }

    [Fact]
    public void UploadTimeIsKeptVerbatim()
    {
        // PEP 700 allows any ISO 8601 form; whatever upstream wrote is passed on unchanged.
        foreach (var time in new[] { "2023-02-17T18:31:56.494954Z", "2023-02-17T18:31:56Z", "2023-02-17T18:31:56.494954+00:00" })
        {
            var file = ParseJson(JsonPage($$"""{ "filename": "requests-2.28.2.tar.gz", "url": "x/requests-2.28.2.tar.gz", "hashes": {}, "upload-time": "{{time}}" }""")).Files[0];

            Assert.Equal(time, file.UploadTime);
        }
    }

    [Fact]
    public void A_spooled_page_read_as_a_stream_parses_as_the_same_page_read_whole()
    {
        var anchors = string.Concat(Enumerable.Range(0, 2000).Select(i =>
            $"<a href=\"../../packages/requests-2.{i}.0.tar.gz#sha256={PyPIPages.Sha256Whl2310}\" data-requires-python=\"&gt;=3.7\">requests-2.{i}.0.tar.gz</a>\n"));
        var json = "{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": ["
            + string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{ "filename": "requests-2.{{i}}.0.tar.gz", "url": "../../packages/requests-2.{{i}}.0.tar.gz", "hashes": { "sha256": "{{PyPIPages.Sha256Whl2310}}" }, "yanked": "old" }"""))
            + "] }";
        foreach (var (page, type) in new[] { (HtmlPage(anchors), Html), (json, Json) })
        {
            var bytes = Encoding.UTF8.GetBytes(page);
            using var document = new UpstreamDocument(System.Net.HttpStatusCode.OK, bytes, type, null, PyPIPages.RequestsPage);

            var streamed = SimpleIndexParser.ParseProject(document, "requests");
            var whole = SimpleIndexParser.ParseProject(bytes, type, PyPIPages.RequestsPage, "requests");

            Assert.Equal(2000, streamed.Files.Count);
            Assert.Equal(whole.Files, streamed.Files);
        }
    }

    [Fact]
    public void A_spooled_page_that_is_not_UTF8_or_not_HTML_is_refused()
    {
        using var latin1 = new UpstreamDocument(System.Net.HttpStatusCode.OK, [.. "<a href=\"x.tar.gz\">"u8, 0xE9, 0x3C], Html, null, PyPIPages.RequestsPage);
        Assert.Contains("not UTF-8", Assert.Throws<UpstreamFormatException>(() => SimpleIndexParser.ParseProject(latin1, "requests")).Message, StringComparison.Ordinal);
        using var text = new UpstreamDocument(System.Net.HttpStatusCode.OK, "just some text"u8.ToArray(), Html, null, PyPIPages.RequestsPage);
        Assert.Contains("neither PEP 691 JSON nor HTML", Assert.Throws<UpstreamFormatException>(() => SimpleIndexParser.ParseProject(text, "requests")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"yanked\": false", false, null)]
    [InlineData("\"yanked\": true", true, null)]
    [InlineData("\"yanked\": \"broken wheel tags\"", true, "broken wheel tags")]
    [InlineData("\"size\": 1", false, null)] // absent: not yanked
    public void YankedIsABoolOrAReason(string member, bool yanked, string? reason)
    {
        var file = ParseJson(JsonPage($$"""{ "filename": "requests-2.28.2.tar.gz", "url": "requests-2.28.2.tar.gz", "hashes": {}, {{member}} }""")).Files[0];

        Assert.Equal(yanked, file.Yanked);
        Assert.Equal(reason, file.YankedReason);
    }

    [Theory]
    [InlineData("\"core-metadata\": { \"sha256\": \"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\" }", true, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("\"core-metadata\": true", true, null)]
    [InlineData("\"core-metadata\": false", false, null)]
    [InlineData("\"core-metadata\": {}", true, null)]
    // PEP 658 name, and the name Warehouse used before PEP 714.
    [InlineData("\"dist-info-metadata\": { \"sha256\": \"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\" }", true, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("\"dist-info-metadata\": true", true, null)]
    [InlineData("\"data-dist-info-metadata\": true", true, null)]
    // PEP 714: core-metadata wins when both are there.
    [InlineData("\"core-metadata\": false, \"data-dist-info-metadata\": true", false, null)]
    [InlineData("\"data-dist-info-metadata\": false, \"core-metadata\": true", true, null)]
    [InlineData("\"size\": 1", false, null)]
    public void CoreMetadataUnderEveryName(string member, bool available, string? sha256)
    {
        var file = ParseJson(JsonPage($$"""{ "filename": "requests-2.28.2-py3-none-any.whl", "url": "requests-2.28.2-py3-none-any.whl", "hashes": {}, {{member}} }""")).Files[0];

        Assert.Equal(available, file.CoreMetadata);
        Assert.Equal(sha256, file.CoreMetadataSha256);
    }

    [Theory]
    [InlineData("{ \"sha256\": \"58CD2187C01E70E6E26505BCA751777AA9F2EE0B7F4300988B709F44E013003F\" }", PyPIPages.Sha256Whl2310)]
    [InlineData("{ \"md5\": \"5b0a2e8b1e2c8ac6bcd57b5bbfe2d0a9\" }", null)]
    [InlineData("{ \"sha256\": \"58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f\", \"blake2b_256\": \"708e0e2d847013cb52cd35b38c009bb167a1a26b2ce6cd6965bf26b47bc0bf44\" }", PyPIPages.Sha256Whl2310)]
    [InlineData("{}", null)]
    public void HashesKeepOnlySha256Lowercased(string hashes, string? sha256)
    {
        var file = ParseJson(JsonPage($$"""{ "filename": "requests-2.31.0-py3-none-any.whl", "url": "requests-2.31.0-py3-none-any.whl", "hashes": {{hashes}} }""")).Files[0];

        Assert.Equal(sha256, file.Sha256);
    }

    [Fact]
    public void MissingOptionalFieldsAreNull()
    {
        var file = ParseJson(JsonPage("""{ "filename": "requests-2.28.2.tar.gz", "url": "requests-2.28.2.tar.gz", "hashes": {} }""")).Files[0];

        Assert.Null(file.Size);
        Assert.Null(file.UploadTime);
        Assert.Null(file.RequiresPython);
        Assert.False(file.Yanked);
        Assert.False(file.CoreMetadata);
    }

    [Theory]
    // relative to https://pypi.org/simple/requests/
    [InlineData("../../packages/ab/cd/requests-2.31.0.tar.gz", "https://pypi.org/packages/ab/cd/requests-2.31.0.tar.gz")]
    [InlineData("/packages/ab/cd/requests-2.31.0.tar.gz", "https://pypi.org/packages/ab/cd/requests-2.31.0.tar.gz")]
    [InlineData("requests-2.31.0.tar.gz", "https://pypi.org/simple/requests/requests-2.31.0.tar.gz")]
    [InlineData("//files.pythonhosted.org/packages/requests-2.31.0.tar.gz", "https://files.pythonhosted.org/packages/requests-2.31.0.tar.gz")]
    [InlineData("http://mirror.internal:8080/p/requests-2.31.0.tar.gz", "http://mirror.internal:8080/p/requests-2.31.0.tar.gz")]
    [InlineData("https://files.example/requests-2.31.0.tar.gz?token=abc", "https://files.example/requests-2.31.0.tar.gz?token=abc")]
    public void RelativeUrlsAreResolvedAgainstThePage(string url, string expected)
    {
        var json = ParseJson(JsonPage($$"""{ "filename": "requests-2.31.0.tar.gz", "url": "{{url}}", "hashes": {} }""")).Files[0];
        var html = ParseHtml(HtmlPage($"""<a href="{url}#sha256={PyPIPages.Sha256Sdist2310}">requests-2.31.0.tar.gz</a>""")).Files[0];

        Assert.Equal(expected, json.Url);
        Assert.Equal(expected, html.Url);
        Assert.Equal(PyPIPages.Sha256Sdist2310, html.Sha256);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://files.example/requests-2.31.0.tar.gz")]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:application/octet-stream;base64,AAAA")]
    public void NonHttpUrlsAreRejected(string url)
    {
        Assert.Throws<UpstreamFormatException>(() => ParseJson(JsonPage($$"""{ "filename": "requests-2.31.0.tar.gz", "url": "{{url}}", "hashes": {} }""")));
        Assert.Throws<UpstreamFormatException>(() => ParseHtml(HtmlPage($"""<a href="{url}">requests-2.31.0.tar.gz</a>""")));
    }

    [Theory]
    [InlineData("../requests-2.31.0.tar.gz")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("dir/requests-2.31.0.tar.gz")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\\\requests-2.31.0.tar.gz")]
    [InlineData("requests\\u0000.tar.gz")]
    [InlineData("requests\\n-2.31.0.tar.gz")]
    [InlineData("")]
    public void UnsafeFilenamesAreRejectedInJson(string filename)
    {
        Assert.Throws<UpstreamFormatException>(() =>
            ParseJson(JsonPage($$"""{ "filename": "{{filename}}", "url": "https://files.example/x", "hashes": {} }""")));
    }

    [Theory]
    // pip takes the file name from the link's path, percent-decoded, never from the anchor text.
    [InlineData("<a href=\"https://files.example/..%2Fx.tar.gz\">x.tar.gz</a>")]
    [InlineData("<a href=\"https://files.example/a%2Fx.tar.gz\">x.tar.gz</a>")]
    [InlineData("<a href=\"https://files.example/a%5Cx.tar.gz\">x.tar.gz</a>")]
    [InlineData("<a href=\"https://files.example/x%00.tar.gz\">x.tar.gz</a>")]
    [InlineData("<a href=\"https://files.example/x%0A.tar.gz\">x.tar.gz</a>")]
    [InlineData("<a href=\"dir\\x.tar.gz\">x.tar.gz</a>")]
    public void UnsafeFilenamesAreRejectedInHtml(string anchor)
    {
        Assert.Throws<UpstreamFormatException>(() => ParseHtml(HtmlPage(anchor)));
    }

    [Fact]
    public void TheFileNameComesFromTheLinkNotTheAnchorText()
    {
        var project = ParseHtml(HtmlPage("""
            <a href="https://files.example/requests-2.31.0.tar.gz#sha256=00">../../etc/passwd</a>
            <a href="https://files.example/requests-2.30.0.tar.gz"></a>
            <a href="https://files.example/requests%202.29.0.tar.gz">requests-2.29.0.tar.gz</a>
            """));

        Assert.Equal(["requests-2.31.0.tar.gz", "requests-2.30.0.tar.gz", "requests 2.29.0.tar.gz"], project.Files.Select(f => f.Filename));
    }

    [Theory]
    [InlineData("https://files.example/store/", "https://files.example/store/requests-2.31.0.tar.gz")]
    [InlineData("/store/", "https://pypi.org/store/requests-2.31.0.tar.gz")]   // relative: against the page, as browsers do
    [InlineData("", "https://pypi.org/simple/requests/requests-2.31.0.tar.gz")] // empty: the page itself, as pip does
    public void LinksAreResolvedAgainstTheFirstBaseHref(string baseHref, string expected)
    {
        var project = ParseHtml($"""<html><head><base target="_self"><base href="{baseHref}"><base href="https://ignored.example/"></head><body><a href="requests-2.31.0.tar.gz">x</a></body></html>""");

        Assert.Equal(expected, Assert.Single(project.Files).Url);
    }

    [Fact]
    public void DirectoryLinksAreNotFiles()
    {
        // A static server's listing links to its parent and to folders; pip ignores them, and so does the appliance.
        var project = ParseHtml(HtmlPage("""
            <a href="../">../</a>
            <a href="https://files.example/dir/">dir/</a>
            <a href="requests-2.31.0.tar.gz#sha256=00">requests-2.31.0.tar.gz</a>
            """));

        Assert.Equal("requests-2.31.0.tar.gz", Assert.Single(project.Files).Filename);
    }

    [Theory]
    [InlineData("urllib3")]
    [InlineData("requests-toolbelt")]
    public void AJsonPageForAnotherProjectIsRejected(string name)
    {
        Assert.Throws<UpstreamFormatException>(() => ParseJson(PyPIPages.RequestsJson.Replace("\"name\": \"requests\"", $"\"name\": \"{name}\"", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("Requests")]
    [InlineData("REQUESTS")]
    public void TheProjectNameIsComparedNormalised(string name)
    {
        var project = ParseJson(PyPIPages.RequestsJson.Replace("\"name\": \"requests\"", $"\"name\": \"{name}\"", StringComparison.Ordinal));

        Assert.Equal(4, project.Files.Count);
    }

    [Fact]
    public void NormalisedNamesWithSeparatorsMatch()
    {
        var project = ParseJson(JsonPage("""{ "filename": "zope.interface-6.1.tar.gz", "url": "zope.interface-6.1.tar.gz", "hashes": {} }""", name: "zope.interface"),
            name: "zope-interface", page: new Uri("https://pypi.org/simple/zope-interface/"));

        Assert.Equal("zope.interface-6.1.tar.gz", Assert.Single(project.Files).Filename);
    }

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{ \"name\": \"requests\", \"files\": [] }")]                                       // no meta
    [InlineData("{ \"meta\": { \"api-version\": 1.0 }, \"name\": \"requests\", \"files\": [] }")]   // version not a string
    [InlineData("{ \"meta\": { \"api-version\": \"2.0\" }, \"name\": \"requests\", \"files\": [] }")] // a major version we do not speak
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"files\": [] }")]                       // no name
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\" }")]              // no files
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": {} }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ 42 ] }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ { \"filename\": \"requests-1.0.tar.gz\" } ] }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ { \"url\": \"https://x/requests-1.0.tar.gz\" } ] }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ { \"filename\": 7, \"url\": \"https://x/a\" } ] }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ { \"filename\": \"requests-1.0.tar.gz\", \"url\": \"https://x/requests-1.0.tar.gz\", \"size\": 1.5 } ] }")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [ ")]
    public void GarbageJsonIsAnUpstreamFormatError(string body)
    {
        Assert.Throws<UpstreamFormatException>(() => ParseJson(body));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Service Unavailable")]
    [InlineData("{ \"meta\": { \"api-version\": \"1.1\" }, \"name\": \"requests\", \"files\": [] }")] // JSON sent as text/html
    public void GarbageHtmlIsAnUpstreamFormatError(string body)
    {
        Assert.Throws<UpstreamFormatException>(() => ParseHtml(body));
    }

    [Fact]
    public void InvalidUtf8IsAnUpstreamFormatError()
    {
        var bytes = Encoding.UTF8.GetBytes(HtmlPage("<a href=\"x.tar.gz\">requests-1.0.tar.gz</a>")).Concat(new byte[] { 0xC3, 0x28, 0xFF }).ToArray();

        Assert.Throws<UpstreamFormatException>(() => SimpleIndexParser.ParseProject(bytes, Html, PyPIPages.RequestsPage, "requests"));
    }

    [Fact]
    public void AnEmptyHtmlPageHasNoFiles()
    {
        var project = ParseHtml(HtmlPage(""));

        Assert.Empty(project.Files);
        Assert.Equal("requests", project.Name);
    }

    [Fact]
    public void ReadsAWarehouseHtmlPage()
    {
        var project = ParseHtml(PyPIPages.RequestsHtml);
        var fromJson = ParseJson(PyPIPages.RequestsJson);

        Assert.Equal("requests", project.Name);
        Assert.Equal(fromJson.Files.Select(f => f.Filename), project.Files.Select(f => f.Filename));
        for (var i = 0; i < project.Files.Count; i++)
        {
            var html = project.Files[i];
            var json = fromJson.Files[i];
            Assert.Equal(json.Url, html.Url);
            Assert.Equal(json.Sha256, html.Sha256);
            Assert.Equal(json.RequiresPython, html.RequiresPython);
            Assert.Equal(json.CoreMetadata, html.CoreMetadata);
            Assert.Equal(json.CoreMetadataSha256, html.CoreMetadataSha256);
            Assert.Equal(json.Yanked, html.Yanked);
            Assert.Equal(json.YankedReason, html.YankedReason);
            // HTML carries neither size nor upload time.
            Assert.Null(html.Size);
            Assert.Null(html.UploadTime);
        }
    }

    [Fact]
    public void HtmlAttributesAreUnescaped()
    {
        var file = ParseHtml(HtmlPage("""
            <a href="https://files.example/requests-2.28.2.tar.gz#sha256=64299f4909223da747622c030b781c0d7811e359c37124b4bd368fb8c6518baa" data-requires-python="&gt;=3.7, &lt;4, !=3.8.*" data-yanked="&quot;broken&quot; &amp; replaced by 2.28.3">requests-2.28.2.tar.gz</a>
            """)).Files[0];

        Assert.Equal(">=3.7, <4, !=3.8.*", file.RequiresPython);
        Assert.True(file.Yanked);
        Assert.Equal("\"broken\" & replaced by 2.28.3", file.YankedReason);
        Assert.Equal("64299f4909223da747622c030b781c0d7811e359c37124b4bd368fb8c6518baa", file.Sha256);
    }

    [Theory]
    [InlineData("data-yanked", true, null)]
    [InlineData("data-yanked=\"\"", true, null)]
    [InlineData("data-yanked=\"no longer supported\"", true, "no longer supported")]
    [InlineData("data-yanked='single quoted'", true, "single quoted")]
    [InlineData("data-requires-python=\"&gt;=3.7\"", false, null)]
    public void HtmlYanked(string attribute, bool yanked, string? reason)
    {
        var file = ParseHtml(HtmlPage($"""<a href="requests-2.28.2.tar.gz" {attribute}>requests-2.28.2.tar.gz</a>""")).Files[0];

        Assert.Equal(yanked, file.Yanked);
        Assert.Equal(reason, file.YankedReason);
    }

    [Theory]
    [InlineData("data-core-metadata=\"sha256=ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"", true, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("data-core-metadata=\"true\"", true, null)]
    [InlineData("data-dist-info-metadata=\"sha256=abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"", true, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("data-dist-info-metadata=\"true\"", true, null)]
    [InlineData("data-core-metadata=\"true\" data-dist-info-metadata=\"sha256=abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"", true, null)]
    [InlineData("data-requires-python=\"&gt;=3\"", false, null)]
    public void HtmlCoreMetadata(string attribute, bool available, string? sha256)
    {
        var file = ParseHtml(HtmlPage($"""<a href="requests-2.28.2-py3-none-any.whl" {attribute}>requests-2.28.2-py3-none-any.whl</a>""")).Files[0];

        Assert.Equal(available, file.CoreMetadata);
        Assert.Equal(sha256, file.CoreMetadataSha256);
    }

    [Theory]
    [InlineData("#sha256=58CD2187C01E70E6E26505BCA751777AA9F2EE0B7F4300988B709F44E013003F", PyPIPages.Sha256Whl2310)]
    [InlineData("#md5=5b0a2e8b1e2c8ac6bcd57b5bbfe2d0a9", null)]
    [InlineData("#md5=5b0a2e8b1e2c8ac6bcd57b5bbfe2d0a9&sha256=58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f", PyPIPages.Sha256Whl2310)]
    [InlineData("#sha256=58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f&amp;egg=requests", PyPIPages.Sha256Whl2310)]
    [InlineData("", null)]
    public void HtmlHashFragment(string fragment, string? sha256)
    {
        var file = ParseHtml(HtmlPage($"""<a href="https://files.example/requests-2.31.0-py3-none-any.whl{fragment}">requests-2.31.0-py3-none-any.whl</a>""")).Files[0];

        Assert.Equal(sha256, file.Sha256);
        Assert.Equal("https://files.example/requests-2.31.0-py3-none-any.whl", file.Url);
    }

    [Fact]
    public void HtmlAsWrittenByOtherIndexes()
    {
        // Upper-case tags, single and unquoted attribute values, absolute-path links with an escaped '+'
        // (PyTorch's index), an anchor without href, and one with no text.
        var html = """
            <html><body>
            <A HREF='/whl/cpu/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl#sha256=ffd2e2fb6f9e2a3c8e1f9b6e2d3c4b5a6978675645342312f0e1d2c3b4a59687' DATA-REQUIRES-PYTHON='&gt;=3.8.0'>torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl</A><br/>
            <a name="anchor-only">not a file</a>
            <a href=/whl/cpu/torch-2.0.0%2Bcpu.tar.gz#sha256=0000000000000000000000000000000000000000000000000000000000000000></a>
            </body></html>
            """;

        var project = SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(html), "text/html", new Uri("https://download.pytorch.org/whl/cpu/torch/"), "torch");

        Assert.Equal(2, project.Files.Count);
        var wheel = project.Files[0];
        Assert.Equal("torch-2.1.0+cpu-cp311-cp311-linux_x86_64.whl", wheel.Filename);
        Assert.Equal("https://download.pytorch.org/whl/cpu/torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl", wheel.Url);
        Assert.Equal(">=3.8.0", wheel.RequiresPython);
        Assert.Equal("torch-2.0.0+cpu.tar.gz", project.Files[1].Filename);
    }

    [Fact]
    public void ParsesTheRootIndexInBothForms()
    {
        const string json = """{ "meta": { "_last-serial": 23362386, "api-version": "1.1" }, "projects": [ { "_last-serial": 1, "name": "requests" }, { "_last-serial": 2, "name": "Django" }, { "name": "zope.interface" } ] }""";
        const string html = """
            <!DOCTYPE html>
            <html>
              <head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head>
              <body>
                <a href="/simple/requests/">requests</a>
                <a href="/simple/django/">Django</a>
                <a href="/simple/zope-interface/">zope.interface</a>
              </body>
            </html>
            """;

        var fromJson = SimpleIndexParser.ParseRoot(Encoding.UTF8.GetBytes(json), Json);
        var fromHtml = SimpleIndexParser.ParseRoot(Encoding.UTF8.GetBytes(html), "text/html");

        Assert.Equal(["requests", "Django", "zope.interface"], fromJson.Names);
        Assert.Equal(["requests", "Django", "zope.interface"], fromHtml.Names);
        Assert.Throws<UpstreamFormatException>(() => SimpleIndexParser.ParseRoot("{ \"projects\": [] }"u8, Json));
        Assert.Throws<UpstreamFormatException>(() => SimpleIndexParser.ParseRoot("nope"u8, "text/html"));
    }
}
