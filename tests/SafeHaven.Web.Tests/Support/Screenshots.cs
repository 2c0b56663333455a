using Microsoft.Playwright;

namespace SafeHaven.Web.Tests.Support;

/// <summary>
/// Screenshots of the pages for the README. A normal run writes them to a scratch folder (so the tests never change
/// tracked files) and still checks each is a real PNG; <c>SAFEHAVEN_SCREENSHOTS=1</c> writes them to docs/screenshots.
/// </summary>
public static class Screenshots
{
    public static bool ForReadme { get; } = Environment.GetEnvironmentVariable("SAFEHAVEN_SCREENSHOTS") == "1";

    public static string Folder { get; } = ForReadme
        ? Repository.Path("docs", "screenshots")
        : Path.Combine(Path.GetTempPath(), "safehaven-web-screenshots-" + Environment.ProcessId);

    /// <summary>A full-page screenshot of <paramref name="page"/> as <c>&lt;name&gt;.png</c>, checked to be a PNG of some substance.</summary>
    public static async Task SaveAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, name.EndsWith(".png", StringComparison.Ordinal) ? name : name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 4096, $"{name}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }
}
