using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Management.Identity;
using SafeHaven.Web.Hosting;
using SafeHaven.Web.Identity;

namespace SafeHaven.Web;

public static class WebServiceCollectionExtensions
{
    /// <summary>Problems with the <c>SafeHaven:Web</c> section, in the operator's terms (configuration keys).</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var web = Read(configuration);
        var problems = new List<string>();
        if (web.IdleTimeoutMinutes is < 1 or > 24 * 60)
        {
            problems.Add("SafeHaven:Web:IdleTimeoutMinutes: 1 to 1440");
        }
        if (web.IdleTimeoutSeconds < 0)
        {
            problems.Add("SafeHaven:Web:IdleTimeoutSeconds: 0 (use IdleTimeoutMinutes) or more");
        }
        if (web.Oidc.Enabled)
        {
            var authority = AuthorityOf(configuration, web);
            if (authority is null)
            {
                problems.Add("SafeHaven:Web:Oidc:Authority: required with ClientId (or set SafeHaven:Auth:Jwt:Issuer), the identity provider's issuer URL");
            }
            else if (authority.Scheme != Uri.UriSchemeHttps && web.Oidc.RequireHttpsMetadata)
            {
                problems.Add($"SafeHaven:Web:Oidc:Authority: '{authority}' is not https (set RequireHttpsMetadata to false only for a provider on loopback)");
            }
            if (!web.Oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid", StringComparer.Ordinal))
            {
                problems.Add("SafeHaven:Web:Oidc:Scopes: must include openid");
            }
            if (!web.Oidc.CallbackPath.StartsWith('/'))
            {
                problems.Add("SafeHaven:Web:Oidc:CallbackPath: a path starting with /");
            }
        }
        return problems;
    }

    private static WebOptions Read(IConfiguration configuration) => configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();

    private static Uri? AuthorityOf(IConfiguration configuration, WebOptions web)
    {
        var text = !string.IsNullOrWhiteSpace(web.Oidc.Authority)
            ? web.Oidc.Authority
            : configuration.GetSection(AuthOptions.Section).Get<AuthOptions>()?.Jwt.Issuer;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;
    }

    /// <summary>
    /// Registers the web application: Razor Pages from this assembly, the session cookie and (when configured) the
    /// identity provider's OpenID Connect scheme next to the API's bearer scheme, which stays the default so the API
    /// answers exactly as before (401/403 problem details, never a redirect). Call after <c>AddSafeHavenManagement</c>.
    /// </summary>
    public static IServiceCollection AddSafeHavenWeb(this IServiceCollection services, IConfiguration configuration, SafeHavenOptions options)
    {
        var web = Read(configuration);
        services.AddSingleton(web);
        services.AddSingleton<ApiKeySignIn>();
        if (!web.Enabled)
        {
            return services;
        }
        var authority = web.Oidc.Enabled ? AuthorityOf(configuration, web) : null;
        services.AddSingleton<IStartupFilter>(new SecurityHeaders(SecurityHeaders.PolicyFor(authority), web.Oidc.CallbackPath));
        // Sessions and the data protection key ring live in the appliance's database, shared by every replica: a
        // session, cookie or anti-forgery token from one replica is good on any other, and survives a restart.
        services.TryAddSingleton(_ => SafeHavenDatabase.Create(options));
        services.AddSingleton(sp => new DatabaseXmlRepository(WebTables(sp)));
        services.AddDataProtection().SetApplicationName("SafeHaven");
        services.AddOptions<KeyManagementOptions>().Configure<DatabaseXmlRepository>((keys, repository) => keys.XmlRepository = repository);

        var authentication = services.AddAuthentication();
        services.AddSingleton(sp => new DatabaseSessionStore(WebTables(sp), sp.GetRequiredService<IDataProtectionProvider>(), web,
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        WebAuthentication.AddCookie(authentication, web);
        services.AddOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(WebAuthentication.CookieScheme)
            .Configure<DatabaseSessionStore>((cookie, sessions) => cookie.SessionStore = sessions);
        if (authority is not null)
        {
            WebAuthentication.AddOpenIdConnect(authentication, web.Oidc, authority.ToString().TrimEnd('/'));
        }
        services.AddAuthorizationBuilder().AddPolicy(WebAuthentication.Policy, policy => policy
            .AddAuthenticationSchemes(WebAuthentication.CookieScheme)
            .RequireAuthenticatedUser());
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "__safehaven_antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = "__RequestVerificationToken";
        });
        services.AddRazorPages(pages =>
            {
                pages.Conventions.AuthorizeFolder("/", WebAuthentication.Policy);
                pages.Conventions.AllowAnonymousToFolder("/Account");
                // The airlock's pages for people without an account (deposit and release links): their token is the check.
                pages.Conventions.AllowAnonymousToFolder("/Airlock/Outside");
                pages.Conventions.Add(new LowercaseRoutes());
            })
            .ConfigureApplicationPartManager(parts =>
            {
                // Exactly one part for this assembly, whether or not the host discovered it on its own.
                var assembly = typeof(WebServiceCollectionExtensions).Assembly;
                foreach (var existing in parts.ApplicationParts.OfType<AssemblyPart>().Where(p => p.Assembly == assembly).ToList())
                {
                    parts.ApplicationParts.Remove(existing);
                }
                foreach (var part in new DefaultApplicationPartFactory().GetApplicationParts(assembly))
                {
                    parts.ApplicationParts.Add(part);
                }
            });
        return services;
    }

    /// <summary>The database with the web tables brought up to date (one replica at a time; a no-op when they are).</summary>
    private static SafeHavenDatabase WebTables(IServiceProvider services)
    {
        var database = services.GetRequiredService<SafeHavenDatabase>();
        WebSchema.ApplyAsync(database, CancellationToken.None).GetAwaiter().GetResult();
        return database;
    }

    /// <summary>Maps the pages at <c>/</c> and the static files at <c>/static/</c> (nothing when SafeHaven:Web:Enabled is false).</summary>
    public static IEndpointRouteBuilder MapSafeHavenWeb(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetService<WebOptions>() is not { Enabled: true })
        {
            return app;
        }
        app.MapRazorPages().WithMetadata(WebEndpointMetadata.Instance);
        StaticAssets.Map(app);
        return app;
    }
}
