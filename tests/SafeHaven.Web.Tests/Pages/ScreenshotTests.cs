using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Pages;

/// <summary>
/// Screenshots of the main pages for the README, taken from the real appliance in Chromium at a laptop's screen size
/// and written to docs/screenshots/ (replaced on each run, so they always show the pages as they are).
/// </summary>
[Collection(WebCollection.Name)]
public sealed class ScreenshotTests(WebApplianceFixture web)
{
    private static readonly string Folder = Repository.Path("docs", "screenshots");

    [Fact]
    public async Task The_main_pages_are_photographed_for_the_README()
    {
        Directory.CreateDirectory(Folder);
        var page = await web.NewPageAsync();
        await page.GotoAsync(web.Url("account/signin"));
        await SaveAsync(page, "signin.png");

        await web.SignInAsync(page, WebUsers.SystemManager);
        await SaveAsync(page, "home-system-manager.png");
        await page.GotoAsync(web.Url("audit?limit=25"));
        await SaveAsync(page, "audit.png");
        await page.Context.CloseAsync();

        var researcher = await web.NewPageAsync();
        await web.SignInAsync(researcher, WebUsers.Researcher);
        await SaveAsync(researcher, "home-researcher.png");
        await researcher.GotoAsync(web.Url("audit"));
        await SaveAsync(researcher, "denied.png");
        await researcher.Context.CloseAsync();
    }

    private static async Task SaveAsync(IPage page, string name)
    {
        var path = Path.Combine(Folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 4096, $"{name}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }
}
