namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>
/// A static PEP 503 index in the least complete shape real ones have: <c>simple/index.html</c> and
/// <c>simple/&lt;project&gt;/index.html</c> only (no PEP 691 JSON), each link carrying only its <c>#sha256=</c>
/// and <c>data-requires-python</c>: no upload time (HTML has none), no size, no PEP 658 metadata. This is what
/// static index generators (dumb-pypi, pip2pi, a bucket of files behind a web server) and hand-written indexes
/// serve. The markup is written the way such generators and HTML allow it and the appliance's old parser got
/// wrong: a raw '>' inside a quoted attribute (before the href), character references in hrefs (<c>&amp;#45;</c>
/// for '-', <c>&amp;#x3D;</c> for the '=' of the hash), upper-case tags and single-quoted or unquoted values.
/// </summary>
public static class PyPIHtmlUpstream
{
    /// <summary>One file of a project page: the wheel in <c>files/</c> and how its link is written.</summary>
    public sealed record Link(string Project, string Filename, string Sha256, LinkStyle Style);

    public enum LinkStyle
    {
        /// <summary><c>&lt;a data-requires-python="&gt;=3.7" href="../../files/name&amp;#45;…#sha256&amp;#x3D;…"&gt;</c></summary>
        RawGreaterThanFirstAndEntitiesInHref,

        /// <summary><c>&lt;A HREF='…' DATA-REQUIRES-PYTHON='&gt;=3.7, &lt;4'&gt;</c></summary>
        UpperCaseSingleQuoted,

        /// <summary><c>&lt;a href=../../files/…#sha256=… data-requires-python="&amp;gt;=3.7"&gt;</c></summary>
        Unquoted,
    }

    /// <summary>Writes the indexes under <paramref name="root"/> and copies each linked file from <paramref name="filesFrom"/>.</summary>
    public static void Write(string root, string filesFrom, IReadOnlyList<Link> links)
    {
        var files = Path.Combine(root, "files");
        Directory.CreateDirectory(files);
        foreach (var link in links)
        {
            File.Copy(Path.Combine(filesFrom, link.Filename), Path.Combine(files, link.Filename), overwrite: true);
        }
        var simple = Path.Combine(root, "simple");
        Directory.CreateDirectory(simple);
        var projects = links.GroupBy(l => PyPIUpstreamBuilder.Normalize(l.Project)).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        File.WriteAllText(Path.Combine(simple, "index.html"),
            "<!DOCTYPE html>\n<html><body>\n" + string.Concat(projects.Select(p => $"<a href=\"{p.Key}/\">{p.Key}</a><br>\n")) + "</body></html>\n");
        foreach (var project in projects)
        {
            Directory.CreateDirectory(Path.Combine(simple, project.Key));
            var body = string.Concat(project.Select(l => Anchor(l) + "<br>\n"));
            File.WriteAllText(Path.Combine(simple, project.Key, "index.html"),
                $"<!DOCTYPE html>\n<html>\n<head><title>Links for {project.Key}</title></head>\n<body>\n<h1>Links for {project.Key}</h1>\n{body}</body>\n</html>\n");
        }
    }

    private static string Anchor(Link link) => link.Style switch
    {
        LinkStyle.RawGreaterThanFirstAndEntitiesInHref =>
            $"<a data-requires-python=\">=3.7\" href=\"../../files/{link.Filename.Replace("-", "&#45;", StringComparison.Ordinal)}#sha256&#x3D;{link.Sha256}\">{link.Filename}</a>",
        LinkStyle.UpperCaseSingleQuoted =>
            $"<A HREF='../../files/{link.Filename}#sha256={link.Sha256}' DATA-REQUIRES-PYTHON='>=3.7, <4'>{link.Filename}</A>",
        LinkStyle.Unquoted =>
            $"<a href=../../files/{link.Filename}#sha256={link.Sha256} data-requires-python=\"&gt;=3.7\">{link.Filename}</a>",
        _ => throw new ArgumentOutOfRangeException(nameof(link)),
    };
}
