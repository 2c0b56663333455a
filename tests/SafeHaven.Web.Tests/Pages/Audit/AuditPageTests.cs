using System.Net.Http.Json;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Audit;

/// <summary>
/// The audit page: the log filtered by action, actor, project and time, a page at a time, with the hash chain's
/// verification for System Managers; Programme Managers read it without verification, as on the API.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class AuditPageTests(WebApplianceFixture web)
{
    [Fact]
    public async Task A_System_Manager_sees_the_log_filtered_and_paged_with_the_chain_intact()
    {
        // Thirty project creations by a Programme Manager through the API: thirty project.created entries.
        var key = await web.AddApiKeyUserAsync("audit-pgm", "ProgrammeManager");
        using var programme = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = web.BaseUrl };
        programme.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i < 30; i++)
        {
            using var created = await programme.PostAsJsonAsync("api/projects", new { name = $"audit-{i:00}", title = $"Audit page {i}" });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);
        await page.GotoAsync(web.Url("audit"));
        Assert.StartsWith("Intact: all", await page.InnerTextAsync("#chain-result"), StringComparison.Ordinal);
        await web.AssertAccessibleAsync(page);

        // Filter through the form, as a person does.
        await page.FillAsync("#f-action", "project.created");
        await page.FillAsync("#f-actor", "audit-pgm");
        await page.SelectOptionAsync("#f-limit", "25");
        await page.ClickAsync("#apply-filters");
        await page.WaitForURLAsync(url => url.Contains("action=project.created", StringComparison.Ordinal));
        var actions = await page.Locator("#audit-entries td.action").AllInnerTextsAsync();
        Assert.Equal(25, actions.Count);
        Assert.All(actions, a => Assert.Equal("project.created", a));
        Assert.Equal("audit-00", await page.InnerTextAsync("#audit-entries tbody tr:first-child td:nth-child(5)"));
        await web.AssertAccessibleAsync(page);

        await page.ClickAsync("#next-page");
        var rest = await page.Locator("#audit-entries tbody tr td:nth-child(5)").AllInnerTextsAsync();
        Assert.Equal(["audit-25", "audit-26", "audit-27", "audit-28", "audit-29"], rest);
        Assert.Equal(0, await page.Locator("#next-page").CountAsync());
        await page.ClickAsync("#first-page");
        Assert.Equal(25, await page.Locator("#audit-entries tbody tr").CountAsync());

        // A project and a time range: one project's entries since the creations began; none before them.
        await page.GotoAsync(web.Url($"audit?project=audit-07&since={before.UtcDateTime:yyyy-MM-ddTHH:mm:ss}"));
        var targets = await page.Locator("#audit-entries td:nth-child(6)").AllInnerTextsAsync();
        Assert.NotEmpty(targets);
        Assert.All(targets, t => Assert.Equal("audit-07", t));
        await page.GotoAsync(web.Url($"audit?actor=audit-pgm&until={before.UtcDateTime:yyyy-MM-ddTHH:mm:ss}"));
        Assert.Equal(1, await page.Locator("#no-entries").CountAsync());
        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Filters_the_API_refuses_are_refused_on_the_page_too_with_the_reason()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);
        var response = await page.GotoAsync(web.Url("audit?since=last-tuesday&action=Not%20An%20Action"));
        Assert.Equal(400, response!.Status);
        var errors = await page.InnerTextAsync("#filter-errors");
        Assert.Contains("since", errors, StringComparison.Ordinal);
        Assert.Contains("action", errors, StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#audit-entries").CountAsync());
        await web.AssertAccessibleAsync(page);

        using var api = await web.Management.GetAsync("api/audit?since=last-tuesday");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, api.StatusCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_Programme_Manager_reads_the_log_but_only_a_System_Manager_verifies_the_chain()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.ProgrammeManager);
        await page.GotoAsync(web.Url("audit?action=web"));
        Assert.Equal("Only a System Manager may verify the chain.", await page.InnerTextAsync("#chain-result"));
        var actions = await page.Locator("#audit-entries td.action").AllInnerTextsAsync();
        Assert.Contains("web.signed-in", actions);
        Assert.All(actions, a => Assert.StartsWith("web.", a, StringComparison.Ordinal));
        await web.AssertAccessibleAsync(page);
        await page.Context.CloseAsync();
    }
}
