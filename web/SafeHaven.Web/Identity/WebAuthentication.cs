using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Identity;

/// <summary>
/// The browser's session (held by the appliance in its database, <see cref="DatabaseSessionStore"/>; the cookie carries its key): only who signed in, how, and the roles the identity provider gave; the
/// person's roles are worked out again on every request by <see cref="IdentityProviderCallers"/> (the same code the
/// API's bearer tokens go through), so a role granted or removed in the store, a revoked user or a revoked break-glass
/// key takes effect on the next page, not at the next sign-in.
/// </summary>
public static class WebAuthentication
{
    /// <summary>The cookie scheme of the web application (the API keeps its own bearer scheme as the default).</summary>
    public const string CookieScheme = "SafeHaven.Web";

    /// <summary>The identity provider's OpenID Connect scheme.</summary>
    public const string OidcScheme = "SafeHaven.Oidc";

    /// <summary>The policy every page outside <c>/account</c> requires: a signed-in session cookie.</summary>
    public const string Policy = "safehaven:web";

    /// <summary>A role value the identity provider gave (after the role map), kept in the cookie as it came.</summary>
    private const string IdentityProviderRoleClaim = "safehaven:idp-role";

    private const string AuthenticatedByClaim = "safehaven:authenticated-by";

    public const string CookieName = "__safehaven_session";

    internal static void AddCookie(AuthenticationBuilder authentication, WebOptions options)
    {
        authentication.AddCookie(CookieScheme, cookie =>
        {
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.Cookie.Path = "/";
            cookie.ExpireTimeSpan = options.IdleTimeout;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/account/signin";
            cookie.LogoutPath = "/account/signout";
            cookie.AccessDeniedPath = "/account/denied";
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.Events.OnValidatePrincipal = RefreshAsync;
        });
    }

    internal static void AddOpenIdConnect(AuthenticationBuilder authentication, WebOidcOptions oidc, string authority)
    {
        authentication.AddOpenIdConnect(OidcScheme, o =>
        {
            o.Authority = authority;
            o.ClientId = oidc.ClientId;
            o.ClientSecret = string.IsNullOrWhiteSpace(oidc.ClientSecret) ? null : oidc.ClientSecret;
            o.ResponseType = OpenIdConnectResponseType.Code;
            // The provider redirects back with a GET (query), a top-level navigation: the SameSite=Lax correlation and
            // nonce cookies travel with it over plain HTTP too, where SameSite=None cookies (form_post) would be dropped.
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.UsePkce = true;
            o.RequireHttpsMetadata = oidc.RequireHttpsMetadata;
            o.CallbackPath = oidc.CallbackPath;
            o.SignInScheme = CookieScheme;
            o.SaveTokens = false;
            o.GetClaimsFromUserInfoEndpoint = false;
            o.MapInboundClaims = false;
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Scope.Clear();
            foreach (var scope in oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                o.Scope.Add(scope);
            }
            o.Events.OnTokenValidated = context => SignedInThroughProviderAsync(context, authority);
            o.Events.OnRemoteFailure = context =>
            {
                // The reason is the provider's or ours, never the person's input: show it on the sign-in page.
                context.Response.Redirect("/account/signin?error=" + Uri.EscapeDataString(context.Failure?.Message ?? "sign-in failed"));
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    /// <summary>
    /// The provider's ID token (already validated by the handler: signature, issuer, audience, nonce, lifetime) is read
    /// as the API reads a bearer token: the same claims, the same role map, the same refusal of unlinked API-key users.
    /// </summary>
    private static async Task SignedInThroughProviderAsync(TokenValidatedContext context, string authority)
    {
        if (context.SecurityToken is not { RawPayload: { Length: > 0 } rawPayload })
        {
            context.Fail("the identity provider sent no ID token");
            return;
        }
        var payload = JsonSerializer.Deserialize<JsonElement>(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(rawPayload)));
        var services = context.HttpContext.RequestServices;
        var callers = services.GetRequiredService<IdentityProviderCallers>();
        var cancellationToken = context.HttpContext.RequestAborted;
        var (name, roleValues, refused) = await callers.IdentifyAsync(payload, authority, cancellationToken).ConfigureAwait(false);
        if (name is null)
        {
            context.Fail(refused ?? "the identity provider's token names no usable user");
            return;
        }
        var by = $"oidc:{authority}";
        var (caller, failure) = await callers.ResolveAsync(name, roleValues, by, cancellationToken).ConfigureAwait(false);
        if (caller is null)
        {
            context.Fail(failure ?? "refused");
            return;
        }
        await services.GetRequiredService<IAuditLog>().AppendAsync(
            AuditRecord.Of(name, "web.signed-in", name, null, ("method", "oidc"), ("issuer", authority)), cancellationToken).ConfigureAwait(false);
        context.Principal = SessionPrincipal(name, roleValues, by);
    }

    /// <summary>What the session cookie holds: the name, how the person signed in, and the provider's role values.</summary>
    public static ClaimsPrincipal SessionPrincipal(string name, IEnumerable<string> identityProviderRoles, string authenticatedBy)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(AuthenticatedByClaim, authenticatedBy) };
        claims.AddRange(identityProviderRoles.Select(r => new Claim(IdentityProviderRoleClaim, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieScheme, ClaimTypes.Name, Roles.GlobalRoleClaim));
    }

    /// <summary>Every request: the caller's roles from the provider's values and the store, or the session ends.</summary>
    private static async Task RefreshAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var name = principal?.FindFirst(ClaimTypes.Name)?.Value;
        var by = principal?.FindFirst(AuthenticatedByClaim)?.Value;
        if (principal is null || name is null || by is null)
        {
            await RejectAsync(context).ConfigureAwait(false);
            return;
        }
        var services = context.HttpContext.RequestServices;
        var cancellationToken = context.HttpContext.RequestAborted;
        if (by.StartsWith("api-key:", StringComparison.Ordinal)
            && await services.GetRequiredService<IUserStore>().FindApiKeyAsync(by["api-key:".Length..], cancellationToken).ConfigureAwait(false) is not { Revoked: false, UserDisabled: false })
        {
            await RejectAsync(context).ConfigureAwait(false);
            return;
        }
        var identityProviderRoles = principal.FindAll(IdentityProviderRoleClaim).Select(c => c.Value).ToList();
        var (caller, _) = await services.GetRequiredService<IdentityProviderCallers>().ResolveAsync(name, identityProviderRoles, by, cancellationToken).ConfigureAwait(false);
        if (caller is null)
        {
            await RejectAsync(context).ConfigureAwait(false);
            return;
        }
        // The cookie keeps the session principal (renewals write it back); this request sees the caller's roles.
        var resolved = caller.ToPrincipal(CookieScheme);
        ((ClaimsIdentity)resolved.Identity!).AddClaims(identityProviderRoles.Select(r => new Claim(IdentityProviderRoleClaim, r)));
        context.ReplacePrincipal(resolved);
    }

    private static async Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieScheme).ConfigureAwait(false);
    }

    /// <summary>The signed-in person of a web request, with their roles; null when nobody is signed in.</summary>
    public static Caller? GetCaller(this HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieScheme } ? Caller.From(context.User) : null;
}
