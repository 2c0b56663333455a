using System.Text.Json;
using Microsoft.Extensions.Configuration;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Projects;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Projects;

/// <summary>
/// Dataset Provider Representative counter-approval (paper section 11.6): at Tier 3 and 4 a new member or Referee is
/// pending, grants nothing, and needs a representative of the project who neither proposed it nor is its nominee.
/// Each test starts a fresh in-process appliance.
/// </summary>
public sealed class ProviderApprovalTests
{
    private sealed class World : IAsyncDisposable
    {
        private readonly Dictionary<string, string> _keys = [];

        private World(ManagementHost host) => Host = host;

        public ManagementHost Host { get; }

        /// <summary>
        /// Project <c>a</c> with Project Manager <c>pm</c>; <c>boss</c> is both Project Manager and Dataset Provider
        /// Representative of <c>a</c> when <paramref name="withRepresentatives"/>, as are <c>dora</c> (representative) and
        /// <c>dan</c> (representative); <c>rita</c>, <c>carol</c> (Referee college) and <c>inv</c> hold nothing yet.
        /// </summary>
        public static async Task<World> StartAsync(string tier, bool withRepresentatives, Dictionary<string, string>? settings = null)
        {
            var values = new Dictionary<string, string>(settings ?? []) { ["SafeHaven:Tier"] = tier };
            var world = new World(await ManagementHost.StartAsync(values));
            var host = world.Host;
            world._keys["pgm"] = await host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
            using (var created = await host.SendAsync(HttpMethod.Post, "/api/projects", world._keys["pgm"], """{"name":"a","title":"A"}"""))
            {
                Assert.Equal(201, (int)created.StatusCode);
            }
            world._keys["pm"] = await host.AddUserWithKeyAsync("pm", (Role.ProjectManager, "a"));
            world._keys["boss"] = withRepresentatives
                ? await host.AddUserWithKeyAsync("boss", (Role.ProjectManager, "a"), (Role.DatasetProviderRepresentative, "a"))
                : await host.AddUserWithKeyAsync("boss");
            world._keys["dora"] = await host.AddUserWithKeyAsync("dora", withRepresentatives ? [(Role.DatasetProviderRepresentative, "a")] : []);
            world._keys["dan"] = await host.AddUserWithKeyAsync("dan", withRepresentatives ? [(Role.DatasetProviderRepresentative, "a")] : []);
            world._keys["rita"] = await host.AddUserWithKeyAsync("rita");
            world._keys["carol"] = await host.AddUserWithKeyAsync("carol", (Role.CollegeReferee, null));
            world._keys["inv"] = await host.AddUserWithKeyAsync("inv");
            return world;
        }

        public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string who, string? json = null)
        {
            using var response = await Host.SendAsync(method, path, _keys[who], json);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }

        public Task<(int Status, JsonElement Body)> NominateAsync(string who, string user, string role) =>
            SendAsync(HttpMethod.Post, "/api/projects/a/members", who, $$"""{"user":"{{user}}","role":"{{role}}"}""");

        public Task<(int Status, JsonElement Body)> DecideAsync(string who, string user, string role, string decision) =>
            SendAsync(HttpMethod.Post, $"/api/projects/a/members/pending/{user}/{role}/{decision}", who, """{"reason":"checked against the data-sharing agreement"}""");

        public async Task<bool> HoldsAsync(string user, Role role) =>
            (await Host.Users.GetRolesAsync(user, CancellationToken.None)).Any(r => r.Project == "a" && r.Role == role);

        public async Task<IReadOnlyList<AuditEntry>> AuditAsync(string action, string target) =>
            await Host.Audit.QueryAsync(new AuditFilter(Action: action, Target: target), CancellationToken.None);

        public async ValueTask DisposeAsync() => await Host.DisposeAsync();
    }

    private static string Detail(JsonElement problem) => problem.GetProperty("detail").GetString()!;

    [Fact]
    public async Task A_pending_member_has_no_access_until_a_representative_approves_then_has_it()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: true);

        var (status, pending) = await world.NominateAsync("pm", "rita", "Researcher");
        Assert.Equal(202, status);
        Assert.Equal("rita", pending.GetProperty("user").GetString());
        Assert.True(pending.GetProperty("canProceed").GetBoolean());
        Assert.False(await world.HoldsAsync("rita", Role.Researcher));
        Assert.Single(await world.AuditAsync("project.member.proposed", "rita"));
        Assert.Empty(await world.AuditAsync("project.member.added", "rita"));

        // Pending grants nothing: the project is invisible to the nominee, as to any outsider.
        Assert.Equal(404, (await world.SendAsync(HttpMethod.Get, "/api/projects/a", "rita")).Status);
        var (_, me) = await world.SendAsync(HttpMethod.Get, "/api/me", "rita");
        Assert.False(me.GetProperty("projectRoles").TryGetProperty("a", out _));

        // Listed as pending, in the project view and on its own.
        var (_, list) = await world.SendAsync(HttpMethod.Get, "/api/projects/a/members/pending", "dora");
        Assert.Equal(["rita"], list.EnumerateArray().Select(p => p.GetProperty("user").GetString()));
        var (_, project) = await world.SendAsync(HttpMethod.Get, "/api/projects/a", "pm");
        Assert.Single(project.GetProperty("pendingMembers").EnumerateArray());

        // Nominating again neither duplicates it nor grants it.
        Assert.Equal(202, (await world.NominateAsync("pm", "rita", "Researcher")).Status);
        Assert.Single(await world.AuditAsync("project.member.proposed", "rita"));

        var (approved, assignment) = await world.DecideAsync("dora", "rita", "Researcher", "approve");
        Assert.Equal(200, approved);
        Assert.Equal("Researcher", assignment.GetProperty("role").GetString());
        Assert.True(await world.HoldsAsync("rita", Role.Researcher));
        Assert.Equal(200, (await world.SendAsync(HttpMethod.Get, "/api/projects/a", "rita")).Status);
        var audit = Assert.Single(await world.AuditAsync("project.member.approved", "rita"));
        Assert.Equal("dora", audit.Actor);
        Assert.Equal("pm", audit.Details["proposedBy"]);
        Assert.Equal("Researcher", audit.Details["role"]);
        Assert.Empty((await world.SendAsync(HttpMethod.Get, "/api/projects/a/members/pending", "dora")).Body.EnumerateArray());

        // Decided once: a second decision finds nothing pending.
        Assert.Equal(404, (await world.DecideAsync("dan", "rita", "Researcher", "approve")).Status);
    }

    [Fact]
    public async Task A_representative_never_approves_their_own_nomination()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: true);
        // boss is Project Manager and Dataset Provider Representative of a: they propose, so another must decide.
        Assert.Equal(202, (await world.NominateAsync("boss", "rita", "Researcher")).Status);

        var (status, problem) = await world.DecideAsync("boss", "rita", "Researcher", "approve");
        Assert.Equal(403, status);
        Assert.Contains("You proposed rita", Detail(problem), StringComparison.Ordinal);
        Assert.Equal(403, (await world.DecideAsync("boss", "rita", "Researcher", "reject")).Status);
        Assert.False(await world.HoldsAsync("rita", Role.Researcher));
        Assert.Empty(await world.AuditAsync("project.member.approved", "rita"));

        Assert.Equal(200, (await world.DecideAsync("dora", "rita", "Researcher", "approve")).Status);
        Assert.True(await world.HoldsAsync("rita", Role.Researcher));
    }

    [Fact]
    public async Task A_nominee_never_approves_their_own_membership_even_as_a_representative()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: true);
        // dora is already a representative of a; her nomination as Investigator needs another representative.
        Assert.Equal(202, (await world.NominateAsync("pgm", "dora", "Investigator")).Status);

        var (status, problem) = await world.DecideAsync("dora", "dora", "Investigator", "approve");
        Assert.Equal(403, status);
        Assert.Contains("You are the nominee", Detail(problem), StringComparison.Ordinal);
        Assert.False(await world.HoldsAsync("dora", Role.Investigator));
        Assert.Empty(await world.AuditAsync("project.member.approved", "dora"));

        Assert.Equal(200, (await world.DecideAsync("dan", "dora", "Investigator", "approve")).Status);
        Assert.True(await world.HoldsAsync("dora", Role.Investigator));
    }

    [Fact]
    public async Task Only_a_representative_of_the_project_decides()
    {
        await using var world = await World.StartAsync("4", withRepresentatives: true);
        Assert.Equal(202, (await world.NominateAsync("pm", "rita", "Researcher")).Status);
        foreach (var who in new[] { "pm", "pgm" })
        {
            var (status, problem) = await world.DecideAsync(who, "rita", "Researcher", "approve");
            Assert.Equal(403, status);
            Assert.Contains("Only a Dataset Provider Representative of a", Detail(problem), StringComparison.Ordinal);
        }
        // Someone who cannot see the project is told nothing about it.
        Assert.Equal(404, (await world.DecideAsync("inv", "rita", "Researcher", "approve")).Status);
        Assert.False(await world.HoldsAsync("rita", Role.Researcher));
    }

    [Fact]
    public async Task A_pending_Referee_cannot_classify_and_a_rejected_one_is_removed()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: true);
        Assert.Equal(201, (await world.SendAsync(HttpMethod.Post, "/api/projects/a/workpackages", "pm", """{"name":"wp1","title":"First"}""")).Status);
        Assert.Equal(202, (await world.NominateAsync("pm", "carol", "Referee")).Status);

        Assert.Equal(404, (await world.SendAsync(HttpMethod.Put, "/api/projects/a/workpackages/wp1/classifications", "carol",
            """{"tier":3,"reason":"personal records"}""")).Status);
        Assert.Empty(await world.Host.Projects.GetClassificationsAsync("a", "wp1", CancellationToken.None));

        Assert.Equal(204, (await world.DecideAsync("dan", "carol", "Referee", "reject")).Status);
        Assert.False(await world.HoldsAsync("carol", Role.Referee));
        Assert.Empty((await world.SendAsync(HttpMethod.Get, "/api/projects/a/members/pending", "pm")).Body.EnumerateArray());
        var rejected = Assert.Single(await world.AuditAsync("project.member.rejected", "carol"));
        Assert.Equal("dan", rejected.Actor);
        Assert.Equal("checked against the data-sharing agreement", rejected.Details["reason"]);
        Assert.Equal(404, (await world.DecideAsync("dora", "carol", "Referee", "approve")).Status);
    }

    [Fact]
    public async Task Without_a_representative_a_nomination_waits_and_says_why_until_the_first_one_is_appointed()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: false);
        var (status, pending) = await world.NominateAsync("pm", "rita", "Researcher");
        Assert.Equal(202, status);
        Assert.False(pending.GetProperty("canProceed").GetBoolean());
        Assert.Contains("has no Dataset Provider Representative yet", pending.GetProperty("explanation").GetString(), StringComparison.Ordinal);
        var (_, listed) = await world.SendAsync(HttpMethod.Get, "/api/projects/a/members/pending", "pm");
        Assert.Contains("cannot proceed", listed[0].GetProperty("explanation").GetString(), StringComparison.Ordinal);

        // The first representative is appointed by the Project Manager at once, as without the rule.
        Assert.Equal(201, (await world.NominateAsync("pm", "dora", "DatasetProviderRepresentative")).Status);
        Assert.True(await world.HoldsAsync("dora", Role.DatasetProviderRepresentative));
        // A second one is a new member like any other: it waits for the first.
        Assert.Equal(202, (await world.NominateAsync("pm", "dan", "DatasetProviderRepresentative")).Status);
        Assert.False(await world.HoldsAsync("dan", Role.DatasetProviderRepresentative));

        var (_, now) = await world.SendAsync(HttpMethod.Get, "/api/projects/a/members/pending", "pm");
        Assert.All(now.EnumerateArray(), p => Assert.True(p.GetProperty("canProceed").GetBoolean()));
        Assert.Equal(200, (await world.DecideAsync("dora", "rita", "Researcher", "approve")).Status);
        Assert.Equal(200, (await world.DecideAsync("dora", "dan", "DatasetProviderRepresentative", "approve")).Status);
        Assert.True(await world.HoldsAsync("dan", Role.DatasetProviderRepresentative));
    }

    [Fact]
    public async Task The_proposer_can_withdraw_a_pending_nomination()
    {
        await using var world = await World.StartAsync("3", withRepresentatives: true);
        Assert.Equal(202, (await world.NominateAsync("pm", "rita", "Researcher")).Status);
        Assert.Equal(204, (await world.SendAsync(HttpMethod.Delete, "/api/projects/a/members/rita/Researcher", "pm")).Status);
        Assert.Single(await world.AuditAsync("project.member.withdrawn", "rita"));
        Assert.Equal(404, (await world.DecideAsync("dora", "rita", "Researcher", "approve")).Status);
        Assert.False(await world.HoldsAsync("rita", Role.Researcher));
    }

    [Fact]
    public async Task A_Tier_2_project_is_unaffected_until_a_work_package_is_proposed_at_Tier_3()
    {
        await using var world = await World.StartAsync("2", withRepresentatives: true);
        Assert.Equal(201, (await world.NominateAsync("pm", "rita", "Researcher")).Status);
        Assert.True(await world.HoldsAsync("rita", Role.Researcher));
        Assert.Equal(200, (await world.SendAsync(HttpMethod.Get, "/api/projects/a", "rita")).Status);
        Assert.Empty(await world.AuditAsync("project.member.proposed", "rita"));
        Assert.Equal(201, (await world.NominateAsync("pm", "carol", "Referee")).Status);

        // The project's tier is the highest of the appliance's and its work packages' proposed tiers.
        Assert.Equal(201, (await world.SendAsync(HttpMethod.Post, "/api/projects/a/workpackages", "pm", """{"name":"wp1","title":"First"}""")).Status);
        Assert.Equal(200, (await world.SendAsync(HttpMethod.Put, "/api/projects/a/workpackages/wp1/classifications", "dora",
            """{"tier":3,"reason":"personal records"}""")).Status);
        Assert.Equal(202, (await world.NominateAsync("pm", "inv", "Researcher")).Status);
        Assert.False(await world.HoldsAsync("inv", Role.Researcher));
    }

    [Fact]
    public async Task Configuration_chooses_the_tiers_and_an_unreadable_list_keeps_the_default()
    {
        await using (var off = await World.StartAsync("3", withRepresentatives: true, new() { ["SafeHaven:Projects:RequireProviderApproval"] = "none" }))
        {
            Assert.Equal(201, (await off.NominateAsync("pm", "rita", "Researcher")).Status);
        }
        await using (var tier2 = await World.StartAsync("2", withRepresentatives: true, new() { ["SafeHaven:Projects:RequireProviderApproval:0"] = "2" }))
        {
            Assert.Equal(202, (await tier2.NominateAsync("pm", "rita", "Researcher")).Status);
        }

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["SafeHaven:Projects:RequireProviderApproval"] = "3,five" }).Build();
        Assert.Contains(ManagementServiceCollectionExtensions.Validate(bad), p => p.Contains("'five' is not a tier", StringComparison.Ordinal));
        Assert.Equal([3, 4], ProjectOptions.From(bad).RequireProviderApproval.Order());
        Assert.Equal([3, 4], ProjectOptions.From(new ConfigurationBuilder().Build()).RequireProviderApproval.Order());
    }
}
