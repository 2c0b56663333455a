using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SafeHaven.Management.Tests.Support;

/// <summary>An identity provider made in-process: an RSA key, its JWKS file, and tokens signed with it.</summary>
public sealed class TestIdentityProvider : IDisposable
{
    public const string Issuer = "https://idp.test.invalid/realms/safehaven";
    public const string Audience = "safehaven-appliance";

    private readonly RSA _key = RSA.Create(2048);

    public TestIdentityProvider(string directory, string keyId = "k1")
    {
        KeyId = keyId;
        JwksFile = Path.Combine(directory, "jwks.json");
        var p = _key.ExportParameters(false);
        File.WriteAllText(JwksFile, JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = keyId, n = B64(p.Modulus!), e = B64(p.Exponent!) } },
        }));
    }

    public string KeyId { get; }
    public string JwksFile { get; }

    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["SafeHaven:Auth:Jwt:Issuer"] = Issuer,
        ["SafeHaven:Auth:Jwt:Audience"] = Audience,
        ["SafeHaven:Auth:Jwt:JwksFile"] = JwksFile,
    };

    /// <summary>A token for <paramref name="user"/> with role claims (<c>SystemManager</c> or <c>project/Role</c>).</summary>
    public string Token(string user, IEnumerable<string> roles, TimeSpan? lifetime = null, string? issuer = null, string? audience = null, RSA? signWith = null)
    {
        var now = DateTimeOffset.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        var payload = new Dictionary<string, object>
        {
            ["iss"] = issuer ?? Issuer,
            ["aud"] = audience ?? Audience,
            ["sub"] = "sub-" + user,
            ["preferred_username"] = user,
            ["roles"] = roles.ToArray(),
            ["iat"] = Math.Min(now.ToUnixTimeSeconds(), expires.ToUnixTimeSeconds() - 60),
            ["exp"] = expires.ToUnixTimeSeconds(),
        };
        return Sign(new { alg = "RS256", typ = "JWT", kid = KeyId }, payload, signWith ?? _key);
    }

    public static string Sign(object header, object payload, RSA key)
    {
        var signed = B64(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + B64(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signed + "." + B64(signature);
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => _key.Dispose();
}
