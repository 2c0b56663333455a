using System.Text;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Ecosystems;

/// <summary>What a plan links from a captured document, collected for the plans' tests.</summary>
public static class SnapshotPlanLinks
{
    public static async Task<List<SnapshotRequest>> OfAsync(ISnapshotPlan plan, string path, string document, SnapshotScope scope)
    {
        var links = new List<SnapshotRequest>();
        await foreach (var link in plan.LinksAsync(new SnapshotRequest(path, "*/*", SnapshotEntryKind.Document), new MemoryStream(Encoding.UTF8.GetBytes(document)), scope, CancellationToken.None))
        {
            links.Add(link);
        }
        return links;
    }
}
