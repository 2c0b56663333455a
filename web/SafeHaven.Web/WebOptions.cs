namespace SafeHaven.Web;

/// <summary>
/// The <c>SafeHaven:Web</c> section: the browser application at <c>/</c>. Sign-in through the site's identity provider
/// (<see cref="Oidc"/>) maps claims to roles exactly as the API does (<c>SafeHaven:Auth:Jwt</c>: NameClaim, RolesClaim,
/// RoleMap, LinkedUsers), so one person holds the same roles in a browser and on the API.
/// </summary>
public sealed class WebOptions
{
    public const string Section = "SafeHaven:Web";

    /// <summary>Serve the web application at all (the API and mirrors are unaffected either way).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A session unused this long ends (sliding: each request within half of it renews it).</summary>
    public int IdleTimeoutMinutes { get; set; } = 30;

    /// <summary>When above zero, the idle timeout in seconds instead of <see cref="IdleTimeoutMinutes"/> (for tests and drills).</summary>
    public int IdleTimeoutSeconds { get; set; }

    /// <summary>The API-key sign-in form: a System Manager's break-glass when the identity provider is down.</summary>
    public bool ApiKeySignIn { get; set; } = true;

    public WebOidcOptions Oidc { get; set; } = new();

    public TimeSpan IdleTimeout => IdleTimeoutSeconds > 0 ? TimeSpan.FromSeconds(IdleTimeoutSeconds) : TimeSpan.FromMinutes(IdleTimeoutMinutes);
}

/// <summary>OpenID Connect authorization code flow with PKCE against the site's identity provider.</summary>
public sealed class WebOidcOptions
{
    /// <summary>The provider's issuer URL (its discovery document is <c>.well-known/openid-configuration</c> below it); default <c>SafeHaven:Auth:Jwt:Issuer</c>.</summary>
    public string? Authority { get; set; }

    /// <summary>The client registered for this appliance at the provider; empty turns identity-provider sign-in off.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client's secret (a confidential client); empty for a public client, which PKCE alone protects.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Space-separated scopes requested; they must make the provider put the name and roles claims in the ID token.</summary>
    public string Scopes { get; set; } = "openid profile";

    /// <summary>Refuse a provider whose metadata is not served over HTTPS (turn off only for a provider on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The callback path registered at the provider as <c>&lt;appliance URL&gt;/signin-oidc</c>.</summary>
    public string CallbackPath { get; set; } = "/signin-oidc";

    public bool Enabled => !string.IsNullOrWhiteSpace(ClientId);
}
