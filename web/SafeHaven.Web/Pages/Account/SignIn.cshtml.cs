using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Management.Identity;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web.Pages.Account;

/// <summary>Sign-in: through the site's identity provider (OpenID Connect), or a System Manager's API key (break-glass).</summary>
public sealed class SignInModel(WebOptions web, IAuthenticationSchemeProvider schemes, Microsoft.Extensions.Options.IOptions<AuthOptions> auth) : SafeHavenPage
{
    [FromQuery(Name = "returnUrl")]
    public string? ReturnUrlQuery { get; set; }

    [FromQuery(Name = "error")]
    public string? ErrorQuery { get; set; }

    [FromQuery(Name = "signedout")]
    public bool SignedOut { get; set; }

    public string ReturnUrl => LocalOrHome(ReturnUrlQuery);

    public string? Error { get; private set; }

    public bool OidcEnabled { get; private set; }

    public bool ApiKeyEnabled => web.ApiKeySignIn && auth.Value.ApiKeys.Enabled;

    public async Task OnGetAsync()
    {
        await FindSchemesAsync();
        Error = ErrorQuery is null ? null : $"Sign-in failed: {ErrorQuery}";
    }

    public async Task<IActionResult> OnPostOidcAsync([FromForm] string? returnUrl)
    {
        await FindSchemesAsync();
        if (!OidcEnabled)
        {
            return NotFound();
        }
        return Challenge(new AuthenticationProperties { RedirectUri = LocalOrHome(returnUrl) }, WebAuthentication.OidcScheme);
    }

    public async Task<IActionResult> OnPostApiKeyAsync([FromForm] string? apiKey, [FromForm] string? returnUrl)
    {
        await FindSchemesAsync();
        if (!ApiKeyEnabled)
        {
            return NotFound();
        }
        var result = await HttpContext.RequestServices.GetRequiredService<ApiKeySignIn>()
            .SignInAsync(apiKey, HttpContext.Connection.RemoteIpAddress, HttpContext.RequestAborted);
        if (result.Caller is not { } caller)
        {
            Error = result.Failure;
            ReturnUrlQuery = returnUrl;
            if (result.RetryAfter is { } wait)
            {
                Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
            }
            else
            {
                Response.StatusCode = StatusCodes.Status401Unauthorized;
            }
            return Page();
        }
        await HttpContext.SignInAsync(WebAuthentication.CookieScheme,
            WebAuthentication.SessionPrincipal(caller.Name, [], caller.AuthenticatedBy),
            new AuthenticationProperties { IsPersistent = false });
        return LocalRedirect(LocalOrHome(returnUrl));
    }

    private async Task FindSchemesAsync() => OidcEnabled = await schemes.GetSchemeAsync(WebAuthentication.OidcScheme) is not null;

    /// <summary>Only a local path is ever a redirect target (no open redirect through the sign-in page).</summary>
    private string LocalOrHome(string? url) => !string.IsNullOrEmpty(url) && Url.IsLocalUrl(url) ? url : "/";
}
