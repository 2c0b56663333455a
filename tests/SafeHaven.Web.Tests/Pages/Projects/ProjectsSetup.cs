using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Projects;

/// <summary>
/// What the projects pages' tests need in the shared <see cref="WebApplianceFixture"/> beyond <see cref="WebUsers.Project"/>: a second project
/// (<see cref="OtherProject"/>) that none of the identity provider's project members belong to, and a person on the
/// appliance (<see cref="Newcomer"/>, a Referee-college member made with the real CLI) whom a Project Manager can add.
/// Set up once, on first use. Each person signs in through the identity provider once per run
/// (<see cref="SignedInPageAsync"/>); later pages of theirs start from that session's cookie, which keeps the tests quick.
/// </summary>
public sealed class ProjectsSetup
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<WebApplianceFixture, ProjectsSetup> Setups = new();

    private readonly WebApplianceFixture _web;

    private ProjectsSetup(WebApplianceFixture web) => _web = web;

    /// <summary>The set-up of this fixture (one per appliance).</summary>
    public static ProjectsSetup For(WebApplianceFixture web) => Setups.GetValue(web, w => new ProjectsSetup(w));

    public const string OtherProject = "beta";
    public const string Newcomer = "nina";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _ready;
    private readonly ConcurrentDictionary<string, IReadOnlyList<Cookie>> _sessions = new(StringComparer.Ordinal);

    /// <summary>A fresh page signed in as <paramref name="user"/>: through the identity provider the first time, then with that session.</summary>
    public async Task<IPage> SignedInPageAsync(string user)
    {
        await ReadyAsync();
        var page = await _web.NewPageAsync();
        if (_sessions.TryGetValue(user, out var cookies))
        {
            await page.Context.AddCookiesAsync(cookies);
            return page;
        }
        await _web.SignInAsync(page, user);
        _sessions[user] = (await page.Context.CookiesAsync([_web.BaseUrl.ToString()]))
            .Select(c => new Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Expires = c.Expires, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite })
            .ToList();
        return page;
    }

    public async Task ReadyAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_ready)
            {
                return;
            }
            using (var programme = await _web.Appliance.CreateManagementClientAsync("programme-beta", "ProgrammeManager"))
            {
                using var created = await programme.PostAsJsonAsync("api/projects", new { name = OtherProject, title = "Beta study" });
                Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            }
            var added = await _web.Appliance.RunCliAsync("users", "add", Newcomer, "--role", "CollegeReferee");
            Assert.True(added.ExitCode == 0, added.Output);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
