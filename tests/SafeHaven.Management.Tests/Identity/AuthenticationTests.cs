using System.Text.Json;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Identity;

/// <summary>How tokens and keys become a caller with roles.</summary>
public sealed class AuthenticationTests
{
    private static async Task<JsonElement> MeAsync(ManagementHost host, string credential)
    {
        using var response = await host.SendAsync(HttpMethod.Get, "/api/me", credential);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Identity_provider_groups_are_mapped_to_roles_and_merged_with_roles_held_in_the_store()
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-auth-").FullName;
        using var idp = new TestIdentityProvider(directory);
        var settings = new Dictionary<string, string>(idp.Settings)
        {
            ["SafeHaven:Auth:Jwt:RoleMap:cn=safehaven-admins"] = "SystemManager",
            ["SafeHaven:Auth:Jwt:RoleMap:cn=genomics-pm"] = "genomics/ProjectManager",
        };
        await using var host = await ManagementHost.StartAsync(settings);
        var pgm = await host.AddUserWithKeyAsync("pgm", (Role.ProgrammeManager, null));
        using (await host.SendAsync(HttpMethod.Post, "/api/projects", pgm, """{"name":"genomics","title":"Genomics"}""")) { }

        var token = idp.Token("dana", ["cn=safehaven-admins", "cn=genomics-pm", "cn=unrelated", "nonsense/Role"]);
        var me = await MeAsync(host, token);
        Assert.Equal("dana", me.GetProperty("name").GetString());
        Assert.Equal(["SystemManager"], me.GetProperty("globalRoles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["ProjectManager"], me.GetProperty("projectRoles").GetProperty("genomics").EnumerateArray().Select(r => r.GetString()));

        // Seen once, dana is a user the Programme Manager can appoint; the role held in the store joins the token's.
        using var appointed = await host.SendAsync(HttpMethod.Post, "/api/projects/genomics/members", pgm, """{"user":"dana","role":"Investigator"}""");
        Assert.Equal(201, (int)appointed.StatusCode);
        me = await MeAsync(host, token);
        Assert.Equal(["Investigator", "ProjectManager"], me.GetProperty("projectRoles").GetProperty("genomics").EnumerateArray().Select(r => r.GetString()));

        // Revoking the user refuses their tokens too.
        await host.Users.RevokeAsync("dana", null, SafeHaven.Management.Audit.AuditRecord.Of("t", "user.revoked", "dana"), CancellationToken.None);
        using var refused = await host.SendAsync(HttpMethod.Get, "/api/me", token);
        Assert.Equal(401, (int)refused.StatusCode);
    }

    [Fact]
    public async Task Without_identity_provider_configuration_tokens_are_refused_and_keys_can_be_switched_off()
    {
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string> { ["SafeHaven:Auth:ApiKeys:Enabled"] = "false" });
        var key = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
        using var idp = new TestIdentityProvider(Directory.CreateTempSubdirectory("safehaven-auth-").FullName);

        using var byKey = await host.SendAsync(HttpMethod.Get, "/api/me", key);
        using var byToken = await host.SendAsync(HttpMethod.Get, "/api/me", idp.Token("sm", ["SystemManager"]));

        Assert.Equal(401, (int)byKey.StatusCode);
        Assert.Equal(401, (int)byToken.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_management_endpoint_and_the_bearer_scheme()
    {
        await using var host = await ManagementHost.StartAsync();

        using var response = await host.Client.GetAsync("/openapi/v1.json");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var document = JsonDocument.Parse(text);
        var paths = document.RootElement.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/me", "/api/policy", "/api/allowlists/{ecosystem}", "/api/allowlists/{ecosystem}/entries", "/api/allowlists/{ecosystem}/entries/{name}/approve",
            "/api/sync", "/api/users", "/api/audit", "/api/audit/verify", "/api/projects", "/api/projects/{project}", "/api/projects/{project}/members",
            "/api/projects/{project}/workpackages", "/api/projects/{project}/workpackages/{workPackage}/classifications", "/api/mirrors/{ecosystem}/closure",
            "/api/college/referees", "/api/college/referees/{user}",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }
        Assert.False(paths.TryGetProperty("/healthz", out _));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task An_identity_provider_token_named_like_an_API_key_user_gets_no_roles_unless_linked()
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-auth-").FullName;
        using var idp = new TestIdentityProvider(directory);
        await using (var host = await ManagementHost.StartAsync(idp.Settings))
        {
            var key = await host.AddUserWithKeyAsync("admin", (Role.SystemManager, null));
            Assert.Equal(["SystemManager"], (await MeAsync(host, key)).GetProperty("globalRoles").EnumerateArray().Select(r => r.GetString()));

            // Someone who registered "admin" at the identity provider: refused, so none of the API-key user's roles.
            using var collision = await host.SendAsync(HttpMethod.Get, "/api/me", idp.Token("admin", []));
            var text = await collision.Content.ReadAsStringAsync();
            Assert.Equal(401, (int)collision.StatusCode);
            Assert.Contains("not linked to the identity provider", text, StringComparison.Ordinal);
            using var acting = await host.SendAsync(HttpMethod.Get, "/api/users", idp.Token("admin", []));
            Assert.Equal(401, (int)acting.StatusCode);
        }
        // Linked by the operator: the same person, with the store's roles.
        var linked = new Dictionary<string, string>(idp.Settings) { ["SafeHaven:Auth:Jwt:LinkedUsers:0"] = "admin" };
        await using (var host = await ManagementHost.StartAsync(linked))
        {
            await host.AddUserWithKeyAsync("admin", (Role.SystemManager, null));
            var me = await MeAsync(host, idp.Token("admin", []));
            Assert.Equal(["SystemManager"], me.GetProperty("globalRoles").EnumerateArray().Select(r => r.GetString()));
        }
    }
}
