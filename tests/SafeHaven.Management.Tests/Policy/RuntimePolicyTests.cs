using System.Text.Json;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Policy;

/// <summary>Policy and allowlist changes through the API take effect at once, survive a restart, and keep file allowlists.</summary>
public sealed class RuntimePolicyTests
{
    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_tier_change_is_in_force_at_once_raises_Changed_and_survives_a_restart()
    {
        var data = Directory.CreateTempSubdirectory("safehaven-policy-").FullName;
        string sm;
        await using (var host = await ManagementHost.StartAsync(dataDirectory: data))
        {
            sm = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null));
            var changed = 0;
            host.PolicyProvider.Changed += () => Interlocked.Increment(ref changed);
            var generation = host.PolicyProvider.Current.Generation;

            var view = await JsonAsync(await host.SendAsync(HttpMethod.Put, "/api/policy", sm, """{"tier": 3, "minimumAgeDays": 2, "modelThreshold": 0.8, "reason": "new data agreement"}"""));

            Assert.Equal(3, view.GetProperty("inForce").GetProperty("tier").GetInt32());
            Assert.Equal(2, view.GetProperty("configured").GetProperty("tier").GetInt32());
            Assert.Equal(3, host.PolicyProvider.Current.Policy.Tier);
            Assert.Equal(2, host.PolicyProvider.Current.Policy.MinimumAge.TotalDays);
            Assert.Equal(0.8, host.PolicyProvider.Current.ModelThreshold);
            Assert.True(host.PolicyProvider.Current.Generation > generation);
            Assert.Equal(1, changed);
            var health = await JsonAsync(await host.Client.GetAsync("/healthz"));
            Assert.Equal(3, health.GetProperty("tier").GetInt32());
        }
        await using (var restarted = await ManagementHost.StartAsync(dataDirectory: data))
        {
            Assert.Equal(3, restarted.PolicyProvider.Current.Policy.Tier);

            await JsonAsync(await restarted.SendAsync(HttpMethod.Put, "/api/policy", sm, """{"reset": ["tier", "minimumAgeDays"], "reason": "back to configuration"}"""));

            Assert.Equal(2, restarted.PolicyProvider.Current.Policy.Tier);
            Assert.Equal(7, restarted.PolicyProvider.Current.Policy.MinimumAge.TotalDays);
            Assert.Equal(0.8, restarted.PolicyProvider.Current.ModelThreshold);
        }
    }

    [Fact]
    public async Task A_hand_added_entry_takes_effect_only_when_another_person_who_is_a_Referee_approves_it()
    {
        var directory = Directory.CreateTempSubdirectory("safehaven-allow-").FullName;
        var file = Path.Combine(directory, "pypi.txt");
        await File.WriteAllTextAsync(file, "filepkg\n");
        await using var host = await ManagementHost.StartAsync(new Dictionary<string, string>
        {
            ["SafeHaven:Tier"] = "3",
            ["SafeHaven:Policy:AllowlistFiles:pypi"] = file,
        });
        await host.Projects.CreateProjectAsync(new SafeHaven.Management.Projects.ProjectRecord("a", "A", DateTimeOffset.UtcNow, "t"),
            SafeHaven.Management.Audit.AuditRecord.Of("t", "project.created", "a"), CancellationToken.None);
        // A System Manager who is also a college Referee still cannot approve their own entry.
        var sm = await host.AddUserWithKeyAsync("sm", (Role.SystemManager, null), (Role.CollegeReferee, null), (Role.Referee, "a"));
        var referee = await host.AddUserWithKeyAsync("ref", (Role.CollegeReferee, null), (Role.Referee, "a"));
        // A Referee of a project who is not in the appliance-wide college cannot approve appliance-wide entries.
        var projectReferee = await host.AddUserWithKeyAsync("pref", (Role.Referee, "a"));

        using var added = await host.SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries", sm, """{"name": "Foo_Bar[fast]", "reason": "requested by project a"}""");
        Assert.Equal(201, (int)added.StatusCode);
        Assert.Equal(["filepkg"], host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));

        using var own = await host.SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries/foo-bar/approve", sm, """{"reason": "mine"}""");
        Assert.Equal(403, (int)own.StatusCode);
        Assert.DoesNotContain("foo-bar", host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));

        using var notCollege = await host.SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries/foo-bar/approve", projectReferee, """{"reason": "looks fine"}""");
        Assert.Equal(403, (int)notCollege.StatusCode);
        Assert.DoesNotContain("foo-bar", host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));

        var approved = await JsonAsync(await host.SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries/Foo.Bar/approve", referee, """{"reason": "well maintained"}"""));
        Assert.Equal("Approved", approved.GetProperty("status").GetString());
        Assert.Equal("ref", approved.GetProperty("decidedBy").GetString());
        var entries = host.PolicyProvider.Current.AllowlistFor("pypi").Entries;
        Assert.Equal(["filepkg", "foo-bar"], entries.Select(e => e.Name));
        Assert.Equal(["fast"], entries[1].Extras);

        var listed = await JsonAsync(await host.SendAsync(HttpMethod.Get, "/api/allowlists/pypi", referee));
        Assert.Equal(["filepkg", "foo-bar[fast]"], listed.GetProperty("inForce").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("sm", listed.GetProperty("entries")[0].GetProperty("addedBy").GetString());
        Assert.Equal("requested by project a", listed.GetProperty("entries")[0].GetProperty("reason").GetString());
        Assert.Contains("pypi.txt", listed.GetProperty("files")[0].GetProperty("approvedBy").GetString(), StringComparison.Ordinal);

        using var again = await host.SendAsync(HttpMethod.Post, "/api/allowlists/pypi/entries/foo-bar/reject", referee, """{"reason": "changed my mind"}""");
        Assert.Equal(409, (int)again.StatusCode);

        using var removed = await host.SendAsync(HttpMethod.Delete, "/api/allowlists/pypi/entries/foo-bar", sm);
        Assert.Equal(204, (int)removed.StatusCode);
        Assert.Equal(["filepkg"], host.PolicyProvider.Current.AllowlistFor("pypi").Entries.Select(e => e.Name));

        var audit = await JsonAsync(await host.SendAsync(HttpMethod.Get, "/api/audit?action=allowlist", sm));
        Assert.Equal(["allowlist.entry.added", "allowlist.entry.approved", "allowlist.entry.removed"],
            audit.EnumerateArray().Select(e => e.GetProperty("action").GetString()));
    }
}
