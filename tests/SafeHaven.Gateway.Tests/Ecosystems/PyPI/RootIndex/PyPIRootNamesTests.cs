using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI.RootIndex;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI.RootIndex;

public sealed class PyPIRootNamesTests
{
    private const string Json = "application/vnd.pypi.simple.v1+json";

    [Fact]
    public void JsonInAnyPropertyOrderWithEscapesAndExtraFields()
    {
        const string json = """
            { "projects": [ { "_last-serial": 1, "name": "requests" }, { "name": "caf\u00e9\"x", "extra": { "a": [1, 2] } }, { "name": "  spaced " } ],
              "unknown": [ { "name": "not-a-project" } ],
              "meta": { "_last-serial": 5, "api-version": "1.4" } }
            """;

        var names = PyPIRootNames.Parse(Encoding.UTF8.GetBytes(json), Json);

        Assert.Equal(["requests", "café\"x", "spaced"], names.Names);
        Assert.Equal(3, names.Count);
    }

    [Theory]
    [InlineData("""{ "projects": [] }""")]
    [InlineData("""{ "meta": { "api-version": "2.0" }, "projects": [] }""")]
    [InlineData("""{ "meta": { "api-version": "1.0" } }""")]
    [InlineData("""{ "meta": { "api-version": "1.0" }, "projects": [ { "size": 1 } ] }""")]
    [InlineData("""{ "meta": { "api-version": "1.0" }, "projects": [ "requests" ] }""")]
    [InlineData("""{ "meta": { "api-version": "1.0" }, "projects": [ { "name": "requests" }""")]
    [InlineData("not json")]
    public void MalformedJsonIsAFormatError(string json) =>
        Assert.Throws<UpstreamFormatException>(() => PyPIRootNames.Parse(Encoding.UTF8.GetBytes(json), Json));

    [Fact]
    public void HtmlWithQuotedGreaterThanEntitiesAndUppercaseTags()
    {
        const string html = """
            <!DOCTYPE html><html><body>
            <a href="/simple/requests/" title="a > b">requests</a>
            <A HREF='/simple/a-b/' data-x='>>'> a&amp;b </A>
            <a href=/simple/zope-interface/>zope.interface</a >
            <abbr>not-a-link</abbr>
            <a href="/simple/empty/"></a>
            </body></html>
            """;

        var names = PyPIRootNames.Parse(Encoding.UTF8.GetBytes(html), "text/html");

        Assert.Equal(["requests", "a&b", "zope.interface"], names.Names);
    }

    [Fact]
    public void HtmlThatIsNotHtmlOrNotUtf8IsAFormatError()
    {
        Assert.Throws<UpstreamFormatException>(() => PyPIRootNames.Parse("nope"u8, "text/html"));
        Assert.Throws<UpstreamFormatException>(() => PyPIRootNames.Parse([(byte)'<', (byte)'a', (byte)'>', 0xff, (byte)'<', (byte)'/', (byte)'a', (byte)'>'], "text/html"));
        Assert.Empty(PyPIRootNames.Parse("<!DOCTYPE html><html><body></body></html>"u8, "text/html").Names);
    }

    [Fact]
    public void NamesWithControlCharactersAreDropped()
    {
        var names = PyPIRootNames.FromNames(["ok", "bad\nname", "", "tab\tname", "also-ok"]);

        Assert.Equal(["ok", "also-ok"], names.Names);
    }

    [Fact]
    public void StorageFormRoundTripsAndTheOlderJsonFormIsRead()
    {
        var names = PyPIRootNames.FromNames(["requests", "Django", "zope.interface", "café"]);

        var restored = PyPIRootNames.Deserialize(names.Serialize());
        var legacy = PyPIRootNames.Deserialize(Encoding.UTF8.GetBytes("""{"Names":["requests","Django","zope.interface","café"]}"""));

        Assert.Equal(names.Names, restored.Names);
        Assert.Equal(names.Hash, restored.Hash);
        Assert.Equal(4, restored.Count);
        Assert.Equal(names.Hash, legacy.Hash);
    }

    [Fact]
    public void HashFollowsTheNames()
    {
        Assert.Equal(PyPIRootNames.FromNames(["a", "b"]).Hash, PyPIRootNames.FromNames(["a", "b"]).Hash);
        Assert.NotEqual(PyPIRootNames.FromNames(["a", "b"]).Hash, PyPIRootNames.FromNames(["a", "c"]).Hash);
        Assert.NotEqual(PyPIRootNames.FromNames(["ab"]).Hash, PyPIRootNames.FromNames(["a", "b"]).Hash);
    }
}
