using System.Text;
using SafeHaven.Gateway.Ecosystems.PyPI;
using SafeHaven.Gateway.Ecosystems.PyPI.Html;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI.Html;

public sealed class PipHtmlParserTests
{
    private const string Sha = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f";

    /// <summary>Pages that other index servers and hand-written static indexes really emit, and the corners of HTML pip's parser has.</summary>
    public static readonly string[] Corpus =
    [
        // A raw '>' (and '<') inside quoted attributes: valid HTML.
        $"""<a href="shpkg-1.0.tar.gz#sha256={Sha}" data-requires-python=">=3.8">shpkg-1.0.tar.gz</a>""",
        $"""<a data-requires-python='>=3.7,<4' href='shpkg-1.0-py3-none-any.whl#sha256={Sha}' data-yanked='bad > worse'>x</a>""",
        // Unquoted values, valueless attributes, upper case, spaces around '=', repeated '='.
        $"""<A HREF=shpkg-1.0.tar.gz#sha256={Sha} DATA-YANKED>shpkg</A>""",
        """<a  href = "a.whl"  data-requires-python = '&gt;=3.9' >a</a>""",
        """<a href=="b.whl">b</a>""",
        """<a href="c.whl"data-yanked="no space between attributes">c</a>""",
        // Entities: named, numeric, hex, legacy without ';', unknown names, invalid code points.
        """<a href="d.whl?x=1&amp;y=2&#x3D;&#61;&lt;&copy=3&amp&notin;&notit;&bogus;&#0;&#x110000;&#128;&#xD800;">d</a>""",
        """<a href="e&#x2D;1.0.tar.gz" data-requires-python="&GreaterEqual;3 &#x26;&#X26; &NotNestedGreaterGreater;">e</a>""",
        // Duplicate attributes: pip keeps dict(attrs), so the last wins.
        """<a href="first.whl" href="second.whl">dup</a>""",
        // <base href>: the first one with an href counts.
        """<base target="x"><base href="https://files.example/base/"><base href="https://ignored.example/"><a href="f.whl">f</a>""",
        // Comments, doctype, processing instructions, CDATA and conditional sections, script and style hide markup.
        """<!DOCTYPE html><!-- <a href="hidden1.whl"> --><?php echo '<a href="hidden2.whl">'; ?><![CDATA[ <a href="hidden3.whl"> ]]><a href="g.whl">g</a>""",
        """<script>var s = '<a href="hidden4.whl">';</script><style>a[href="<a href=hidden5.whl>"]{}</style><a href="h.whl">h</a>""",
        """<SCRIPT>document.write("</scr" + "ipt><a href='hidden6.whl'>")</SCRIPT ><a href="i.whl">i</a>""",
        """<![if !IE]><a href="j.whl">j</a><![endif]>""",
        // Self-closing, slashes, newlines and tabs inside tags, bogus end tags.
        "<a href=\"k.whl\" />\n<a\nhref\n=\n'l.whl'\tdata-yanked\n>l</a></ a></><a/href=\"m.whl\">m</a>",
        // Not tags: '<' followed by a non-letter, '< a', and a tag cut off by the end of the page.
        """1 < 2 <3 < a href="n.whl"> <a href="o.whl">o</a> <a href="p.whl" """,
        // An unterminated comment: pip never calls close(), so nothing after it is read.
        """<a href="q.whl">q</a><!-- unterminated <a href="r.whl">r</a>""",
        // Unicode in names and values, and the spaces Python counts that .NET's \s does not.
        "<a href=\"caf\u00e9-1.0.tar.gz\" data-x\u001c=\"y\">caf\u00e9</a><a\u001chref=\"s.whl\">s</a><a href=\"t.whl\"\u00a0data-q=\"1\">t</a>",
        // Quotes inside unquoted values and attributes starting with odd characters.
        """<a href=u"v.whl x=y'z>u</a><a "href"="w.whl" =x>w</a>""",
        // Marked sections Python's parser cannot read at all.
        """<a href="x.whl">x</a><![bogus[ ]]><a href="y.whl">y</a>""",
    ];

    private static readonly Random Seeded = new(20261201);

    /// <summary>Random markup from the characters that decide how a tag is read, for a differential check.</summary>
    private static IEnumerable<string> Fuzz(int count)
    {
        string[] pieces = ["<", ">", "a", "A", " ", "\n", "\t", "\u001c", "\u00a0", "=", "\"", "'", "/", "href", "data-yanked", "&amp;", "&#62;", "&gt", "&",
            "<!--", "-->", "<!", "<?", "</", "script", "<![CDATA[", "]]>", "x.whl", "#sha256=ab", "-", "b", "<a href=\"z.whl\">", "<base href=\"/b/\">"];
        for (var i = 0; i < count; i++)
        {
            var text = new StringBuilder();
            var length = Seeded.Next(1, 40);
            for (var j = 0; j < length; j++)
            {
                text.Append(pieces[Seeded.Next(pieces.Length)]);
            }
            yield return text.ToString();
        }
    }

    [Fact]
    public void StartTagsAreThoseOfPythonsHtmlParserOnTheCorpusAndOnRandomMarkup()
    {
        var documents = Corpus.Concat(Fuzz(1500)).ToList();
        var expected = PythonReference.StartTags(documents);

        var exceptions = 0;
        for (var i = 0; i < documents.Count; i++)
        {
            if (expected[i] is not { } tags)
            {
                // Python raises: pip could not read this page; the appliance refuses it and keeps the last good copy.
                Assert.Throws<UpstreamFormatException>(() => PipHtmlParser.StartTags(documents[i]));
                exceptions++;
                continue;
            }
            var actual = PipHtmlParser.StartTags(documents[i]);
            var because = $"document {i}: {documents[i]}";
            Assert.True(tags.Count == actual.Count, $"{because}\nPython: {Describe(tags)}\nport:   {Describe(actual.Select(t => (t.Name, t.Attributes.ToList())))}");
            for (var t = 0; t < tags.Count; t++)
            {
                Assert.True(tags[t].Tag == actual[t].Name, because);
                Assert.True(tags[t].Attributes.SequenceEqual(actual[t].Attributes), $"{because}\nPython: {Describe(tags)}\nport:   {Describe(actual.Select(t => (t.Name, t.Attributes.ToList())))}");
            }
        }
        Assert.InRange(exceptions, 1, documents.Count / 4); // the corpus has one; random markup has a few
    }

    [Fact]
    public void ReadInPiecesAPageGivesTheSameStartTagsAsReadWhole()
    {
        // Pieces as small as one character cut every construct somewhere: each must wait for the rest, as Python's
        // parser does between feed() calls, and end with the tags of the whole page (or the same refusal).
        foreach (var document in Corpus.Concat(Fuzz(1500)))
        {
            IReadOnlyList<HtmlStartTag>? whole;
            try
            {
                whole = PipHtmlParser.StartTags(document);
            }
            catch (UpstreamFormatException)
            {
                whole = null;
            }
            foreach (var piece in (int[])[1, 3, 17, 4096])
            {
                var because = $"pieces of {piece}: {document}";
                if (whole is null)
                {
                    Assert.Throws<UpstreamFormatException>(() => PipHtmlParser.StartTags(new StringReader(document), piece));
                    continue;
                }
                var pieces = PipHtmlParser.StartTags(new StringReader(document), piece);
                Assert.True(whole.Count == pieces.Count, because);
                for (var t = 0; t < whole.Count; t++)
                {
                    Assert.True(whole[t].Name == pieces[t].Name && whole[t].Attributes.SequenceEqual(pieces[t].Attributes), because);
                }
            }
        }
    }

    private static string Describe(IEnumerable<(string Tag, List<KeyValuePair<string, string?>> Attributes)> tags) =>
        string.Join(" ", tags.Select(t => $"<{t.Tag} {string.Join(" ", t.Attributes.Select(a => a.Value is null ? a.Key : $"{a.Key}=[{a.Value}]"))}>"));

    [Fact]
    public void QuotedAttributesMayHoldAngleBrackets()
    {
        var links = PipHtmlParser.ParseLinks(Corpus[1]);

        var anchor = Assert.Single(links.Anchors);
        Assert.Equal(">=3.7,<4", anchor["data-requires-python"]);
        Assert.Equal("bad > worse", anchor["data-yanked"]);
        Assert.Equal($"shpkg-1.0-py3-none-any.whl#sha256={Sha}", anchor["href"]);
    }

    [Fact]
    public void ValuelessAttributesAreNullAndNamesAreLowerCased()
    {
        var anchor = Assert.Single(PipHtmlParser.ParseLinks(Corpus[2]).Anchors);

        Assert.Equal($"shpkg-1.0.tar.gz#sha256={Sha}", anchor["href"]);
        Assert.True(anchor.ContainsKey("data-yanked"));
        Assert.Null(anchor["data-yanked"]);
    }

    [Theory]
    [InlineData("&amp;&lt;&gt;&quot;&#39;", "&<>\"'")]
    [InlineData("&#x3D;&#61;&#X3d;", "===")]
    [InlineData("a&copy=1", "a\u00a9=1")]          // a legacy name without ';', as browsers and Python read it
    [InlineData("&notit;", "\u00acit;")]            // the longest known prefix
    [InlineData("&bogus;", "&bogus;")]
    [InlineData("&#128;&#0;&#x110000;&#xD800;&#1;", "\u20ac\ufffd\ufffd\ufffd")]
    [InlineData("no references", "no references")]
    public void UnescapeIsPythons(string text, string expected) => Assert.Equal(expected, HtmlUnescape.Unescape(text));

    [Fact]
    public void ProjectPagesReadAsDebiansPipReadsThem()
    {
        // The same pages, read by pip 23.0.1's own parse_links and by the appliance. (Fragments with several
        // pairs are left out here: pip 23.0.1 takes everything after the first "<hash>=" as the value, pip 23.2
        // the first hash of any kind; the appliance takes the first sha256 pair, see SimpleIndexParserTests.)
        (string Html, string Url)[] pages =
        [
            ($"""
              <!DOCTYPE html><html><body>
              <a href="../../files/shpkg-1.0.tar.gz#sha256={Sha}" data-requires-python=">=3.8">wrong text</a><br/>
              <A HREF='/files/shpkg-1.1-py3-none-any.whl#sha256={Sha.ToUpperInvariant()}' DATA-REQUIRES-PYTHON='&gt;=3.9,<4' data-dist-info-metadata="sha256={Sha}">x</A>
              <a href=shpkg-1.2.tar.gz?a=1&amp;b=2#sha256={Sha} data-yanked="broken > fixed in 1.3">y</a>
              <a href="https://other.example/p/shpkg-1.3%2Blocal.tar.gz#sha256={Sha}">z</a>
              <!-- <a href="hidden-9.9.tar.gz"> -->
              </body></html>
              """, "https://index.example/simple/shpkg/"),
            ($"""
              <html><head><base href="https://files.example/store/"></head><body>
              <a href="shpkg-2.0.tar.gz#sha256={Sha}" data-core-metadata="true" data-dist-info-metadata="true">a</a>
              <a href="sub/shpkg-2.1.tar.gz#sha256={Sha}">b</a>
              <a href="/abs/shpkg-2.2.tar.gz#sha256={Sha}">c</a>
              </body></html>
              """, "https://mirror.example/simple/shpkg/"),
        ];
        var expected = PythonReference.PipLinks(pages);

        for (var p = 0; p < pages.Length; p++)
        {
            var project = SimpleIndexParser.ParseProject(Encoding.UTF8.GetBytes(pages[p].Html), "text/html", new Uri(pages[p].Url), "shpkg");
            Assert.True(expected[p].Count == project.Files.Count, $"pip: {string.Join(", ", expected[p].Select(l => l.Filename))}; appliance: {string.Join(", ", project.Files.Select(f => f.Filename))}");
            for (var i = 0; i < project.Files.Count; i++)
            {
                var pip = expected[p][i];
                var file = project.Files[i];
                Assert.Equal(pip.Filename, file.Filename);
                Assert.Equal(Uri.UnescapeDataString(pip.Url), Uri.UnescapeDataString(file.Url));
                Assert.Equal(pip.Sha256?.ToLowerInvariant(), file.Sha256);
                Assert.Equal(pip.RequiresPython, file.RequiresPython);
                Assert.Equal(pip.YankedReason is not null, file.Yanked);
                Assert.Equal(string.IsNullOrEmpty(pip.YankedReason) ? null : pip.YankedReason, file.YankedReason);
                Assert.Equal(pip.DistInfoMetadata is not null, file.CoreMetadata);
            }
        }
        // What the pages say, not only that both agree.
        Assert.Equal(["shpkg-1.0.tar.gz", "shpkg-1.1-py3-none-any.whl", "shpkg-1.2.tar.gz", "shpkg-1.3+local.tar.gz"], expected[0].Select(l => l.Filename));
        Assert.Equal(["https://files.example/store/shpkg-2.0.tar.gz", "https://files.example/store/sub/shpkg-2.1.tar.gz", "https://files.example/abs/shpkg-2.2.tar.gz"],
            expected[1].Select(l => l.Url));
    }

    [Fact]
    public void AHugeConvolutedTagDoesNotHangTheParser()
    {
        var html = "<a " + string.Concat(Enumerable.Repeat("x=a\"b ", 20_000)) + "<a href=\"z.whl\">";

        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            PipHtmlParser.StartTags(html);
        }
        catch (UpstreamFormatException)
        {
            // refused as too convoluted: fine, the last good copy is served
        }
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30));
    }
}

/// <summary>The appliance's own pages, read by Debian's pip 23.0.1 (the pip PEP 714 exists for).</summary>
public sealed class RenderedPagesReadByDebiansPipTests
{
    private static readonly PyPIFile[] Files =
    [
        new()
        {
            Filename = "shpkg-1.0-py3-none-any.whl", Url = "https://files.example/shpkg-1.0-py3-none-any.whl",
            Sha256 = new string('a', 64), CoreMetadata = true, CoreMetadataSha256 = new string('b', 64), RequiresPython = ">=3.8", Size = 10,
            UploadTime = "2024-01-01T00:00:00Z",
        },
        new() { Filename = "shpkg-1.0.tar.gz", Url = "https://files.example/shpkg-1.0.tar.gz", Sha256 = new string('c', 64), CoreMetadata = true },
        new() { Filename = "shpkg-0.9.tar.gz", Url = "https://files.example/shpkg-0.9.tar.gz", Sha256 = new string('d', 64), Yanked = true, YankedReason = "broken > 1.0" },
    ];

    [Fact]
    public void JsonPagesDoNotCrashIt()
    {
        var json = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("shpkg", Files, ["0.9", "1.0"], SimpleFormat.Json));

        // Debian's pip reads "dist-info-metadata" from JSON and crashes ("unhashable type: 'dict'") on the object form.
        Assert.DoesNotContain("dist-info-metadata", json, StringComparison.Ordinal);
        var links = PythonReference.PipLinks([(json, "http://127.0.0.1:8080/pypi/simple/shpkg/")], SimpleContentNegotiation.JsonV1).Single();

        Assert.Equal(["shpkg-1.0-py3-none-any.whl", "shpkg-1.0.tar.gz", "shpkg-0.9.tar.gz"], links.Select(l => l.Filename));
        Assert.Equal([new string('a', 64), new string('c', 64), new string('d', 64)], links.Select(l => l.Sha256));
        Assert.Equal("http://127.0.0.1:8080/pypi/packages/shpkg/shpkg-1.0-py3-none-any.whl", links[0].Url);
        Assert.Equal(">=3.8", links[0].RequiresPython);
        Assert.Equal("broken > 1.0", links[2].YankedReason);
        Assert.All(links, l => Assert.Null(l.DistInfoMetadata)); // it downloads the file instead of the PEP 658 metadata
    }

    [Fact]
    public void HtmlPagesGiveItTheMetadataFiles()
    {
        var html = Encoding.UTF8.GetString(SimpleIndexRenderer.RenderProject("shpkg", Files, ["0.9", "1.0"], SimpleFormat.Html));

        var links = PythonReference.PipLinks([(html, "http://127.0.0.1:8080/pypi/simple/shpkg/")], SimpleContentNegotiation.HtmlV1).Single();

        Assert.Equal(["shpkg-1.0-py3-none-any.whl", "shpkg-1.0.tar.gz", "shpkg-0.9.tar.gz"], links.Select(l => l.Filename));
        Assert.Equal("sha256=" + new string('b', 64), links[0].DistInfoMetadata);
        Assert.Equal("true", links[1].DistInfoMetadata);
        Assert.Null(links[2].DistInfoMetadata);
        Assert.Equal(">=3.8", links[0].RequiresPython);
        Assert.Equal("broken > 1.0", links[2].YankedReason);
    }
}
