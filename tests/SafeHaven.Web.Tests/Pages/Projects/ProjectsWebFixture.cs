using System.Net.Http.Json;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Projects;

/// <summary>
/// The web fixture plus what the projects pages' tests need beyond <see cref="WebUsers.Project"/>: a second project
/// (<see cref="OtherProject"/>) that none of the identity provider's project members belong to, and a person on the
/// appliance (<see cref="Newcomer"/>, a Referee-college member made with the real CLI) whom a Project Manager can add.
/// Set up once, on first use.
/// </summary>
public sealed class ProjectsWebFixture : WebApplianceFixture
{
    public const string OtherProject = "beta";
    public const string Newcomer = "nina";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _ready;

    public async Task ReadyAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_ready)
            {
                return;
            }
            using (var programme = await Appliance.CreateManagementClientAsync("programme-beta", "ProgrammeManager"))
            {
                using var created = await programme.PostAsJsonAsync("api/projects", new { name = OtherProject, title = "Beta study" });
                Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            }
            var added = await Appliance.RunCliAsync("users", "add", Newcomer, "--role", "CollegeReferee");
            Assert.True(added.ExitCode == 0, added.Output);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A screenshot of the page for the README, in docs/screenshots.</summary>
    public static async Task ScreenshotAsync(Microsoft.Playwright.IPage page, string name)
    {
        Directory.CreateDirectory(Repository.Path("docs", "screenshots"));
        await page.ScreenshotAsync(new() { Path = Repository.Path("docs", "screenshots", name + ".png"), FullPage = true });
    }
}
