using System.Text.Json;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Projects;

/// <summary>
/// The Referee college (paper section 10.1): a Programme Manager appoints college members; a Project Manager assigns
/// Referees from the college to the project, never themself.
/// </summary>
public sealed class RefereeCollegeTests : IAsyncLifetime
{
    private ManagementHost _host = null!;
    private readonly Dictionary<string, string> _keys = [];

    public async Task InitializeAsync()
    {
        _host = await ManagementHost.StartAsync();
        _keys["pgm"] = await _host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
        using (await _host.SendAsync(HttpMethod.Post, "/api/projects", _keys["pgm"], """{"name":"a","title":"A"}""")) { }
        // pm manages project a and is, separately, a member of the college.
        _keys["pm"] = await _host.AddUserWithKeyAsync("pm", (Role.ProjectManager, "a"), (Role.CollegeReferee, null));
        _keys["carol"] = await _host.AddUserWithKeyAsync("carol");
        _keys["dave"] = await _host.AddUserWithKeyAsync("dave");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string who, string? json = null)
    {
        using var response = await _host.SendAsync(method, path, _keys[who], json);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task A_Programme_Manager_appoints_the_college_and_a_Project_Manager_assigns_only_college_members()
    {
        // Only a Programme Manager appoints college members.
        Assert.Equal(403, (await SendAsync(HttpMethod.Post, "/api/college/referees", "pm", """{"user":"carol"}""")).Status);
        var (status, _) = await SendAsync(HttpMethod.Post, "/api/college/referees", "pgm", """{"user":"carol"}""");
        Assert.Equal(201, status);
        Assert.Single(await _host.Audit.QueryAsync(new AuditFilter(Action: "college.referee.added", Target: "carol"), CancellationToken.None));
        var (_, college) = await SendAsync(HttpMethod.Get, "/api/college/referees", "pm");
        Assert.Equal(["carol", "pm"], college.EnumerateArray().Select(e => e.GetProperty("user").GetString()).Order(StringComparer.Ordinal));

        // College membership alone shows no project.
        Assert.Equal(404, (await SendAsync(HttpMethod.Get, "/api/projects/a", "carol")).Status);

        // Someone outside the college cannot be made a Referee.
        var (outside, problem) = await SendAsync(HttpMethod.Post, "/api/projects/a/members", "pm", """{"user":"dave","role":"Referee"}""");
        Assert.Equal(409, outside);
        Assert.Contains("not a member of the Referee college", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A college member becomes the project's Referee.
        Assert.Equal(201, (await SendAsync(HttpMethod.Post, "/api/projects/a/members", "pm", """{"user":"carol","role":"Referee"}""")).Status);
        Assert.Contains(await _host.Users.GetRolesAsync("carol", CancellationToken.None), r => r.Role == Role.Referee && r.Project == "a");
    }

    [Fact]
    public async Task A_Project_Manager_never_appoints_themself_Referee_even_as_a_college_member()
    {
        var (status, problem) = await SendAsync(HttpMethod.Post, "/api/projects/a/members", "pm", """{"user":"pm","role":"Referee"}""");
        Assert.Equal(403, status);
        Assert.Contains("never appoints themself Referee", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(await _host.Users.GetRolesAsync("pm", CancellationToken.None), r => r.Role == Role.Referee);
        Assert.Empty(await _host.Audit.QueryAsync(new AuditFilter(Action: "project.member.added", Target: "pm"), CancellationToken.None));
    }

    [Fact]
    public async Task Leaving_the_college_takes_away_allowlist_approval()
    {
        Assert.Equal(204, (await SendAsync(HttpMethod.Delete, "/api/college/referees/pm", "pgm")).Status);
        Assert.Equal(404, (await SendAsync(HttpMethod.Delete, "/api/college/referees/pm", "pgm")).Status);
        Assert.Equal(403, (await SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries/anything/approve", "pm", """{"reason":"r"}""")).Status);
    }
}
