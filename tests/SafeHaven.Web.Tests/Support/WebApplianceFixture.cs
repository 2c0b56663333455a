using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Playwright;
using SafeHaven.EndToEnd.Tests.Support;

namespace SafeHaven.Web.Tests.Support;

/// <summary>
/// The real appliance (<c>safehaven serve</c>), a real OpenID Connect provider (oidc-provider) it signs people in
/// through, and Debian's Chromium driven by Playwright: what every browser test of the web application starts from.
/// The project <see cref="WebUsers.Project"/> exists; each person of <see cref="WebUsers"/> can sign in
/// (<see cref="SignInAsync"/>); <see cref="SystemManagerKey"/> is a System Manager's API key for the break-glass form
/// and the management API. Share one instance per test class or collection (starting it takes seconds); give each
/// test its own page from <see cref="NewPageAsync"/> (a fresh browser context: no cookies of another test).
/// </summary>
public class WebApplianceFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly ConditionalWeakTable<IPage, List<string>> _cspViolations = new();
    private HttpClient? _management;

    public ApplianceProcess Appliance { get; private set; } = null!;
    public OidcProvider Oidc { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The break-glass System Manager (an API-key user made by <c>safehaven users add</c>).</summary>
    public const string SystemManagerKeyUser = "admin";

    public string SystemManagerKey { get; private set; } = "";

    public Uri BaseUrl => Appliance.BaseUrl;

    public string Url(string path) => new Uri(BaseUrl, path.TrimStart('/')).ToString();

    /// <summary>Settings beyond the fixture's own (SafeHaven:* keys without the prefix), for fixtures that need others.</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>();

    /// <summary>Starts what a derived fixture's <see cref="ExtraSettings"/> point at (an upstream), before the appliance.</summary>
    protected virtual Task StartPeersAsync() => Task.CompletedTask;

    /// <summary>Stops what <see cref="StartPeersAsync"/> started, after the appliance.</summary>
    protected virtual Task StopPeersAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await StartPeersAsync();
        var oidcPort = OidcProvider.ReservePort();
        var secret = OidcProvider.NewClientSecret();
        var settings = new Dictionary<string, string>
        {
            // No upstream at all: these tests are about the web application, and nothing may leave loopback.
            ["Tier"] = "2",
            ["Mirrors:pypi:Enabled"] = "false",
            ["Web:Oidc:Authority"] = $"http://127.0.0.1:{oidcPort}",
            ["Web:Oidc:ClientId"] = OidcProvider.ClientId,
            ["Web:Oidc:ClientSecret"] = secret,
            ["Web:Oidc:Scopes"] = "openid profile roles",
            ["Web:Oidc:RequireHttpsMetadata"] = "false",
        };
        foreach (var (group, role) in WebUsers.RoleMap)
        {
            settings[$"Auth:Jwt:RoleMap:{group}"] = role;
        }
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }
        Appliance = await ApplianceProcess.StartAsync(settings);
        Oidc = await OidcProvider.StartAsync(oidcPort, new Uri(Appliance.BaseUrl, "signin-oidc"), WebUsers.All, secret);

        SystemManagerKey = await AddApiKeyUserAsync(SystemManagerKeyUser, "SystemManager");
        using (var programme = await Appliance.CreateManagementClientAsync("programme-cli", "ProgrammeManager"))
        {
            using var created = await programme.PostAsJsonAsync("api/projects", new { name = WebUsers.Project, title = "Alpha study" });
            Assert.True(created.IsSuccessStatusCode, $"creating project {WebUsers.Project}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArguments,
        });
    }

    /// <summary>Creates a user with an appliance-wide role through the real CLI and returns its API key.</summary>
    public async Task<string> AddApiKeyUserAsync(string user, string role)
    {
        var result = await Appliance.RunCliAsync("users", "add", user, "--role", role);
        Assert.True(result.ExitCode == 0, $"safehaven users add {user}: {result.Output}");
        return result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Single(l => l.StartsWith("shk_", StringComparison.Ordinal));
    }

    /// <summary>The management API as the break-glass System Manager (for setting up what a test needs).</summary>
    public HttpClient Management => _management ??= ApiClient(SystemManagerKey);

    /// <summary>An HTTP client on the appliance that sends <paramref name="key"/> as its Bearer token (dispose it).</summary>
    public HttpClient ApiClient(string key)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A page in a fresh browser context, signed in as <paramref name="user"/> through the identity provider.</summary>
    public async Task<IPage> NewSignedInPageAsync(string user)
    {
        var page = await NewPageAsync();
        await SignInAsync(page, user);
        return page;
    }

    /// <summary>A page in a fresh browser context; Content-Security-Policy violations it reports are collected.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 800 } });
        var page = await context.NewPageAsync();
        var violations = _cspViolations.GetOrCreateValue(page);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add($"{page.Url}: {message.Text}");
                }
            }
        };
        return page;
    }

    /// <summary>Fails when the browser reported a Content-Security-Policy violation on any page this page showed.</summary>
    public void AssertNoCspViolations(IPage page)
    {
        var violations = _cspViolations.GetOrCreateValue(page);
        lock (violations)
        {
            Assert.True(violations.Count == 0, "Content-Security-Policy violations:\n" + string.Join("\n", violations));
        }
    }

    /// <summary>
    /// Signs <paramref name="user"/> in through the identity provider, as a person does: the appliance's sign-in
    /// button, the provider's own login form, and back to the appliance's home page (or <paramref name="returnTo"/>).
    /// </summary>
    public async Task SignInAsync(IPage page, string user, string? returnTo = null)
    {
        var start = returnTo is null ? "account/signin" : "account/signin?returnUrl=" + Uri.EscapeDataString(returnTo);
        await page.GotoAsync(Url(start));
        await page.ClickAsync("#signin-oidc");
        // The provider redirects once more to its interaction page: wait for a document, not for a "load" event that
        // a redirect racing it can leave unfired (seen as 30 s time-outs on a loaded machine); the form fills wait for
        // their inputs themselves.
        await page.WaitForURLAsync(url => url.StartsWith(Oidc.Issuer.ToString(), StringComparison.Ordinal),
            new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        await page.FillAsync("input[name=login]", user);
        await page.FillAsync("input[name=password]", "any password: the test provider checks none");
        await page.ClickAsync("button[type=submit]");
        // Back through the provider's redirects and the appliance's callback: the same race, so again a document, not
        // "load" (a full run once saw "networkidle" but never "load" here); reading the header waits for it.
        await page.WaitForURLAsync(url => url.StartsWith(BaseUrl.ToString(), StringComparison.Ordinal) && !url.Contains("signin", StringComparison.Ordinal),
            new PageWaitForURLOptions { Timeout = 30_000, WaitUntil = WaitUntilState.DOMContentLoaded });
        Assert.Equal(user, await page.InnerTextAsync("header .user"));
    }

    /// <summary>
    /// Signs in with an API key through the break-glass form; returns the status of the form's POST (302 to the home
    /// page when the key is accepted, 401 or 429 with the reason on the sign-in page when not).
    /// </summary>
    public async Task<int> SignInWithApiKeyAsync(IPage page, string key)
    {
        await page.GotoAsync(Url("account/signin"));
        await page.FillAsync("#apikey", key);
        var posted = page.WaitForResponseAsync(r => r.Request.Method == "POST" && r.Url.Contains("/account/signin", StringComparison.Ordinal));
        await page.ClickAsync("#signin-apikey");
        var response = await posted;
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
        return response.Status;
    }

    /// <summary>
    /// Runs axe-core (tests/tools/oidc/node_modules/axe-core) in the page and fails on any serious or critical
    /// violation. The engine is evaluated through the DevTools protocol, which the page's CSP does not govern, so the
    /// page is checked exactly as served.
    /// </summary>
    public async Task AssertAccessibleAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'"))
        {
            await page.EvaluateAsync(AxeSource.Value);
        }
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await window.axe.run(document, { resultTypes: ['violations'] });
              return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
            }
            """);
        var list = violations.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.True(list.Count == 0, $"axe-core on {page.Url}:\n" + string.Join("\n", list));
    }

    private static readonly Lazy<string> AxeSource = new(() =>
        File.ReadAllText(System.IO.Path.Combine(Repository.OidcTools, "node_modules", "axe-core", "axe.min.js")));

    public async Task DisposeAsync()
    {
        _management?.Dispose();
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        Playwright?.Dispose();
        if (Oidc is not null)
        {
            await Oidc.DisposeAsync();
        }
        if (Appliance is not null)
        {
            await Appliance.DisposeAsync();
        }
        await StopPeersAsync();
    }
}
