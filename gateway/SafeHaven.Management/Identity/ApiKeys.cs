using System.Security.Cryptography;
using System.Text;
using SafeHaven.Management.Audit;

namespace SafeHaven.Management.Identity;

/// <summary>
/// API keys for the embedded default: <c>shk_&lt;id&gt;_&lt;secret&gt;</c>, where the secret is 32 random bytes
/// (base64url). Only the id, a per-key 16-byte salt and SHA-256(salt || secret) are stored; the key is shown once.
/// A fast hash is enough because the secret has 256 bits of entropy (nothing to guess); the comparison is
/// constant-time.
/// </summary>
public sealed class ApiKeys(IUserStore users)
{
    public const string Prefix = "shk_";

    /// <summary>Creates a key for an existing user and returns it: the only time it is ever visible.</summary>
    public async Task<(string KeyId, string Key)> CreateAsync(string user, string actor, CancellationToken cancellationToken)
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = RandomNumberGenerator.GetBytes(16);
        await users.AddApiKeyAsync(user, keyId, salt, SaltedSecret.Hash(salt, secret),
            AuditRecord.Of(actor, "user.api-key.created", user, null, ("keyId", keyId)), cancellationToken).ConfigureAwait(false);
        return (keyId, $"{Prefix}{keyId}_{secret}");
    }

    public static bool LooksLikeKey(string token) => token.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The user a key belongs to, or the reason it is refused.</summary>
    public async Task<(string? User, string? KeyId, string? Failure)> VerifyAsync(string token, CancellationToken cancellationToken)
    {
        // shk_ + 12 hex digits of id + _ + 43 base64url characters of secret (which may itself contain '_').
        if (token.Length != Prefix.Length + 12 + 1 + 43 || token[Prefix.Length + 12] != '_')
        {
            return (null, null, "malformed API key");
        }
        var keyId = token.Substring(Prefix.Length, 12);
        var secret = token[(Prefix.Length + 13)..];
        if (!keyId.All(char.IsAsciiHexDigitLower) || !secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return (null, null, "malformed API key");
        }
        var stored = await users.FindApiKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        // Hash even when the id is unknown, so timing does not tell which ids exist.
        var matches = SaltedSecret.Matches(stored?.Salt, stored?.Hash, secret);
        if (stored is null || !matches)
        {
            return (null, null, "unknown API key");
        }
        if (stored.Revoked || stored.UserDisabled)
        {
            return (null, null, "revoked API key");
        }
        return (stored.User, stored.KeyId, null);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
