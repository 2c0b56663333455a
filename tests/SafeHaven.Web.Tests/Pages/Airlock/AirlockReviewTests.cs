using System.Text;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Airlock;

/// <summary>
/// Reviewers in a real browser, signed in through the real identity provider: Tier 3 software needs an Investigator
/// and a Referee, each with a written reason; an empty reason, a second sign-off by the same person and a person
/// without a required role are refused on the page with the workflow's reason; files are read in the browser (text and
/// CSV escaped, an image inline) or downloaded; a rejection's reason reaches the project's researcher.
/// </summary>
[Collection(AirlockWebFixture.Collection)]
public sealed class AirlockReviewTests(AirlockWebFixture web)
{
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    private static Dictionary<string, byte[]> Software() => new()
    {
        ["README.txt"] = Encoding.UTF8.GetBytes("Install with make.\n<script>alert('not run')</script>\n"),
        ["data/table.csv"] = Encoding.UTF8.GetBytes("name,count\n\"Smith, J\",3\n<b>bold</b>,4\n"),
        ["bin/tool.bin"] = [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 256))],
        ["plot.png"] = Png,
    };

    private async Task<IPage> SignedInAsync(string user)
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, user);
        return page;
    }

    private async Task<IResponse> DecideAsync(IPage page, string id, string decision, string reason, bool reload = true)
    {
        if (reload)
        {
            await page.GotoAsync(web.Url($"airlock/submissions/{id}"));
        }
        await page.FillAsync("#reason", reason);
        var posted = page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.Contains($"/airlock/submissions/{id}", StringComparison.Ordinal));
        await page.ClickAsync($"button[name=decision][value={decision}]");
        var response = await posted;
        await page.WaitForLoadStateAsync(LoadState.Load);
        return response;
    }

    [Fact]
    public async Task An_investigator_and_a_referee_approve_tier_3_software_with_reasons_and_others_are_refused()
    {
        var (id, token, _) = await web.OpenAsync("software_ingress", AirlockWebFixture.Tier3);
        await web.DepositAsync(id, token, Software());

        var ivy = await SignedInAsync(WebUsers.Investigator);
        await ivy.GotoAsync(web.Url("airlock"));
        Assert.Equal("Awaiting my review", await ivy.InnerTextAsync("h1"));
        Assert.Contains("Investigator", await ivy.InnerTextAsync($"#awaiting tr:has(a[href='/airlock/submissions/{id}'])"));
        await web.AssertAccessibleAsync(ivy);
        await Screenshots.SaveAsync(ivy, "airlock-awaiting-review");

        // The submission page: files with size and SHA-256, the verdict in words, the required sign-offs.
        await ivy.ClickAsync($"#awaiting a[href='/airlock/submissions/{id}']");
        Assert.Equal(4, await ivy.Locator("#files tbody tr").CountAsync());
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Png)), await ivy.InnerTextAsync("#files"));
        Assert.StartsWith("Clean: nothing was found", await ivy.InnerTextAsync("#inspection"));
        Assert.Equal("Investigator, Referee", await ivy.InnerTextAsync("#required"));

        // An empty reason is refused by the server (whitespace passes the browser), as a form error.
        var empty = await DecideAsync(ivy, id, "approve", "   ");
        Assert.Equal(400, empty.Status);
        Assert.Contains("Write the reason", await ivy.InnerTextAsync("#reason-error"));
        Assert.Equal(0, await ivy.Locator("#signoffs").CountAsync());
        await web.AssertAccessibleAsync(ivy);

        var approved = await DecideAsync(ivy, id, "approve", "Build script reviewed; no network access at install.");
        Assert.Equal(302, approved.Status);
        Assert.Contains("Your approval is recorded", await ivy.InnerTextAsync("#recorded"));
        Assert.Contains("ivy", await ivy.InnerTextAsync("#signoffs"));
        Assert.Equal("Referee sign-off", await ivy.InnerTextAsync("#missing"));

        // The same person again: one person, one sign-off.
        var again = await DecideAsync(ivy, id, "approve", "Approving twice");
        Assert.Equal(409, again.Status);
        Assert.Contains("already signed off", await ivy.InnerTextAsync("#refused"));

        // A third person without a required role: the workflow's refusal, shown.
        var pat = await SignedInAsync(WebUsers.ProjectManager);
        var refused = await DecideAsync(pat, id, "approve", "I manage this project");
        Assert.Equal(403, refused.Status);
        Assert.Contains("Not your role", await pat.InnerTextAsync("#refused"));
        Assert.Contains("Investigator, Referee", await pat.InnerTextAsync("#refused"));
        await web.AssertAccessibleAsync(pat);

        // Ivy leaves the page open (still in review) while the Referee decides.
        await ivy.GotoAsync(web.Url($"airlock/submissions/{id}"));
        var rex = await SignedInAsync(WebUsers.Referee);
        await rex.GotoAsync(web.Url("airlock"));
        Assert.Equal(1, await rex.Locator($"#awaiting a[href='/airlock/submissions/{id}']").CountAsync());
        await DecideAsync(rex, id, "approve", "Referee: licence and provenance checked.");
        Assert.Equal("Approved", await rex.InnerTextAsync("#state"));
        await Screenshots.SaveAsync(rex, "airlock-submission");
        var history = await rex.InnerTextAsync("#history");
        Assert.Contains("Approved as Investigator: Build script reviewed", history);
        Assert.Contains("Approved as Referee: Referee: licence and provenance checked.", history);
        Assert.Contains("Moved to: Approved", history);

        // Ivy's decision from her page opened before the approval: refused for the state.
        var late = await DecideAsync(ivy, id, "reject", "Too late", reload: false);
        Assert.Equal(409, late.Status);
        Assert.Contains("Wrong state", await ivy.InnerTextAsync("#refused"));

        foreach (var page in new[] { ivy, pat, rex })
        {
            web.AssertNoCspViolations(page);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Files_are_read_in_the_browser_as_escaped_text_a_table_and_an_image_and_a_binary_downloads()
    {
        var (id, token, _) = await web.OpenAsync("software_ingress", AirlockWebFixture.Tier3);
        var files = Software();
        await web.DepositAsync(id, token, files);
        var rex = await SignedInAsync(WebUsers.Referee);

        await rex.GotoAsync(web.Url($"airlock/submissions/{id}/files?path=README.txt"));
        Assert.Contains("<script>alert('not run')</script>", await rex.InnerTextAsync("#text"));
        Assert.Equal(0, await rex.Locator("#text script").CountAsync());
        await web.AssertAccessibleAsync(rex);
        await Screenshots.SaveAsync(rex, "airlock-file-text");

        await rex.GotoAsync(web.Url($"airlock/submissions/{id}/files?path={Uri.EscapeDataString("data/table.csv")}"));
        Assert.Equal(["name", "count"], await rex.Locator("#csv thead th").AllInnerTextsAsync());
        Assert.Equal(["Smith, J", "3", "<b>bold</b>", "4"], await rex.Locator("#csv tbody td").AllInnerTextsAsync());
        await web.AssertAccessibleAsync(rex);

        await rex.GotoAsync(web.Url($"airlock/submissions/{id}/files?path=plot.png"));
        Assert.Equal(1, await rex.EvalOnSelectorAsync<int>("#image", "img => img.naturalWidth"));
        var image = await rex.Context.APIRequest.GetAsync(web.Url($"airlock/submissions/{id}/files?handler=image&path=plot.png"));
        Assert.Equal("image/png", image.Headers["content-type"]);
        Assert.Equal("nosniff", image.Headers["x-content-type-options"]);
        await web.AssertAccessibleAsync(rex);

        await rex.GotoAsync(web.Url($"airlock/submissions/{id}/files?path={Uri.EscapeDataString("bin/tool.bin")}"));
        Assert.True(await rex.IsVisibleAsync("#binary"));
        var download = rex.WaitForDownloadAsync();
        await rex.ClickAsync("#binary a");
        var saved = await (await download).PathAsync();
        Assert.Equal(files["bin/tool.bin"], await File.ReadAllBytesAsync(saved));
        await web.AssertAccessibleAsync(rex);

        // A project member without a required role reads nothing while it is in review (the API's rule).
        var rita = await SignedInAsync(WebUsers.Researcher);
        var denied = await rita.GotoAsync(web.Url($"airlock/submissions/{id}/files?path=README.txt"));
        Assert.Equal(403, denied!.Status);
        Assert.Contains("only the required reviewers", await rita.InnerTextAsync("#refused"));
        Assert.Equal(0, await rita.Locator("#text").CountAsync());
        var raw = await rita.Context.APIRequest.GetAsync(web.Url($"airlock/submissions/{id}/files?handler=download&path=README.txt"));
        Assert.NotEqual(200, raw.Status);
        Assert.DoesNotContain("not run", await raw.TextAsync());

        foreach (var page in new[] { rex, rita })
        {
            web.AssertNoCspViolations(page);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_referee_rejects_with_a_reason_that_the_projects_researcher_sees()
    {
        var (id, token, _) = await web.OpenAsync("software_ingress", AirlockWebFixture.Tier3);
        await web.DepositAsync(id, token, Software());

        var rex = await SignedInAsync(WebUsers.Referee);
        await DecideAsync(rex, id, "reject", "Bundles a cryptocurrency miner in bin/.");
        Assert.Equal("Rejected", await rex.InnerTextAsync("#state"));

        var rita = await SignedInAsync(WebUsers.Researcher);
        await rita.GotoAsync(web.Url("airlock"));
        var row = rita.Locator($"#submissions tr[data-id='{id}']");
        Assert.Equal("Rejected", await row.Locator("td.bad").InnerTextAsync());
        Assert.Contains("Bundles a cryptocurrency miner in bin/.", await row.Locator("td.reason").InnerTextAsync());
        Assert.Equal(0, await rita.Locator($"#awaiting a[href='/airlock/submissions/{id}']").CountAsync());
        await web.AssertAccessibleAsync(rita);
        await Screenshots.SaveAsync(rita, "airlock-project-submissions");
        await rita.ClickAsync($"#submissions a[href='/airlock/submissions/{id}']");
        Assert.Contains("rejected by Referee rex: Bundles a cryptocurrency miner in bin/.", await rita.InnerTextAsync("#state-reason"));
        await web.AssertAccessibleAsync(rita);

        foreach (var page in new[] { rex, rita })
        {
            web.AssertNoCspViolations(page);
            await page.Context.CloseAsync();
        }
    }
}
