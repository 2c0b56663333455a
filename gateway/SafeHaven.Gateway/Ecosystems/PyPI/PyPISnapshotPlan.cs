using System.Runtime.CompilerServices;
using System.Text.Json;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// What a PyPI snapshot holds: the root <c>simple/</c> (PEP 691 JSON and PEP 503 HTML), the project pages in both
/// forms, and with prefetch each listed file and its PEP 658 <c>.metadata</c> where one is advertised. At Tier 3/4
/// (follow all) every project the root lists is taken, which is exactly the allowlist closure; at Tier 0-2 only the
/// named packages of <c>Sync:Packages</c>.
/// </summary>
public sealed class PyPISnapshotPlan : ISnapshotPlan
{
    private const string Root = "simple/";
    private const string Html = SimpleContentNegotiation.TextHtml;
    private const string Json = SimpleContentNegotiation.JsonV1;
    private static readonly Uri Base = new("http://snapshot.invalid/pypi/");

    public string Ecosystem => PyPIMirror.Ecosystem;

    /// <summary>Nothing to prepare: each page is revalidated with upstream as the capture reads it.</summary>
    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public IEnumerable<SnapshotRequest> Roots(SnapshotScope scope)
    {
        yield return new SnapshotRequest(Root, Json, SnapshotEntryKind.Document);
        yield return new SnapshotRequest(Root, Html, SnapshotEntryKind.Document);
        foreach (var package in scope.Packages.Order(StringComparer.Ordinal))
        {
            yield return ProjectPage(package, Json);
        }
    }

    private static SnapshotRequest ProjectPage(string name, string accept) =>
        new(Root + Uri.EscapeDataString(PackageName.NormalizePyPI(name)) + "/", accept, SnapshotEntryKind.Document);

    public async IAsyncEnumerable<SnapshotRequest> LinksAsync(
        SnapshotRequest captured, Stream document, SnapshotScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (captured.Accept != Json)
        {
            yield break;
        }
        if (captured.Path == Root)
        {
            if (!scope.FollowAll)
            {
                // Tier 0-2: the named packages are roots already; the whole upstream list is not followed.
                yield break;
            }
            using var root = await JsonDocument.ParseAsync(document, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var project in root.RootElement.GetProperty("projects").EnumerateArray())
            {
                var name = project.GetProperty("name").GetString();
                if (name is not null && PackageName.IsValidPyPI(name))
                {
                    yield return ProjectPage(name, Json);
                }
            }
            yield break;
        }
        // A project page: its HTML form too, and with prefetch its files and their metadata.
        yield return captured with { Accept = Html };
        if (!scope.Prefetch)
        {
            yield break;
        }
        using var page = await JsonDocument.ParseAsync(document, cancellationToken: cancellationToken).ConfigureAwait(false);
        var pageUrl = new Uri(Base, captured.Path);
        foreach (var file in page.RootElement.GetProperty("files").EnumerateArray())
        {
            var url = file.GetProperty("url").GetString();
            if (url is null)
            {
                continue;
            }
            var path = RelativePath(pageUrl, url)
                ?? throw new InvalidDataException($"pypi {captured.Path} links to {url}, outside the mirror.");
            yield return new SnapshotRequest(path, "*/*", SnapshotEntryKind.Artifact);
            if (file.TryGetProperty("core-metadata", out var metadata) && metadata.ValueKind is not (JsonValueKind.False or JsonValueKind.Null or JsonValueKind.Undefined))
            {
                yield return new SnapshotRequest(path + ".metadata", "*/*", SnapshotEntryKind.Artifact);
            }
        }
    }

    /// <summary>The path relative to <c>/pypi/</c> of a link on a page, fragment dropped; null when it leaves the mirror.</summary>
    private static string? RelativePath(Uri pageUrl, string href)
    {
        var hash = href.IndexOf('#', StringComparison.Ordinal);
        var target = new Uri(pageUrl, hash < 0 ? href : href[..hash]);
        if (target.Scheme != Base.Scheme || target.Authority != Base.Authority || !target.AbsolutePath.StartsWith(Base.AbsolutePath, StringComparison.Ordinal)
            || target.Query.Length > 0)
        {
            return null;
        }
        return target.AbsolutePath[Base.AbsolutePath.Length..];
    }
}
