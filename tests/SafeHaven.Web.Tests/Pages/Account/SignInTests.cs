using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages.Account;

/// <summary>Sign-in through the real identity provider, per role: each person sees exactly the areas their roles open.</summary>
public sealed class SignInTests(WebApplianceFixture web) : IClassFixture<WebApplianceFixture>
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

        var shown = await page.Locator("nav[aria-label=Main] a").AllInnerTextsAsync();
        Assert.Equal(links, shown);
        await web.AssertAccessibleAsync(page);
        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }
}
