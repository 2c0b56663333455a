using System.Text.Json;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Api;

/// <summary>Malformed, unknown, oversize and hostile input: a 400 problem detail, and nothing changes.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private ManagementHost _host = null!;
    private string _sm = null!;
    private string _pgm = null!;
    private string _pm = null!;

    public async Task InitializeAsync()
    {
        _host = await ManagementHost.StartAsync();
        _sm = await _host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
        _pgm = await _host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
        using var created = await _host.SendAsync(HttpMethod.Post, "/api/projects", _pgm, """{"name":"a","title":"A"}""");
        Assert.Equal(201, (int)created.StatusCode);
        _pm = await _host.AddUserWithKeyAsync("pm", (Role.ProjectManager, "a"));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, string, string, string> Bodies() => new()
    {
        // who, method + path, body, what it is
        { "pgm", "POST /api/projects", "{\"name\":\"b\",\"title\":\"B", "truncated JSON" },
        { "pgm", "POST /api/projects", """{"name":"b","title":"B",}""", "trailing comma" },
        { "pgm", "POST /api/projects", """{"name":"b",/*c*/"title":"B"}""", "comment" },
        { "pgm", "POST /api/projects", """["b","B"]""", "array instead of object" },
        { "pgm", "POST /api/projects", "null", "null body" },
        { "pgm", "POST /api/projects", """{"name":"b"}""", "missing required member" },
        { "pgm", "POST /api/projects", """{"name":"b","title":null}""", "null where a value is required" },
        { "pgm", "POST /api/projects", """{"name":"b","title":"B","owner":"mallory"}""", "unknown member" },
        { "pgm", "POST /api/projects", """{"name":"b","title":"B","name":"c"}""", "duplicate member" },
        { "pgm", "POST /api/projects", """{"name":7,"title":"B"}""", "wrong type" },
        { "pgm", "POST /api/projects", """{"name":"b'; DROP TABLE mgmt_projects;--","title":"B"}""", "SQL injection in a name" },
        { "pgm", "POST /api/projects", """{"name":"../../etc","title":"B"}""", "path traversal in a name" },
        { "pgm", "POST /api/projects", """{"name":"<script>alert(1)</script>","title":"B"}""", "markup in a name" },
        { "pgm", "POST /api/projects", """{"name":"b\nInjected: header","title":"B"}""", "newline in a name" },
        { "pgm", "POST /api/projects", """{"name":"B","title":"B"}""", "upper case in a project name" },
        { "pgm", "POST /api/projects", "{\"name\":\"b\u0430\",\"title\":\"B\"}", "Cyrillic look-alike in a name" },
        { "pgm", "POST /api/projects", """{"name":"b","title":"a\u0000b"}""", "control character in a title" },
        { "pgm", "POST /api/projects", """{"name":"b","title":"   "}""", "blank title" },
        { "pm", "POST /api/projects/a/members", """{"user":"sm$(reboot)","role":"Researcher"}""", "shell metacharacters in a user name" },
        { "pm", "POST /api/projects/a/members", """{"user":"sm","role":"SystemManager"}""", "global role given in a project" },
        { "pm", "POST /api/projects/a/members", """{"user":"sm","role":"1"}""", "role by number" },
        { "pm", "POST /api/projects/a/members", """{"user":"nobody","role":"Researcher"}""", "user who does not exist" },
        { "sm", "PUT /api/policy", """{"tier":5,"reason":"r"}""", "tier out of range" },
        { "sm", "PUT /api/policy", """{"tier":"3","reason":"r"}""", "number as string" },
        { "sm", "PUT /api/policy", """{"tier":3}""", "no reason" },
        { "sm", "PUT /api/policy", """{"reason":"r"}""", "nothing to change" },
        { "sm", "PUT /api/policy", """{"minimumAgeDays":60,"maximumLagDays":30,"reason":"r"}""", "quarantine longer than the staleness bound" },
        { "sm", "PUT /api/policy", """{"modelThreshold":1.5,"reason":"r"}""", "threshold out of range" },
        { "sm", "PUT /api/policy", """{"reset":["tier; DROP TABLE x"],"reason":"r"}""", "unknown setting to reset" },
        { "sm", "POST /api/allowlists/pypi/entries", """{"name":"requests; rm -rf /","reason":"r"}""", "shell injection in a package name" },
        { "sm", "POST /api/allowlists/pypi/entries", """{"name":"requests>=2.0","reason":"r"}""", "version constraint instead of a name" },
        { "sm", "POST /api/allowlists/pypi/entries", """{"name":"https://evil.example/x.whl","reason":"r"}""", "URL instead of a name" },
        { "sm", "POST /api/allowlists/evil/entries", """{"name":"requests","reason":"r"}""", "unknown ecosystem" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Bad_input_is_a_400_problem_and_changes_nothing(string who, string request, string body, string what)
    {
        var before = await StateAsync();
        var (method, path) = (request.Split(' ')[0], request.Split(' ')[1]);

        using var response = await _host.SendAsync(new HttpMethod(method), path, Credential(who), body);

        var content = await response.Content.ReadAsStringAsync();
        Assert.True(400 == (int)response.StatusCode, $"{what}: expected 400, got {(int)response.StatusCode}: {content}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(content);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(before, await StateAsync());
    }

    [Theory]
    [InlineData("GET", "/api/projects/a'%20OR%20'1'='1")]
    [InlineData("GET", "/api/projects/a%3Bdrop")]
    [InlineData("GET", "/api/projects/a..b")]
    [InlineData("DELETE", "/api/projects/a/members/x%27--/Researcher")]
    [InlineData("DELETE", "/api/allowlists/pypi/entries/a%20b")]
    [InlineData("GET", "/api/audit?actor=x%27%20OR%201=1")]
    [InlineData("GET", "/api/audit?limit=100000")]
    [InlineData("GET", "/api/audit?since=yesterday")]
    [InlineData("GET", "/api/audit?sort=desc")]
    public async Task Hostile_names_in_the_URL_are_a_400_problem(string method, string path)
    {
        var before = await StateAsync();

        using var response = await _host.SendAsync(new HttpMethod(method), path, method == "GET" && path.StartsWith("/api/audit", StringComparison.Ordinal) ? _sm : path.Contains("allowlists", StringComparison.Ordinal) ? _sm : _pm);

        Assert.True(400 == (int)response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task An_oversize_body_is_a_400_problem_and_is_not_read()
    {
        var before = await StateAsync();
        var body = $$"""{"name":"b","title":"{{new string('x', 70 * 1024)}}"}""";

        using var response = await _host.SendAsync(HttpMethod.Post, "/api/projects", _pgm, body);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("too large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_refused_with_415()
    {
        using var response = await _host.SendAsync(HttpMethod.Post, "/api/projects", _pgm, "name=b&title=B", "application/x-www-form-urlencoded");

        Assert.Equal(415, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_deeply_nested_body_is_a_400_problem()
    {
        var body = """{"name":"b","title":"B","x":""" + new string('[', 5000) + new string(']', 5000) + "}";

        using var response = await _host.SendAsync(HttpMethod.Post, "/api/projects", _pgm, body);

        Assert.Equal(400, (int)response.StatusCode);
    }

    private string Credential(string who) => who switch { "sm" => _sm, "pgm" => _pgm, _ => _pm };

    /// <summary>Everything a request could have changed: the audit log, the projects, members, policy and allowlists.</summary>
    private async Task<string> StateAsync()
    {
        var audit = await _host.Audit.QueryAsync(new AuditFilter(Limit: 1000), CancellationToken.None);
        var projects = await _host.Projects.ListProjectsAsync(CancellationToken.None);
        var members = await _host.Users.ListProjectRolesAsync("a", CancellationToken.None);
        return JsonSerializer.Serialize(new
        {
            audit = audit.Select(a => a.Hash),
            projects = projects.Select(p => p.Name),
            members = members.Select(m => $"{m.User}/{m.Role}"),
            policy = _host.Policy.GetSettings(),
            entries = _host.Policy.ListAllowlistEntries(null).Select(e => e.Name),
            generation = _host.PolicyProvider.Current.Generation,
        });
    }
}
