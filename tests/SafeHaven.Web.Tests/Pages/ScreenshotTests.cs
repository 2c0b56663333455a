using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages;

/// <summary>
/// Screenshots of the main pages for the README, taken from the real appliance in Chromium at a laptop's screen size
/// (written to docs/screenshots/ when SAFEHAVEN_SCREENSHOTS=1; see <see cref="Screenshots"/>).
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ScreenshotTests(WebApplianceFixture web)
{
    [Fact]
    public async Task The_main_pages_are_photographed_for_the_README()
    {
        var page = await web.NewPageAsync();
        await page.GotoAsync(web.Url("account/signin"));
        await Screenshots.SaveAsync(page, "signin.png");

        await web.SignInAsync(page, WebUsers.SystemManager);
        await Screenshots.SaveAsync(page, "home-system-manager.png");
        await page.GotoAsync(web.Url("audit?limit=25"));
        await Screenshots.SaveAsync(page, "audit.png");
        await page.Context.CloseAsync();

        var researcher = await web.NewSignedInPageAsync(WebUsers.Researcher);
        await Screenshots.SaveAsync(researcher, "home-researcher.png");
        await researcher.GotoAsync(web.Url("audit"));
        await Screenshots.SaveAsync(researcher, "denied.png");
        await researcher.Context.CloseAsync();
    }
}
