using System.Security.Cryptography;
using System.Text;

namespace SafeHaven.Management.Identity;

/// <summary>
/// How every secret the appliance issues (API keys, airlock deposit and release tokens) is stored: SHA-256 over a
/// per-secret random salt followed by the secret, compared in constant time. The secret itself is never stored.
/// </summary>
public static class SaltedSecret
{
    public const int SaltBytes = 16;

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(SaltBytes);

    public static byte[] Hash(byte[] salt, string secret)
    {
        var secretBytes = Encoding.ASCII.GetBytes(secret);
        var input = new byte[salt.Length + secretBytes.Length];
        salt.CopyTo(input, 0);
        secretBytes.CopyTo(input, salt.Length);
        return SHA256.HashData(input);
    }

    /// <summary>
    /// Whether <paramref name="secret"/> hashes to <paramref name="hash"/>. With no stored record (null salt or hash) a
    /// dummy comparison still runs, so timing does not reveal whether an id exists.
    /// </summary>
    public static bool Matches(byte[]? salt, byte[]? hash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Hash(salt ?? new byte[SaltBytes], secret), hash ?? new byte[32]) && salt is not null && hash is not null;
}
