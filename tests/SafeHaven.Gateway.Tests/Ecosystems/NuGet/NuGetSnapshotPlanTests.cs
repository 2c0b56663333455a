using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.NuGet;
using SafeHaven.Gateway.Snapshots;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

public sealed class NuGetSnapshotPlanTests
{
    private static readonly SnapshotScope Tier3 = new(3, new HashSet<string>(), FollowAll: true, Prefetch: true);

    private static Task<List<SnapshotRequest>> LinksAsync(NuGetSnapshotPlan plan, string path, string json, SnapshotScope scope) =>
        SnapshotPlanLinks.OfAsync(plan, path, json, scope);

    [Fact]
    public void Tier3RootsAreTheServiceIndexAndEachClosurePackagesDocuments()
    {
        var closures = new AllowlistClosureRegistry();
        var plan = new NuGetSnapshotPlan(closures);
        Assert.Throws<InvalidOperationException>(() => plan.Roots(Tier3).ToList());
        closures.Publish(new AllowlistClosure("nuget", DateTimeOffset.UnixEpoch, ["newtonsoft.json"], ["newtonsoft.json", "system.memory"], [], new Dictionary<string, IReadOnlySet<string>>()));
        Assert.Equal(
        [
            "v3/index.json",
            "v3/flatcontainer/newtonsoft.json/index.json", "v3/registration/newtonsoft.json/index.json",
            "v3/flatcontainer/system.memory/index.json", "v3/registration/system.memory/index.json",
        ], plan.Roots(Tier3).Select(r => r.Path));
    }

    [Fact]
    public async Task FlatContainerListsPackagesAndRegistrationListsItsLeaves()
    {
        var plan = new NuGetSnapshotPlan(new AllowlistClosureRegistry());
        var nupkgs = await LinksAsync(plan, "v3/flatcontainer/system.memory/index.json", """{"versions":["4.5.5","4.6.0-Preview.1"]}""", Tier3);
        Assert.Equal(["v3/flatcontainer/system.memory/4.5.5/system.memory.4.5.5.nupkg", "v3/flatcontainer/system.memory/4.6.0-preview.1/system.memory.4.6.0-preview.1.nupkg"],
            nupkgs.Select(l => l.Path));
        Assert.All(nupkgs, l => Assert.Equal(SnapshotEntryKind.Artifact, l.Kind));

        // The renderer's registration index, as a capture request (Host snapshot.safehaven.invalid) gets it.
        var registration = """
            {"@id":"http://snapshot.safehaven.invalid/nuget/v3/registration/system.memory/index.json","count":1,"items":[
              {"@id":"http://snapshot.safehaven.invalid/nuget/v3/registration/system.memory/index.json#page/4.5.5/4.5.5","items":[
                {"@id":"http://snapshot.safehaven.invalid/nuget/v3/registration/system.memory/4.5.5.json","catalogEntry":{}}]}]}
            """;
        var leaves = await LinksAsync(plan, "v3/registration/system.memory/index.json", registration, Tier3);
        Assert.Equal(["v3/registration/system.memory/4.5.5.json"], leaves.Select(l => l.Path));
        Assert.Equal(SnapshotEntryKind.Document, leaves[0].Kind);

        var foreign = registration.Replace("http://snapshot.safehaven.invalid/nuget/v3/registration/system.memory/4.5.5.json", "https://elsewhere.example/leaf.json");
        await Assert.ThrowsAsync<InvalidDataException>(() => LinksAsync(plan, "v3/registration/system.memory/index.json", foreign, Tier3));
    }

    [Fact]
    public async Task Tier2WithoutPrefetchCapturesNoPackages()
    {
        var plan = new NuGetSnapshotPlan(new AllowlistClosureRegistry());
        var scope = new SnapshotScope(2, new HashSet<string>(["system.memory"]), FollowAll: false, Prefetch: false);
        Assert.Equal(["v3/index.json", "v3/flatcontainer/system.memory/index.json", "v3/registration/system.memory/index.json"], plan.Roots(scope).Select(r => r.Path));
        Assert.Empty(await LinksAsync(plan, "v3/flatcontainer/system.memory/index.json", """{"versions":["4.5.5"]}""", scope));
    }
}
