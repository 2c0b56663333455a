using System.Net;
using SafeHaven.Management.Audit;
using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Identity;

/// <summary>The outcome of a break-glass sign-in: the caller, or the reason shown to the person (and how long to wait).</summary>
public sealed record ApiKeySignInResult(Caller? Caller, string? Failure, TimeSpan? RetryAfter = null);

/// <summary>
/// A System Manager's break-glass sign-in with an API key, for when the identity provider is down: the key is checked
/// exactly as the API checks it (<see cref="ApiKeys"/>), refused keys spend the same per-address and per-key budget
/// (<see cref="AuthThrottle"/>, shared with the API, so the form is no way around it), and every attempt is written to
/// the audit log. Only a System Manager may sign in this way; everyone else signs in through the identity provider.
/// </summary>
public sealed class ApiKeySignIn(ApiKeys apiKeys, AuthThrottle throttle, IdentityProviderCallers callers, IAuditLog audit, Microsoft.Extensions.Options.IOptions<AuthOptions> auth)
{
    public async Task<ApiKeySignInResult> SignInAsync(string? key, IPAddress? remote, CancellationToken cancellationToken)
    {
        key = key?.Trim() ?? "";
        var partitions = AuthThrottle.PartitionsOf(remote, key);
        if (throttle.Refusing(partitions) is { } wait)
        {
            throttle.Refused(partitions, wait);
            return new ApiKeySignInResult(null, "Too many refused sign-ins from this address or for this key. Try again later.", wait);
        }
        var failure = await CheckAsync(key, cancellationToken).ConfigureAwait(false);
        if (failure.Caller is not null)
        {
            await audit.AppendAsync(AuditRecord.Of(failure.Caller.Name, "web.signed-in", failure.Caller.Name, null,
                ("method", "api-key"), ("keyId", failure.Caller.AuthenticatedBy["api-key:".Length..])), cancellationToken).ConfigureAwait(false);
            return failure;
        }
        var retry = throttle.Failed(partitions, failure.Failure ?? "refused");
        await audit.AppendAsync(AuditRecord.Of("web:anonymous", "web.sign-in-refused", "api-key", null,
            ("reason", failure.Failure), ("address", remote?.ToString())), cancellationToken).ConfigureAwait(false);
        return failure with { RetryAfter = retry };
    }

    private async Task<ApiKeySignInResult> CheckAsync(string key, CancellationToken cancellationToken)
    {
        if (!auth.Value.ApiKeys.Enabled)
        {
            return new ApiKeySignInResult(null, "API keys are disabled on this appliance.");
        }
        if (!ApiKeys.LooksLikeKey(key))
        {
            return new ApiKeySignInResult(null, $"That is not an API key (they start with {ApiKeys.Prefix}).");
        }
        var (user, keyId, failure) = await apiKeys.VerifyAsync(key, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return new ApiKeySignInResult(null, $"The key was refused: {failure}.");
        }
        var (caller, refused) = await callers.ResolveAsync(user, [], $"api-key:{keyId}", cancellationToken).ConfigureAwait(false);
        if (caller is null)
        {
            return new ApiKeySignInResult(null, $"The key was refused: {refused}.");
        }
        if (!caller.Has(Role.SystemManager))
        {
            return new ApiKeySignInResult(null, "Only a System Manager may sign in with an API key; sign in through your identity provider.");
        }
        return new ApiKeySignInResult(caller, null);
    }
}
