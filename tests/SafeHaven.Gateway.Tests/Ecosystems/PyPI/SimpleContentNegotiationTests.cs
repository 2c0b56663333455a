using SafeHaven.Gateway.Ecosystems.PyPI;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

public sealed class SimpleContentNegotiationTests
{
    /// <summary>What pip (22.2 and later) sends for index pages.</summary>
    public const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

    /// <summary>What uv sends.</summary>
    public const string UvAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

    /// <summary>What Firefox sends for a page.</summary>
    public const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void NoAcceptHeaderMeansLegacyHtml(string? accept)
    {
        Assert.Equal(SimpleFormat.LegacyHtml, SimpleContentNegotiation.Negotiate(accept));
    }

    [Theory]
    [InlineData(PipAccept, SimpleFormat.Json)]
    [InlineData(UvAccept, SimpleFormat.Json)]
    [InlineData(BrowserAccept, SimpleFormat.LegacyHtml)]
    [InlineData("text/html", SimpleFormat.LegacyHtml)]                          // pip before 22.2
    [InlineData("*/*", SimpleFormat.LegacyHtml)]                                // curl
    [InlineData("application/vnd.pypi.simple.v1+json", SimpleFormat.Json)]
    [InlineData("application/vnd.pypi.simple.v1+html", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.latest+json", SimpleFormat.Json)]  // PEP 691 "latest" aliases
    [InlineData("application/vnd.pypi.simple.latest+html", SimpleFormat.Html)]
    public void RealClientsGetWhatTheyPrefer(string accept, SimpleFormat expected)
    {
        Assert.Equal(expected, SimpleContentNegotiation.Negotiate(accept));
    }

    [Theory]
    [InlineData("text/html; q=0.01, application/vnd.pypi.simple.v1+html; q=0.1, application/vnd.pypi.simple.v1+json", SimpleFormat.Json)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=0.5, application/vnd.pypi.simple.v1+html", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=0.5, text/html;q=0.6", SimpleFormat.LegacyHtml)]
    [InlineData("application/vnd.pypi.simple.v1+html;q=0.001, text/html;q=0.002", SimpleFormat.LegacyHtml)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=1.0, text/html;q=0.999", SimpleFormat.Json)]
    [InlineData("*/*;q=0.1, application/vnd.pypi.simple.v1+html;q=0.2", SimpleFormat.Html)]
    public void HighestQualityWinsWhateverTheOrder(string accept, SimpleFormat expected)
    {
        Assert.Equal(expected, SimpleContentNegotiation.Negotiate(accept));
    }

    [Theory]
    [InlineData("Application/Vnd.PyPI.Simple.V1+JSON", SimpleFormat.Json)]
    [InlineData("TEXT/HTML", SimpleFormat.LegacyHtml)]
    [InlineData("application/vnd.pypi.simple.v1+json;Q=0.1, text/html;q=0.2", SimpleFormat.LegacyHtml)]
    [InlineData("  application/vnd.pypi.simple.v1+json ; q=0.9 ,  text/html ; q = 0.8 ", SimpleFormat.Json)]
    [InlineData("application/vnd.pypi.simple.v1+json; charset=utf-8", SimpleFormat.Json)]
    [InlineData("text/html;level=1;q=0.4, application/vnd.pypi.simple.v1+json;q=0.3", SimpleFormat.LegacyHtml)]
    public void MediaTypesAndParametersAreCaseAndSpaceInsensitive(string accept, SimpleFormat expected)
    {
        Assert.Equal(expected, SimpleContentNegotiation.Negotiate(accept));
    }

    [Theory]
    [InlineData("application/*", SimpleFormat.Json)]
    [InlineData("text/*", SimpleFormat.LegacyHtml)]
    [InlineData("*/*;q=0.5", SimpleFormat.LegacyHtml)]
    [InlineData("text/*;q=0.5, application/*;q=0.4", SimpleFormat.LegacyHtml)]
    // An exact type beats a wildcard at the same quality.
    [InlineData("*/*, application/vnd.pypi.simple.v1+json", SimpleFormat.Json)]
    [InlineData("text/*, application/vnd.pypi.simple.v1+html", SimpleFormat.Html)]
    public void WildcardsMatch(string accept, SimpleFormat expected)
    {
        Assert.Equal(expected, SimpleContentNegotiation.Negotiate(accept));
    }

    [Fact]
    public void TiesBetweenExactTypesGoToJson()
    {
        Assert.Equal(SimpleFormat.Json, SimpleContentNegotiation.Negotiate("text/html, application/vnd.pypi.simple.v1+json"));
        Assert.Equal(SimpleFormat.Json, SimpleContentNegotiation.Negotiate("application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json"));
        Assert.Equal(SimpleFormat.Html, SimpleContentNegotiation.Negotiate("text/html;q=0.5, application/vnd.pypi.simple.v1+html;q=0.5"));
    }

    [Theory]
    [InlineData("application/vnd.pypi.simple.v1+json;q=0")]
    [InlineData("text/html;q=0")]
    [InlineData("text/html;q=0.000")]
    [InlineData("*/*;q=0")]
    [InlineData("application/vnd.pypi.simple.v1+json;q=0, application/vnd.pypi.simple.v1+html;q=0, text/html;q=0")]
    // Excluded by name although a wildcard would match.
    [InlineData("text/*, text/html;q=0")]
    [InlineData("text/html;q=0, text/*")]
    [InlineData("application/*, application/vnd.pypi.simple.v1+json;q=0, application/vnd.pypi.simple.v1+html;q=0")]
    public void QZeroExcludes(string accept)
    {
        Assert.Null(SimpleContentNegotiation.Negotiate(accept));
    }

    [Fact]
    public void AnExclusionBeatsAWildcardThatWouldMatch()
    {
        // RFC 9110 12.5.1: the most specific range that matches a type decides its quality.
        Assert.Equal(SimpleFormat.Html, SimpleContentNegotiation.Negotiate("application/*, application/vnd.pypi.simple.v1+json;q=0"));
        Assert.Equal(SimpleFormat.LegacyHtml, SimpleContentNegotiation.Negotiate("application/vnd.pypi.simple.v1+json;q=0, */*"));

        var anythingButTextHtml = SimpleContentNegotiation.Negotiate("*/*, text/html;q=0");
        Assert.NotNull(anythingButTextHtml);
        Assert.NotEqual(SimpleFormat.LegacyHtml, anythingButTextHtml);
    }

    [Fact]
    public void AMoreSpecificLowerQualityOverridesAWildcard()
    {
        // text/html at 0.1 is what counts for it, not */* at 1; so JSON (via */*, q=1) wins.
        Assert.Equal(SimpleFormat.Json, SimpleContentNegotiation.Negotiate("*/*, text/html;q=0.1, application/vnd.pypi.simple.v1+html;q=0.1"));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("image/png")]
    [InlineData("application/vnd.pypi.simple.v2+json")]  // a future major version this server does not speak
    [InlineData("application/xhtml+xml")]
    [InlineData("text/plain, application/xml;q=0.9")]
    public void UnacceptableMeans406(string accept)
    {
        Assert.Null(SimpleContentNegotiation.Negotiate(accept));
    }

    [Theory]
    [InlineData(",,,")]
    [InlineData(";;;")]
    [InlineData("text/html;q=")]
    [InlineData("text/html;q=abc")]
    [InlineData("text/html;q=NaN")]
    [InlineData("text/html;q")]
    [InlineData("/")]
    public void GarbageNeverThrows(string accept)
    {
        var result = SimpleContentNegotiation.Negotiate(accept);

        Assert.True(result is null or SimpleFormat.LegacyHtml);
    }

    [Fact]
    public void ContentTypes()
    {
        Assert.Equal("application/vnd.pypi.simple.v1+json", SimpleContentNegotiation.ContentType(SimpleFormat.Json));
        Assert.Equal("application/vnd.pypi.simple.v1+html", SimpleContentNegotiation.ContentType(SimpleFormat.Html));
        Assert.StartsWith("text/html", SimpleContentNegotiation.ContentType(SimpleFormat.LegacyHtml), StringComparison.Ordinal);
    }
}
