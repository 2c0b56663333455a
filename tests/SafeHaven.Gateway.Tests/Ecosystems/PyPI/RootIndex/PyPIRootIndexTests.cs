using System.IO.Compression;
using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI.RootIndex;

public sealed class PyPIRootIndexTests
{
    private static string Gunzip(ChunkedBuffer gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip.ToArray()), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    [Fact]
    public async Task ConcurrentRequestsShareOneRenderPerRepresentation()
    {
        var index = new PyPIRootIndex();
        var names = PyPIRootNames.FromNames(Enumerable.Range(0, 50_000).Select(i => $"project-{i}"));

        var pages = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() =>
            index.GetAsync(names, n => n, i % 2 == 0 ? SimpleFormat.Json : SimpleFormat.Html, CancellationToken.None))));

        Assert.Equal(2, index.RenderCount);
        Assert.Single(pages.Where((_, i) => i % 2 == 0).Distinct());
        Assert.Single(pages.Where((_, i) => i % 2 == 1).Distinct());
        var legacy = await index.GetAsync(names, n => n, SimpleFormat.LegacyHtml, CancellationToken.None);
        Assert.Same(pages[1], legacy);
        Assert.Equal(2, index.RenderCount);
    }

    [Fact]
    public async Task ANewSourceWithTheSameNamesKeepsTheRenderAndOtherNamesRenderAgain()
    {
        var index = new PyPIRootIndex();
        var calls = 0;
        PyPIRootNames Names(PyPIRootNames n)
        {
            calls++;
            return n;
        }

        var first = await index.GetAsync(PyPIRootNames.FromNames(["a", "b"]), Names, SimpleFormat.Json, CancellationToken.None);
        var sameNames = PyPIRootNames.FromNames(["a", "b"]);
        var again = await index.GetAsync(sameNames, Names, SimpleFormat.Json, CancellationToken.None);
        var againSameObject = await index.GetAsync(sameNames, Names, SimpleFormat.Json, CancellationToken.None);
        var changed = await index.GetAsync(PyPIRootNames.FromNames(["a", "b", "c"]), Names, SimpleFormat.Json, CancellationToken.None);

        Assert.Same(first, again);
        Assert.Same(first, againSameObject);
        Assert.Equal(3, calls);
        Assert.NotSame(first, changed);
        Assert.NotEqual(first.ETag, changed.ETag);
        Assert.Equal(2, index.RenderCount);
    }

    [Fact]
    public void HtmlIsPep503WithEscapedLinksAndGzipDecompressesToIt()
    {
        var names = PyPIRootNames.FromNames(["requests", "zope.interface", "a&b", "café", "x<y"]);

        var page = RenderedRootIndex.Render(names, SimpleFormat.Html, CancellationToken.None);
        var body = Encoding.UTF8.GetString(page.Body.ToArray());

        Assert.Equal("""
            <!DOCTYPE html>
            <html>
              <head>
                <meta name="pypi:repository-version" content="1.1">
                <title>Simple index</title>
              </head>
              <body>
                <a href="requests/">requests</a><br/>
                <a href="zope.interface/">zope.interface</a><br/>
                <a href="a%26b/">a&amp;b</a><br/>
                <a href="caf%C3%A9/">caf&#233;</a><br/>
                <a href="x%3Cy/">x&lt;y</a><br/>
              </body>
            </html>

            """.Replace("\r\n", "\n", StringComparison.Ordinal), body);
        Assert.Equal(body, Gunzip(page.Gzip));
        Assert.Equal(["requests", "zope.interface", "a&b", "café", "x<y"], SimpleIndexParser.ParseRoot(page.Body.ToArray(), "text/html").Names);
        Assert.Equal(5, page.Count);
    }

    [Fact]
    public void JsonIsPep691AndGzipDecompressesToIt()
    {
        var names = PyPIRootNames.FromNames(["requests", "café", "quote\"d", "x<y"]);

        var page = RenderedRootIndex.Render(names, SimpleFormat.Json, CancellationToken.None);
        var body = Encoding.UTF8.GetString(page.Body.ToArray());

        Assert.Equal("""{"meta":{"api-version":"1.1"},"projects":[{"name":"requests"},{"name":"café"},{"name":"quote\"d"},{"name":"x<y"}]}""", body);
        Assert.Equal(body, Gunzip(page.Gzip));
        Assert.Equal(page.ETag[..^1] + "-gzip\"", page.GzipETag);
        Assert.NotEqual(page.ETag, RenderedRootIndex.Render(PyPIRootNames.FromNames(["requests"]), SimpleFormat.Json, CancellationToken.None).ETag);
        Assert.Equal(page.ETag, RenderedRootIndex.Render(names, SimpleFormat.Json, CancellationToken.None).ETag);
    }

    [Theory]
    [InlineData("\"abc\"", "\"abc\"", true)]
    [InlineData("\"x\", \"abc\"", "\"abc\"", true)]
    [InlineData("W/\"abc\"", "\"abc\"", true)]
    [InlineData("*", "\"abc\"", true)]
    [InlineData("\"abc-gzip\"", "\"abc\"", false)]
    [InlineData("", "\"abc\"", false)]
    public void IfNoneMatch(string header, string etag, bool matches) => Assert.Equal(matches, RootIndexResult.Matches(header, etag));
}
