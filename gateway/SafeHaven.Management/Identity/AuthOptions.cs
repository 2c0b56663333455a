namespace SafeHaven.Management.Identity;

/// <summary>The <c>SafeHaven:Auth</c> section: how callers of <c>/api/</c> prove who they are.</summary>
public sealed class AuthOptions
{
    public const string Section = "SafeHaven:Auth";

    /// <summary>API keys made by <c>safehaven users add</c> (the embedded default).</summary>
    public ApiKeyOptions ApiKeys { get; set; } = new();

    /// <summary>OIDC/JWT bearer tokens from the institution's identity provider; on when <c>Issuer</c> is set.</summary>
    public JwtOptions Jwt { get; set; } = new();

    /// <summary>Rate limit on failed authentication, per client address and per API key id.</summary>
    public ThrottleOptions Throttle { get; set; } = new();

    /// <summary>Largest request body the management API reads.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;
}

public sealed class ApiKeyOptions
{
    public bool Enabled { get; set; } = true;
}

public sealed class ThrottleOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Refused credentials allowed per window, per client address and per API key id; then 429.</summary>
    public int MaxFailures { get; set; } = 10;

    public int WindowSeconds { get; set; } = 60;
}

public sealed class JwtOptions
{
    /// <summary>The <c>iss</c> every token must carry; empty turns JWT authentication off.</summary>
    public string? Issuer { get; set; }

    /// <summary>A value the token's <c>aud</c> must contain.</summary>
    public string? Audience { get; set; }

    /// <summary>A JWKS document on disk (re-read when it changes).</summary>
    public string? JwksFile { get; set; }

    /// <summary>The identity provider's JWKS URL (fetched on start, refreshed every <see cref="JwksRefreshMinutes"/>).</summary>
    public string? JwksUrl { get; set; }

    public int JwksRefreshMinutes { get; set; } = 10;

    /// <summary>Claim naming the person (falls back to <c>sub</c>).</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>Claim (string or array) holding roles: <c>SystemManager</c>, <c>ProgrammeManager</c> or <c>project/Role</c>.</summary>
    public string RolesClaim { get; set; } = "roles";

    /// <summary>Identity-provider values (group names) translated to the role values above before parsing.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.Ordinal);

    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>
    /// User names whose identity-provider tokens are the same person as the API-key user of that name (and so hold
    /// the roles the store gives that user). Any other token naming a user who has API keys is refused: identity-
    /// provider users and API-key users are separate identities unless linked here.
    /// </summary>
    public List<string> LinkedUsers { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer);
}
