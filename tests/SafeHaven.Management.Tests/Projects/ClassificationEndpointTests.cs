using System.Text.Json;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Projects;

/// <summary>The classification rules through the API: each classifier records a tier; agreement lets the work package proceed.</summary>
public sealed class ClassificationEndpointTests : IAsyncLifetime
{
    private ManagementHost _host = null!;
    private readonly Dictionary<string, string> _keys = [];

    public async Task InitializeAsync()
    {
        _host = await ManagementHost.StartAsync();
        var pgm = await _host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
        using (await _host.SendAsync(HttpMethod.Post, "/api/projects", pgm, """{"name":"a","title":"A"}""")) { }
        _keys["inv"] = await _host.AddUserWithKeyAsync("inv", (Role.Investigator, "a"));
        _keys["dpr"] = await _host.AddUserWithKeyAsync("dpr", (Role.DatasetProviderRepresentative, "a"));
        _keys["ref"] = await _host.AddUserWithKeyAsync("ref", (Role.Referee, "a"));
        _keys["both"] = await _host.AddUserWithKeyAsync("both", (Role.Investigator, "a"), (Role.Referee, "a"));
        using var wp = await _host.SendAsync(HttpMethod.Post, "/api/projects/a/workpackages", _keys["inv"], """{"name":"wp1","title":"Linkage study"}""");
        Assert.Equal(201, (int)wp.StatusCode);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<JsonElement> ClassifyAsync(string who, int tier, string? role = null, int expect = 200)
    {
        var body = role is null ? $$"""{"tier":{{tier}},"reason":"r"}""" : $$"""{"tier":{{tier}},"reason":"r","role":"{{role}}"}""";
        using var response = await _host.SendAsync(HttpMethod.Put, "/api/projects/a/workpackages/wp1/classifications", _keys[who], body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expect == (int)response.StatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Agreement_at_tier_2_needs_the_Referee_and_a_later_disagreement_blocks_the_work_package()
    {
        Assert.Equal("Pending", (await ClassifyAsync("inv", 2)).GetProperty("state").GetString());
        var waiting = await ClassifyAsync("dpr", 2);
        Assert.Equal("Pending", waiting.GetProperty("state").GetString());
        Assert.Equal(["Referee"], waiting.GetProperty("missing").EnumerateArray().Select(e => e.GetString()));

        var agreed = await ClassifyAsync("ref", 2);
        Assert.Equal("Agreed", agreed.GetProperty("state").GetString());
        Assert.Equal(2, agreed.GetProperty("agreedTier").GetInt32());
        Assert.True(agreed.GetProperty("canProceed").GetBoolean());

        var disagreed = await ClassifyAsync("dpr", 3);
        Assert.Equal("Disagreed", disagreed.GetProperty("state").GetString());
        Assert.False(disagreed.GetProperty("canProceed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, disagreed.GetProperty("agreedTier").ValueKind);
        Assert.Equal(3, disagreed.GetProperty("highestProposedTier").GetInt32());

        var audit = await _host.Audit.QueryAsync(new SafeHaven.Management.Audit.AuditFilter(Action: "workpackage.classified"), CancellationToken.None);
        Assert.Equal(["Pending", "Pending", "Agreed", "Disagreed"], audit.Select(a => a.Details["outcome"]));
    }

    [Fact]
    public async Task A_person_holding_two_classifier_roles_says_which_and_classifies_in_one_only()
    {
        await ClassifyAsync("both", 1, expect: 400);
        await ClassifyAsync("both", 1, role: "Investigator");
        await ClassifyAsync("both", 1, role: "Referee", expect: 409);
        await ClassifyAsync("inv", 1, role: "Referee", expect: 403);
    }

    [Fact]
    public async Task An_investigator_who_is_also_referee_cannot_fill_the_referee_classification_too()
    {
        await ClassifyAsync("both", 2, role: "Investigator");
        await ClassifyAsync("dpr", 2);
        using var response = await _host.SendAsync(HttpMethod.Put, "/api/projects/a/workpackages/wp1/classifications", _keys["both"],
            """{"tier":2,"reason":"r","role":"Referee"}""");
        Assert.Equal(409, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("one person classifies a work package in one role only", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var view = await _host.SendAsync(HttpMethod.Get, "/api/projects/a/workpackages/wp1", _keys["dpr"]);
        var wp = JsonDocument.Parse(await view.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Pending", wp.GetProperty("state").GetString());
        Assert.Equal(["Referee"], wp.GetProperty("missing").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Flowchart_answers_are_checked_against_the_tier_stored_and_returned_with_the_classification()
    {
        async Task<(int Status, JsonElement Body)> PutAsync(string body)
        {
            using var response = await _host.SendAsync(HttpMethod.Put, "/api/projects/a/workpackages/wp1/classifications", _keys["inv"], body);
            return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        // "Generates personal data; disclosure is no substantial threat" reaches tier 3, so tier 2 with them is refused.
        var mismatch = await PutAsync("""{"tier":2,"reason":"r","answers":["yes","no"]}""");
        Assert.Equal(400, mismatch.Status);
        Assert.Equal("The flowchart answers lead to tier 3, not 2.", mismatch.Body.GetProperty("errors").GetProperty("tier")[0].GetString());

        var unfinished = await PutAsync("""{"tier":3,"reason":"r","answers":["no"]}""");
        Assert.Equal(400, unfinished.Status);
        Assert.StartsWith("The answers stop before the flowchart reaches a tier", unfinished.Body.GetProperty("errors").GetProperty("answers")[0].GetString(), StringComparison.Ordinal);

        var notAnAnswer = await PutAsync("""{"tier":3,"reason":"r","answers":["yes","perhaps"]}""");
        Assert.Equal(400, notAnAnswer.Status);

        var stored = await PutAsync("""{"tier":3,"reason":"r","answers":["yes","no"]}""");
        Assert.Equal(200, stored.Status);
        var mine = stored.Body.GetProperty("classifications").EnumerateArray().Single(c => c.GetProperty("classifier").GetString() == "inv");
        Assert.Equal(["yes", "no"], mine.GetProperty("answers").EnumerateArray().Select(e => e.GetString()));

        // Without answers (as before): stored with none; the API stays compatible.
        var plain = await PutAsync("""{"tier":3,"reason":"r"}""");
        Assert.Equal(200, plain.Status);
        Assert.Equal(JsonValueKind.Null, plain.Body.GetProperty("classifications")[0].GetProperty("answers").ValueKind);
        var audit = await _host.Audit.QueryAsync(new SafeHaven.Management.Audit.AuditFilter(Action: "workpackage.classified"), CancellationToken.None);
        Assert.Contains(audit, a => a.Details.TryGetValue("answers", out var answers) && answers == "yes,no");
    }
}
