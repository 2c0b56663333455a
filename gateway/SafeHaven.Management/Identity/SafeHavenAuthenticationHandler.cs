using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SafeHaven.Management.Identity;

public sealed class SafeHavenAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>
/// <c>Authorization: Bearer</c> on <c>/api/</c>: an API key (<c>shk_...</c>) or an identity provider's JWT. The roles
/// are the token's claims (JWT) together with the roles the management store holds for the same user name. A token
/// naming a user who has API keys is refused unless that name is linked (<see cref="JwtOptions.LinkedUsers"/>), so an
/// identity-provider account never inherits an API-key user's roles by sharing a name. Refused credentials are
/// throttled per client address and key id (<see cref="AuthThrottle"/>): 429 with <c>Retry-After</c>. Requests
/// outside <c>/api/</c> are never authenticated (the package mirrors are anonymous reads, and must never answer 401).
/// Challenges and refusals answer RFC 7807 problem details.
/// </summary>
public sealed partial class SafeHavenAuthenticationHandler(
    IOptionsMonitor<SafeHavenAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeys apiKeys, IOptions<AuthOptions> auth, AuthThrottle throttle, IdentityProviderCallers callers, JwtValidator? jwt = null)
    : AuthenticationHandler<SafeHavenAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "SafeHaven";

    private TimeSpan? _retryAfter;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var partitions = AuthThrottle.PartitionsOf(Context.Connection.RemoteIpAddress, bearer);
        if (throttle.Refusing(partitions) is { } wait)
        {
            _retryAfter = wait;
            throttle.Refused(partitions, wait);
            return AuthenticateResult.Fail("too many failed authentications from this address or for this key; try again later");
        }
        var result = await AuthenticateCoreAsync(header).ConfigureAwait(false);
        if (result.Failure is { } failure && throttle.Failed(partitions, failure.Message) is { } crossed)
        {
            _retryAfter = crossed;
        }
        return result;
    }

    private async Task<AuthenticateResult> AuthenticateCoreAsync(string header)
    {
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("only Bearer credentials are accepted");
        }
        var token = header["Bearer ".Length..].Trim();
        var cancellationToken = Context.RequestAborted;
        if (ApiKeys.LooksLikeKey(token))
        {
            if (!auth.Value.ApiKeys.Enabled)
            {
                return AuthenticateResult.Fail("API keys are disabled on this appliance");
            }
            var (user, keyId, failure) = await apiKeys.VerifyAsync(token, cancellationToken).ConfigureAwait(false);
            if (user is null)
            {
                return AuthenticateResult.Fail(failure ?? "invalid API key");
            }
            return await SucceedAsync(user, [], $"api-key:{keyId}", cancellationToken).ConfigureAwait(false);
        }
        if (jwt is null)
        {
            return AuthenticateResult.Fail("bearer tokens from an identity provider are not configured (SafeHaven:Auth:Jwt)");
        }
        var result = await jwt.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
        if (result.Claims is not { } claims)
        {
            return AuthenticateResult.Fail(result.Failure ?? "invalid token");
        }
        var issuer = auth.Value.Jwt.Issuer!;
        var (name, roleValues, refused) = await callers.IdentifyAsync(claims, issuer, cancellationToken).ConfigureAwait(false);
        if (name is null)
        {
            return AuthenticateResult.Fail(refused ?? "invalid token");
        }
        return await SucceedAsync(name, roleValues, $"jwt:{issuer}", cancellationToken).ConfigureAwait(false);
    }

    private async Task<AuthenticateResult> SucceedAsync(string name, IReadOnlyList<string> roleValues, string by, CancellationToken cancellationToken)
    {
        var (caller, failure) = await callers.ResolveAsync(name, roleValues, by, cancellationToken).ConfigureAwait(false);
        return caller is null
            ? AuthenticateResult.Fail(failure ?? "refused")
            : AuthenticateResult.Success(new AuthenticationTicket(caller.ToPrincipal(SchemeName), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure?.Message;
        if (_retryAfter is { } retryAfter)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Problems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "Too many failed authentications",
                $"Too many refused credentials from this address or for this API key; try again in {seconds} s.").ConfigureAwait(false);
            return;
        }
        if (failure is not null)
        {
            Log.CredentialsRefused(Logger, Request.Method, Request.Path, failure);
        }
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : $"Bearer error=\"invalid_token\"";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Authentication required",
            failure is null ? "Send a bearer token: an API key from 'safehaven users add' or a token from the identity provider." : $"The credentials were refused: {failure}.").ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Log.Forbidden(Logger, Request.Method, Request.Path, Context.User.Identity?.Name);
        return Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Not allowed",
            $"{Context.User.Identity?.Name} does not hold a role that may do this.");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Refused credentials on {Method} {Path}: {Failure}")]
        public static partial void CredentialsRefused(ILogger logger, string method, string path, string failure);

        [LoggerMessage(2, LogLevel.Warning, "Refused {Method} {Path} for {User}: no role that may do this")]
        public static partial void Forbidden(ILogger logger, string method, string path, string? user);
    }
}
