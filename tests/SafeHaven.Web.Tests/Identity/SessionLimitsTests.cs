using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Identity;

/// <summary>An appliance with a 20-second idle timeout and a budget of two refused keys per minute, to see both bite.</summary>
public sealed class ShortLimitsFixture : WebApplianceFixture
{
    public const int IdleSeconds = 20;

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["Web:IdleTimeoutSeconds"] = IdleSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Auth:Throttle:MaxFailures"] = "2",
        ["Auth:Throttle:WindowSeconds"] = "60",
    };
}

/// <summary>The idle timeout (sliding: use keeps a session, idleness ends it) and the throttle on the break-glass form.</summary>
public sealed class SessionLimitsTests(ShortLimitsFixture web) : IClassFixture<ShortLimitsFixture>
{
    [Fact]
    public async Task A_session_in_use_outlives_the_idle_timeout_and_an_idle_one_ends()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.ProgrammeManager);

        // Busy for longer than the timeout: a page every few seconds keeps the session (short gaps, so that a loaded
        // machine's slow page loads cannot add up to the timeout between two of them).
        var until = DateTime.UtcNow.AddSeconds(1.5 * ShortLimitsFixture.IdleSeconds);
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await page.GotoAsync(web.Url("audit"));
            Assert.Equal(web.Url("audit"), page.Url);
        }

        // Idle for longer than the timeout: the next page asks for sign-in again.
        await Task.Delay(TimeSpan.FromSeconds(ShortLimitsFixture.IdleSeconds + 3));
        await page.GotoAsync(web.Url("audit"));
        Assert.StartsWith(web.Url("account/signin"), page.Url, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Refused_keys_on_the_break_glass_form_spend_the_APIs_budget_and_then_answer_429()
    {
        var page = await web.NewPageAsync();
        var wrong = "shk_00000000beef_" + new string('B', 43);
        Assert.Equal(401, await web.SignInWithApiKeyAsync(page, wrong));
        Assert.Equal(401, await web.SignInWithApiKeyAsync(page, wrong));
        Assert.Equal(429, await web.SignInWithApiKeyAsync(page, wrong));
        Assert.Contains("Too many refused sign-ins", await page.InnerTextAsync("#signin-error"), StringComparison.Ordinal);

        // The budget is the API's own: the API refuses this address too, and so does the form for the right key.
        using var api = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = web.BaseUrl };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", wrong);
        using var refused = await api.GetAsync("api/me");
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(429, await web.SignInWithApiKeyAsync(page, web.SystemManagerKey));
        await page.Context.CloseAsync();
    }
}
