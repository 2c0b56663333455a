using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Http;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class PyPIEndpointsTests
{
    [Theory]
    [InlineData("gzip, deflate", true)] // what pip (requests/urllib3) sends
    [InlineData("gzip, deflate, br, zstd", true)]
    [InlineData("GZIP", true)]
    [InlineData("x-gzip", true)]
    [InlineData("*", true)]
    [InlineData("br;q=1.0, gzip;q=0.5", true)]
    [InlineData("", false)]
    [InlineData("identity", false)]
    [InlineData("deflate, br", false)]
    [InlineData("gzip;q=0", false)]
    [InlineData("*;q=0", false)]
    [InlineData("gzip;q=0, *", false)] // an explicit refusal of gzip beats the wildcard
    [InlineData("gzip;q=nonsense", false)]
    public void Gzip_is_sent_only_when_Accept_Encoding_allows_it(string acceptEncoding, bool expected) =>
        Assert.Equal(expected, PyPIEndpoints.AcceptsGzip(acceptEncoding));

    [Fact]
    public void The_gzip_variant_decompresses_to_the_page_and_has_its_own_ETag()
    {
        var body = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<a href=\"../../packages/x/x-1.0.tar.gz#sha256=00\">x-1.0.tar.gz</a><br/>\n", 500)));
        var page = RenderedPage.Create(body);

        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(page.Gzip), System.IO.Compression.CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);

        Assert.Equal(body, plain.ToArray());
        Assert.True(page.Gzip.Length < body.Length / 4);
        Assert.NotEqual(page.ETag, page.GzipETag);
        Assert.StartsWith("\"", page.GzipETag, StringComparison.Ordinal);
        Assert.EndsWith("-gzip\"", page.GzipETag, StringComparison.Ordinal);
    }
}
