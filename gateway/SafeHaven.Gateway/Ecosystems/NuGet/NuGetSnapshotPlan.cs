using System.Runtime.CompilerServices;
using System.Text.Json;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Ecosystems.NuGet;

/// <summary>
/// What a NuGet snapshot holds: the service index <c>v3/index.json</c> (absolute URLs, rebased when served), and for
/// each package in scope its flat-container version list <c>v3/flatcontainer/&lt;id&gt;/index.json</c>, its
/// registration index <c>v3/registration/&lt;id&gt;/index.json</c> and the leaves it links, and (prefetching) every
/// listed version's <c>.nupkg</c>. The packages in scope are, at Tier 3/4, the allowlist closure (NuGet has no root
/// document listing every package), else the named sets of <c>Sync:Packages</c>. Search (<c>v3/query</c>) takes a query
/// string and is not captured; a snapshot-only mirror answers it 404, and clients restore by id without it.
/// </summary>
public sealed class NuGetSnapshotPlan(AllowlistClosureRegistry closures) : ISnapshotPlan
{
    public const string ServiceIndexPath = "v3/index.json";
    private const string FlatContainer = "v3/flatcontainer/";
    private const string Registration = "v3/registration/";

    /// <summary>The rebase origin's NuGet base, as <see cref="NuGetEndpoints.BaseUrl"/> renders it for a capture request.</summary>
    private static readonly string CaptureBase = SnapshotManifest.RebaseOrigin + "/nuget/";

    public string Ecosystem => NuGetMirror.Ecosystem;

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public IEnumerable<SnapshotRequest> Roots(SnapshotScope scope)
    {
        yield return SnapshotPlanRules.Document(ServiceIndexPath);
        IEnumerable<string> ids;
        if (scope.FollowAll)
        {
            ids = (closures.Get(Ecosystem) ?? throw new InvalidOperationException("the nuget allowlist closure is still being computed")).Packages;
        }
        else
        {
            ids = scope.Packages;
        }
        foreach (var id in ids.Select(i => i.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var escaped = Uri.EscapeDataString(id);
            yield return SnapshotPlanRules.Document($"{FlatContainer}{escaped}/index.json");
            yield return SnapshotPlanRules.Document($"{Registration}{escaped}/index.json");
        }
    }

    public async IAsyncEnumerable<SnapshotRequest> LinksAsync(
        SnapshotRequest captured, Stream document, SnapshotScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!captured.Path.EndsWith("/index.json", StringComparison.Ordinal) || captured.Path == ServiceIndexPath)
        {
            yield break;
        }
        using var json = await JsonDocument.ParseAsync(document, default, cancellationToken).ConfigureAwait(false);
        if (captured.Path.StartsWith(FlatContainer, StringComparison.Ordinal))
        {
            var escaped = captured.Path[FlatContainer.Length..^"/index.json".Length];
            if (!scope.WantsArtifactsOf(Uri.UnescapeDataString(escaped)))
            {
                yield break;
            }
            foreach (var version in StringArray(json.RootElement, "versions", captured.Path))
            {
                var v = Uri.EscapeDataString(version.ToLowerInvariant());
                yield return SnapshotPlanRules.Artifact($"{FlatContainer}{escaped}/{v}/{escaped}.{v}.nupkg");
            }
        }
        else if (captured.Path.StartsWith(Registration, StringComparison.Ordinal))
        {
            // Inline pages: items[].items[] are the leaves, each with the @id of its own document.
            foreach (var page in Array(json.RootElement, "items", captured.Path))
            {
                if (!page.TryGetProperty("items", out _))
                {
                    throw new InvalidDataException($"{captured.Path} has a page without inline items; the renderer always inlines them");
                }
                foreach (var leaf in Array(page, "items", captured.Path))
                {
                    var id = leaf.TryGetProperty("@id", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
                    if (id is null || !id.StartsWith(CaptureBase, StringComparison.Ordinal))
                    {
                        throw new InvalidDataException($"{captured.Path} links a leaf outside {CaptureBase}: '{id}'");
                    }
                    yield return SnapshotPlanRules.Document(id[CaptureBase.Length..]);
                }
            }
        }
    }

    private static IEnumerable<JsonElement> Array(JsonElement parent, string name, string path) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : throw new InvalidDataException($"{path} has no '{name}' array");

    private static IEnumerable<string> StringArray(JsonElement parent, string name, string path) =>
        Array(parent, name, path).Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new InvalidDataException($"{path} has a non-string in '{name}'"));
}
