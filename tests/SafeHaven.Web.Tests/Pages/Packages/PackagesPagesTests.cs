using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using SafeHaven.EndToEnd.Tests.PyPI;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Packages;

/// <summary>
/// The packages area in a real browser at Tier 3: a package request decided from its risk summary and then installed
/// by the real pip through the appliance, the allowlists, the threshold preview and change, and mirror health.
/// </summary>
public sealed class PackagesPagesTests(PackagesWebFixture web) : IClassFixture<PackagesWebFixture>
{
    private async Task<IPage> SignedInAsync(string user, string path)
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, user);
        var response = await page.GotoAsync(web.Url(path));
        Assert.Equal(200, response!.Status);
        return page;
    }

    private async Task AssertCleanAsync(IPage page)
    {
        await web.AssertAccessibleAsync(page);
        web.AssertNoCspViolations(page);
    }

    [Fact]
    public async Task A_researcher_requests_a_package_a_Referee_approves_it_from_its_risk_summary_and_pip_installs_it_at_Tier_3()
    {
        // Before: shapp is neither on the allowlist nor approved by the model, so the real pip cannot install it
        // (Debian 12's own pip, what a stock machine in the environment has).
        var before = await Pip.InstallAsync(PipClient.Debian, web.Appliance.PyPIIndexUrl, "shapp");
        Assert.False(before.Succeeded, before.Process.Output);

        var researcher = await SignedInAsync(WebUsers.Researcher, "packages");
        await AssertCleanAsync(researcher);
        await researcher.ClickAsync("a[href='/packages/requests']");
        await AssertCleanAsync(researcher);
        await researcher.SelectOptionAsync("#ecosystem", "pypi");
        await researcher.FillAsync("#name", "shapp");
        await researcher.FillAsync("#reason", "Reads our instrument files for the alpha analysis.");
        await researcher.ClickAsync("#request-form button[type=submit]");
        await researcher.WaitForURLAsync(url => url.EndsWith("/packages/request/pypi/shapp", StringComparison.Ordinal));
        Assert.Contains("Waiting for a Referee", await researcher.InnerTextAsync("#status"), StringComparison.Ordinal);
        // The requester sees the summary but no decision form, and the server refuses a decision posted anyway.
        Assert.Equal(0, await researcher.Locator("button[value=approve]").CountAsync());
        await AssertCleanAsync(researcher);
        var token = await researcher.EvaluateAsync<string>("async () => { const r = await fetch('/packages/requests'); const t = await r.text(); return new DOMParser().parseFromString(t, 'text/html').querySelector('input[name=__RequestVerificationToken]').value; }");
        var forged = await researcher.Context.APIRequest.PostAsync(web.Url("packages/request/pypi/shapp?handler=decide"), new APIRequestContextOptions
        {
            Form = researcher.Context.APIRequest.CreateFormData().Append("__RequestVerificationToken", token).Append("decision", "approve").Append("reason", "self-approval"),
        });
        Assert.Equal(403, forged.Status);
        using (var pending = JsonDocument.Parse(await web.Management.GetStringAsync("api/allowlists/pypi")))
        {
            var entry = pending.RootElement.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "shapp");
            Assert.Equal("Pending", entry.GetProperty("status").GetString());
            Assert.Equal(WebUsers.Researcher, entry.GetProperty("addedBy").GetString());
        }

        // The Referee finds it waiting and reads its one-page risk summary.
        var referee = await SignedInAsync(WebUsers.Referee, "packages/requests");
        await referee.ClickAsync("#pending a[href='/packages/request/pypi/shapp']");
        Assert.Matches(@"^0\.\d{3}$", await referee.InnerTextAsync("#model-score"));
        Assert.Contains("Below the threshold", await referee.InnerTextAsync("#model-note"), StringComparison.Ordinal);
        Assert.True(await referee.Locator("#model-reasons li").CountAsync() > 0);
        var versions = await referee.InnerTextAsync("#versions");
        Assert.Contains("1.0", versions, StringComparison.Ordinal);
        var adds = await referee.Locator("#closure-adds li").AllInnerTextsAsync();
        Assert.Equal(["shapp", "shlib"], adds.Order(StringComparer.Ordinal));
        Assert.Contains(PackagesWebFixture.AdvisoryId, await referee.InnerTextAsync("#advisories"), StringComparison.Ordinal);
        await AssertCleanAsync(referee);
        await Screenshots.SaveAsync(referee, "packages-request");

        await referee.FillAsync("textarea[name=reason]", "Small, old, one dependency; the advisory is fixed in 1.0.");
        await referee.ClickAsync("button[value=approve]");
        await referee.WaitForLoadStateAsync(LoadState.Load);
        Assert.Contains("approved by rex", await referee.InnerTextAsync("#status"), StringComparison.Ordinal);

        // The researcher sees the outcome with the Referee's reason.
        await researcher.GotoAsync(web.Url("packages/requests"));
        var mine = await researcher.InnerTextAsync("#mine");
        Assert.Contains("approved", mine, StringComparison.Ordinal);
        Assert.Contains("the advisory is fixed in 1.0", mine, StringComparison.Ordinal);

        // The approval recomputes the closure; then the real pip installs shapp and its dependency at Tier 3.
        Pip.InstallResult? installed = null;
        for (var attempt = 0; attempt < 30 && installed is not { Succeeded: true }; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(500);
            }
            installed = await Pip.InstallAsync(PipClient.Debian, web.Appliance.PyPIIndexUrl, "shapp");
        }
        Assert.True(installed!.Succeeded, installed.Process.Output + web.Appliance.Log);
        Assert.Equal("1.0", installed.Installed["shapp"]);
        Assert.Equal("1.0", installed.Installed["shlib"]); // 1.1 is a day old: held back by the quarantine
    }

    [Fact]
    public async Task The_threshold_preview_lists_additions_and_removals_and_the_confirmation_changes_it()
    {
        var researcher = await web.NewPageAsync();
        await web.SignInAsync(researcher, WebUsers.Researcher);
        Assert.Equal(403, (await researcher.GotoAsync(web.Url("packages/threshold")))!.Status);

        var manager = await SignedInAsync(WebUsers.SystemManager, "packages/threshold");
        await manager.FillAsync("#threshold", "0");
        await manager.ClickAsync("#preview-form button[type=submit]");
        await manager.WaitForURLAsync(url => url.Contains("threshold=0", StringComparison.Ordinal));
        Assert.Contains("shlib", await manager.InnerTextAsync("#preview-pypi .added"), StringComparison.Ordinal);
        await AssertCleanAsync(manager);

        await manager.FillAsync("#threshold", "1");
        await manager.ClickAsync("#preview-form button[type=submit]");
        await manager.WaitForURLAsync(url => url.Contains("threshold=1", StringComparison.Ordinal));
        Assert.Contains("shother", await manager.InnerTextAsync("#preview-pypi .removed"), StringComparison.Ordinal);
        await AssertCleanAsync(manager);
        await Screenshots.SaveAsync(manager, "packages-threshold");

        await manager.FillAsync("#confirm-form textarea[name=reason]", "Only hand-approved packages while the model is re-trained.");
        await manager.ClickAsync("#confirm-form button[type=submit]");
        await manager.WaitForURLAsync(url => url.Contains("changed=true", StringComparison.Ordinal));
        Assert.Equal("1", await manager.InnerTextAsync("#current-threshold"));
        using var policy = JsonDocument.Parse(await web.Management.GetStringAsync("api/policy"));
        Assert.Equal(1.0, policy.RootElement.GetProperty("inForce").GetProperty("modelThreshold").GetDouble());
        using var audit = JsonDocument.Parse(await web.Management.GetStringAsync("api/audit?action=policy.changed"));
        Assert.Contains("re-trained", audit.RootElement.GetRawText(), StringComparison.Ordinal);
        await AssertCleanAsync(manager);
    }

    [Fact]
    public async Task Mirror_health_shows_the_closure_problem_and_only_managers_and_Referees_see_it()
    {
        var researcher = await web.NewPageAsync();
        await web.SignInAsync(researcher, WebUsers.Researcher);
        Assert.Equal(403, (await researcher.GotoAsync(web.Url("packages/mirrors")))!.Status);
        Assert.Equal(403, (await researcher.GotoAsync(web.Url("packages/allowlists")))!.Status);

        var manager = await SignedInAsync(WebUsers.SystemManager, "packages/mirrors");
        var closure = await manager.InnerTextAsync("#mirror-pypi .closure");
        Assert.Contains("1 unsatisfiable", closure, StringComparison.Ordinal);
        Assert.Contains("shbroken", closure, StringComparison.Ordinal);
        Assert.Contains("shmissing", closure, StringComparison.Ordinal);
        await AssertCleanAsync(manager);
        await Screenshots.SaveAsync(manager, "packages-mirrors");

        var referee = await SignedInAsync(WebUsers.Referee, "packages/mirrors");
        Assert.Contains("shmissing", await referee.InnerTextAsync("#mirror-pypi .closure"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Referee_rejects_a_pending_entry_from_the_allowlists_with_a_reason()
    {
        using (var added = await web.Management.PostAsync("api/allowlists/pypi/entries",
                   new StringContent("""{"name":"shother","reason":"Wanted by the methods group."}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }
        var referee = await SignedInAsync(WebUsers.Referee, "packages/allowlists");
        Assert.Contains("shbroken", await referee.InnerTextAsync("#allowlist-pypi"), StringComparison.Ordinal);
        await AssertCleanAsync(referee);
        await Screenshots.SaveAsync(referee, "packages-allowlists");
        var row = referee.Locator("#entry-pypi-shother");
        await row.Locator("textarea[name=reason]").FillAsync("No use case inside the environment yet.");
        await row.Locator("button[value=reject]").ClickAsync();
        await referee.WaitForURLAsync(url => url.EndsWith("/packages/request/pypi/shother", StringComparison.Ordinal));
        Assert.Contains("rejected by rex", await referee.InnerTextAsync("#status"), StringComparison.Ordinal);
        await AssertCleanAsync(referee);

        // The System Manager who added it may read it but not decide it.
        var manager = await SignedInAsync(WebUsers.SystemManager, "packages/request/pypi/shother");
        Assert.Equal(0, await manager.Locator("button[value=approve]").CountAsync());
    }
}
