using Microsoft.Playwright;
using SafeHaven.Web.Tests.Support;

namespace SafeHaven.Web.Tests.Hosting;

/// <summary>
/// What the browser is protected by: the Content-Security-Policy and companion headers on every page (and no inline
/// script or style anywhere), anti-forgery tokens (a POST without one, or from another site, is refused), and an API
/// that a browser session does not open (it still answers 401 problem details, never a redirect).
/// </summary>
[Collection(WebCollection.Name)]
public sealed class SecurityTests(WebApplianceFixture web)
{
    /// <summary>Every page of web-core (the other areas' start pages included), as a System Manager sees them.</summary>
    private static readonly string[] Pages = ["", "audit", "audit?action=web", "airlock", "projects", "packages", "account/signin", "account/signout", "account/denied"];

    [Fact]
    public async Task Every_page_carries_the_strict_policy_and_has_no_inline_script_or_style()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);
        foreach (var path in Pages)
        {
            var response = await page.GotoAsync(web.Url(path));
            var headers = await response!.AllHeadersAsync();
            var csp = headers["content-security-policy"];
            foreach (var directive in new[] { "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'" })
            {
                Assert.Contains(directive, csp, StringComparison.Ordinal);
            }
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
            Assert.Matches(@"form-action 'self' http://127\.0\.0\.1:\d+;", csp);
            Assert.Equal("nosniff", headers["x-content-type-options"]);
            Assert.Equal("no-referrer", headers["referrer-policy"]);
            Assert.StartsWith("app;dur=", headers["server-timing"], StringComparison.Ordinal);

            var inline = await page.EvaluateAsync<string[]>("""
                () => [
                  ...[...document.querySelectorAll('script:not([src])')].map(s => 'inline script: ' + s.textContent.slice(0, 60)),
                  ...[...document.querySelectorAll('style')].map(() => 'style element'),
                  ...[...document.querySelectorAll('[style]')].map(e => 'style attribute on ' + e.tagName),
                  ...[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name + ' on ' + e.tagName)),
                ]
                """);
            Assert.True(inline.Length == 0, $"/{path}: " + string.Join("; ", inline));
        }
        // The stylesheet and script did load under the policy (a blocked one would leave the page unstyled).
        Assert.Equal("flex", await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('header.top')).display"));
        web.AssertNoCspViolations(page);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_POST_without_the_anti_forgery_token_is_refused_with_400_and_changes_nothing()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);

        // Same origin, session cookie sent, but no token: fetch from the page itself.
        var status = await page.EvaluateAsync<int>("""
            async () => (await fetch('/account/signout', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'x=1', redirect: 'manual' })).status
            """);
        Assert.Equal(400, status);

        // A token from another session does not do either.
        var other = await web.NewPageAsync();
        await other.GotoAsync(web.Url("account/signin"));
        var foreignToken = await other.GetAttributeAsync("input[name=__RequestVerificationToken]", "value");
        var withForeign = await page.APIRequest.PostAsync(web.Url("account/signout"), new APIRequestContextOptions
        {
            Form = page.APIRequest.CreateFormData().Append("__RequestVerificationToken", foreignToken!),
            MaxRedirects = 0,
        });
        Assert.Equal(400, withForeign.Status);

        await page.GotoAsync(web.Url("audit"));
        Assert.Equal("Audit log", await page.InnerTextAsync("h1"));
        await page.Context.CloseAsync();
        await other.Context.CloseAsync();
    }

    [Fact]
    public async Task A_form_posted_from_another_site_is_refused_and_the_session_survives()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);

        // The attacker's page, served by Playwright itself under a name that is another site (nothing leaves the
        // machine): it posts a sign-out form to the appliance as soon as it loads, as a cross-site request forgery would.
        var attacker = "http://attacker.example/";
        await page.RouteAsync(attacker + "**", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html",
            Body = $"""
                <!DOCTYPE html><html><body>
                <form id="f" method="post" action="{web.Url("account/signout")}"><input name="x" value="1"></form>
                <script>document.getElementById('f').submit();</script>
                </body></html>
                """,
        }));
        var posted = page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.StartsWith(web.Url("account/signout"), StringComparison.Ordinal));
        await page.GotoAsync(attacker);
        Assert.Equal(400, (await posted).Status);

        await page.GotoAsync(web.Url("audit"));
        Assert.Equal("Audit log", await page.InnerTextAsync("h1"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_API_is_not_opened_by_a_browser_session_and_still_answers_401_problem_details()
    {
        var page = await web.NewPageAsync();
        await web.SignInAsync(page, WebUsers.SystemManager);

        var me = await page.APIRequest.GetAsync(web.Url("api/me"), new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(401, me.Status);
        Assert.StartsWith("application/problem+json", me.Headers["content-type"], StringComparison.Ordinal);
        Assert.False(me.Headers.ContainsKey("content-security-policy"));

        using var withKey = await web.Management.GetAsync("api/me");
        Assert.Equal(System.Net.HttpStatusCode.OK, withKey.StatusCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Static_files_are_served_with_the_headers_and_nothing_outside_wwwroot_is()
    {
        var page = await web.NewPageAsync();
        var css = await page.APIRequest.GetAsync(web.Url("static/site.css"));
        Assert.Equal(200, css.Status);
        Assert.StartsWith("text/css", css.Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal("nosniff", css.Headers["x-content-type-options"]);
        Assert.Equal(404, (await page.APIRequest.GetAsync(web.Url("static/..%2FSafeHaven.Web.dll"))).Status);
        Assert.Equal(404, (await page.APIRequest.GetAsync(web.Url("static/missing.js"))).Status);
        await page.Context.CloseAsync();
    }
}
