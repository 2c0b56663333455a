using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SafeHaven.Management.Identity;

/// <summary>A verified token's claims, or why it was refused.</summary>
public sealed record JwtValidationResult(JsonElement? Claims, string? Failure)
{
    public static JwtValidationResult Fail(string reason) => new(null, reason);
}

/// <summary>
/// Validates compact JWS bearer tokens (RS256/384/512, PS256/384/512, ES256/384/512) against the identity provider's
/// JWKS, issuer, audience and lifetime. Written here because Microsoft.AspNetCore.Authentication.JwtBearer does not
/// restore from the registry this project builds from (its Microsoft.IdentityModel dependencies are missing). Refuses
/// <c>alg: none</c>, HMAC algorithms (a public key must never be usable as a shared secret) and <c>crit</c> headers.
/// </summary>
public sealed class JwtValidator(JwtOptions options, IJwksSource keys, TimeProvider time)
{
    public async Task<JwtValidationResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0) || token.Length > 16 * 1024)
        {
            return JwtValidationResult.Fail("malformed token");
        }
        JsonElement header, payload;
        byte[] signature;
        try
        {
            header = JsonSerializer.Deserialize<JsonElement>(JsonWebKey.Base64UrlDecode(parts[0]));
            payload = JsonSerializer.Deserialize<JsonElement>(JsonWebKey.Base64UrlDecode(parts[1]));
            signature = JsonWebKey.Base64UrlDecode(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return JwtValidationResult.Fail("malformed token");
        }
        if (header.ValueKind != JsonValueKind.Object || payload.ValueKind != JsonValueKind.Object)
        {
            return JwtValidationResult.Fail("malformed token");
        }
        if (header.TryGetProperty("crit", out _))
        {
            return JwtValidationResult.Fail("token has critical header extensions");
        }
        var alg = header.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        if (alg is null || Algorithm(alg) is not { } algorithm)
        {
            return JwtValidationResult.Fail($"token algorithm '{alg}' is not accepted");
        }
        var kid = header.TryGetProperty("kid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);

        var verified = Verify(await keys.GetAsync(false, cancellationToken).ConfigureAwait(false), kid, algorithm, signed, signature);
        if (verified is null)
        {
            verified = Verify(await keys.GetAsync(true, cancellationToken).ConfigureAwait(false), kid, algorithm, signed, signature);
        }
        if (verified is not true)
        {
            return JwtValidationResult.Fail("token signature is not valid for any key of the identity provider");
        }

        if (!payload.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || iss.GetString() != options.Issuer)
        {
            return JwtValidationResult.Fail("token issuer is not accepted");
        }
        if (!string.IsNullOrEmpty(options.Audience) && !HasAudience(payload, options.Audience))
        {
            return JwtValidationResult.Fail("token audience is not accepted");
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var skew = options.ClockSkewSeconds;
        if (!payload.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number || !exp.TryGetInt64(out var expires))
        {
            return JwtValidationResult.Fail("token has no expiry");
        }
        if (now > expires + skew)
        {
            return JwtValidationResult.Fail("token has expired");
        }
        if (payload.TryGetProperty("nbf", out var nbf) && nbf.ValueKind == JsonValueKind.Number && nbf.TryGetInt64(out var notBefore) && now < notBefore - skew)
        {
            return JwtValidationResult.Fail("token is not valid yet");
        }
        return new JwtValidationResult(payload.Clone(), null);
    }

    private static bool HasAudience(JsonElement payload, string audience)
    {
        if (!payload.TryGetProperty("aud", out var aud))
        {
            return false;
        }
        return aud.ValueKind switch
        {
            JsonValueKind.String => aud.GetString() == audience,
            JsonValueKind.Array => aud.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.String && v.GetString() == audience),
            _ => false,
        };
    }

    private sealed record SignatureAlgorithm(string Family, HashAlgorithmName Hash, RSASignaturePadding? Padding);

    private static SignatureAlgorithm? Algorithm(string alg) => alg switch
    {
        "RS256" => new("RSA", HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        "RS384" => new("RSA", HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
        "RS512" => new("RSA", HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
        "PS256" => new("RSA", HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        "PS384" => new("RSA", HashAlgorithmName.SHA384, RSASignaturePadding.Pss),
        "PS512" => new("RSA", HashAlgorithmName.SHA512, RSASignaturePadding.Pss),
        "ES256" => new("EC", HashAlgorithmName.SHA256, null),
        "ES384" => new("EC", HashAlgorithmName.SHA384, null),
        "ES512" => new("EC", HashAlgorithmName.SHA512, null),
        _ => null,
    };

    /// <summary>True: a key verified it; false: candidate keys exist and none verified; null: no candidate key.</summary>
    private static bool? Verify(JsonWebKeySet set, string? kid, SignatureAlgorithm algorithm, byte[] signed, byte[] signature)
    {
        var candidates = set.Keys.Where(key => (kid is null || key.KeyId == kid)
            && (algorithm.Family == "RSA" ? key.Rsa is not null : key.EC is not null)).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }
        foreach (var key in candidates)
        {
            try
            {
                var ok = algorithm.Family == "RSA"
                    ? key.Rsa!.VerifyData(signed, signature, algorithm.Hash, algorithm.Padding!)
                    : key.EC!.VerifyData(signed, signature, algorithm.Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                if (ok)
                {
                    return true;
                }
            }
            catch (CryptographicException)
            {
            }
        }
        return false;
    }
}
