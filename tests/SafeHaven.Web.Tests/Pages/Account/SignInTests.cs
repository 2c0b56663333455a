using System.Text.Json;
using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Account;

/// <summary>
/// Sign-in through the real identity provider, per role (each person sees exactly the areas their roles open), the
/// System Manager's API-key break-glass, and sign-out.
/// </summary>
[Collection(WebCollection.Name)]
public sealed class SignInTests(WebApplianceFixture web)
{
    public static TheoryData<string, string[]> RoleLinks => new()
    {
        { WebUsers.SystemManager, ["Airlock", "Projects", "Packages", "Audit"] },
        { WebUsers.ProgrammeManager, ["Airlock", "Projects", "Packages", "Audit"] },
        { WebUsers.ProjectManager, ["Airlock", "Projects", "Packages"] },
        { WebUsers.Investigator, ["Airlock", "Projects", "Packages"] },
        { WebUsers.Referee, ["Airlock", "Projects", "Packages"] },
        { WebUsers.Researcher, ["Airlock", "Projects", "Packages"] },
        { WebUsers.DatasetProvider, ["Airlock", "Projects", "Packages"] },
    };

    [Theory]
    [MemberData(nameof(RoleLinks))]
    public async Task Each_role_signs_in_through_the_identity_provider_and_sees_only_its_areas(string user, string[] links)
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, user);

        Assert.Equal(links, await page.Locator("nav[aria-label=Main] a").AllInnerTextsAsync());
        Assert.Equal(links, await page.Locator("ul.cards h3 a").AllInnerTextsAsync());
        await web.AssertAccessibleAsync(page);
        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Roles_come_from_the_identity_providers_groups_through_the_role_map_and_project_values()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.Referee);

        var roles = await page.Locator("ul.roles li").AllInnerTextsAsync();
        // safehaven-referee-college -> CollegeReferee (RoleMap); alpha/Referee -> Referee in alpha.
        Assert.Contains(roles, r => r.Contains("Referee college member", StringComparison.Ordinal));
        Assert.Contains(roles, r => r.Contains("Referee", StringComparison.Ordinal) && r.Contains(WebUsers.Project, StringComparison.Ordinal));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_researcher_opening_the_audit_page_is_refused_with_403_and_no_entries()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.Researcher);

        var response = await page.GotoAsync(web.Url("audit"));
        Assert.Equal(403, response!.Status);
        Assert.Contains("/account/denied", page.Url, StringComparison.Ordinal);
        Assert.Contains("do not hold a role", await page.InnerTextAsync("#denied"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#audit-entries").CountAsync());
        await web.AssertAccessibleAsync(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Someone_not_signed_in_is_sent_to_sign_in_and_comes_back_to_the_page_they_asked_for()
    {
        var page = await web.NewPageAsync();
        await page.GotoAsync(web.Url("audit"));
        Assert.StartsWith(web.Url("account/signin"), page.Url, StringComparison.Ordinal);
        Assert.Contains("returnUrl=%2Faudit", page.Url, StringComparison.Ordinal);
        await web.AssertAccessibleAsync(page);

        await web.SignInAsync(page, WebUsers.SystemManager, returnTo: "/audit");
        Assert.Equal(web.Url("audit"), page.Url);
        Assert.Equal("Audit log", await page.InnerTextAsync("h1"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_System_Manager_signs_in_with_an_API_key_and_the_sign_in_is_audited()
    {
        var page = await web.NewPageAsync();
        Assert.Equal(302, await web.SignInWithApiKeyAsync(page, web.SystemManagerKey));

        Assert.Equal(web.Url(""), page.Url);
        Assert.Equal(WebApplianceFixture.SystemManagerKeyUser, await page.InnerTextAsync("header .user"));
        Assert.Contains("Audit", await page.Locator("nav[aria-label=Main] a").AllInnerTextsAsync());
        await web.AssertAccessibleAsync(page);

        using var audit = await web.Management.GetAsync($"api/audit?actor={WebApplianceFixture.SystemManagerKeyUser}&action=web.signed-in");
        var entries = JsonDocument.Parse(await audit.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(entries.EnumerateArray(), e => e.GetProperty("details").GetProperty("method").GetString() == "api-key");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_wrong_API_key_is_refused_and_so_is_the_key_of_someone_who_is_not_a_System_Manager()
    {
        var page = await web.NewPageAsync();
        // Well formed, unknown id and secret.
        var wrong = "shk_0123456789ab_" + new string('A', 43);
        Assert.Equal(401, await web.SignInWithApiKeyAsync(page, wrong));
        Assert.Contains("refused", await page.InnerTextAsync("#signin-error"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("header .user").CountAsync());
        await web.AssertAccessibleAsync(page);

        var programmeKey = await web.AddApiKeyUserAsync("programme-key-user", "ProgrammeManager");
        Assert.Equal(401, await web.SignInWithApiKeyAsync(page, programmeKey));
        Assert.Contains("Only a System Manager", await page.InnerTextAsync("#signin-error"), StringComparison.Ordinal);

        var audit = await page.APIRequest.GetAsync(web.Url("audit"), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, audit.Status);
        Assert.Contains("/account/signin", audit.Headers["location"], StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Sign_out_ends_the_session_on_the_server_so_a_copy_of_the_cookie_is_worthless()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);
        var session = (await page.Context.CookiesAsync()).Single(c => c.Name == "__safehaven_session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);

        await page.ClickAsync("header form button");
        await page.WaitForURLAsync(url => url.Contains("signedout=true", StringComparison.Ordinal));
        Assert.Contains("You have signed out", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        await web.AssertAccessibleAsync(page);
        await page.GotoAsync(web.Url("audit"));
        Assert.StartsWith(web.Url("account/signin"), page.Url, StringComparison.Ordinal);

        // The cookie as it was before sign-out, replayed from another browser: the session it names is gone.
        var replay = await web.NewPageAsync();
        await replay.Context.AddCookiesAsync([new Cookie { Name = session.Name, Value = session.Value, Url = web.Url("") }]);
        var response = await replay.APIRequest.GetAsync(web.Url("audit"), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, response.Status);
        Assert.Contains("/account/signin", response.Headers["location"], StringComparison.Ordinal);
        await page.Context.CloseAsync();
        await replay.Context.CloseAsync();
    }

    [Fact]
    public async Task The_sign_out_page_and_the_sign_in_page_pass_axe_core()
    {
        var page = await web.NewPageAsync();
        await page.GotoAsync(web.Url("account/signin"));
        await web.AssertAccessibleAsync(page);
        await web.SignInAsync(page, WebUsers.Investigator);
        await page.GotoAsync(web.Url("account/signout"));
        Assert.Equal(1, await page.Locator("#signout").CountAsync());
        await web.AssertAccessibleAsync(page);
        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }
}
