using System.Security.Cryptography;
using System.Text.Json;

namespace SafeHaven.Management.Identity;

/// <summary>One signature-verification key from a JWKS document (RSA or EC P-256/P-384/P-521).</summary>
public sealed class JsonWebKey : IDisposable
{
    private JsonWebKey(string? keyId, RSA? rsa, ECDsa? ec)
    {
        KeyId = keyId;
        Rsa = rsa;
        EC = ec;
    }

    public string? KeyId { get; }
    public RSA? Rsa { get; }
    public ECDsa? EC { get; }

    public static JsonWebKey? Parse(JsonElement key)
    {
        string? Get(string name) => key.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (Get("use") is { } use && use != "sig")
        {
            return null;
        }
        var kid = Get("kid");
        switch (Get("kty"))
        {
            case "RSA" when Get("n") is { } n && Get("e") is { } e:
                var rsa = RSA.Create();
                rsa.ImportParameters(new RSAParameters { Modulus = Base64UrlDecode(n), Exponent = Base64UrlDecode(e) });
                return new JsonWebKey(kid, rsa, null);
            case "EC" when Get("x") is { } x && Get("y") is { } y:
                var curve = Get("crv") switch
                {
                    "P-256" => ECCurve.NamedCurves.nistP256,
                    "P-384" => ECCurve.NamedCurves.nistP384,
                    "P-521" => ECCurve.NamedCurves.nistP521,
                    _ => (ECCurve?)null,
                };
                if (curve is null)
                {
                    return null;
                }
                var ec = ECDsa.Create(new ECParameters { Curve = curve.Value, Q = new ECPoint { X = Base64UrlDecode(x), Y = Base64UrlDecode(y) } });
                return new JsonWebKey(kid, null, ec);
            default:
                return null;
        }
    }

    public static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException("not base64url") };
        return Convert.FromBase64String(s);
    }

    public void Dispose()
    {
        Rsa?.Dispose();
        EC?.Dispose();
    }
}

/// <summary>The keys of a JWKS document (<c>{"keys":[...]}</c>); keys of unknown types are skipped.</summary>
public sealed class JsonWebKeySet(IReadOnlyList<JsonWebKey> keys)
{
    public static readonly JsonWebKeySet Empty = new([]);

    public IReadOnlyList<JsonWebKey> Keys { get; } = keys;

    public static JsonWebKeySet Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("A JWKS document has a \"keys\" array.");
        }
        var parsed = new List<JsonWebKey>();
        foreach (var key in keys.EnumerateArray())
        {
            try
            {
                if (JsonWebKey.Parse(key) is { } k)
                {
                    parsed.Add(k);
                }
            }
            catch (Exception e) when (e is FormatException or CryptographicException)
            {
                // A malformed key is skipped; the others still verify.
            }
        }
        return new JsonWebKeySet(parsed);
    }
}

/// <summary>Where the identity provider's signing keys come from.</summary>
public interface IJwksSource
{
    /// <summary>The current keys; <paramref name="refresh"/> asks for a re-read (an unknown <c>kid</c> was seen).</summary>
    ValueTask<JsonWebKeySet> GetAsync(bool refresh, CancellationToken cancellationToken);
}

/// <summary>A JWKS file on disk, re-read when its modification time changes.</summary>
public sealed class FileJwksSource(string path) : IJwksSource
{
    private (DateTime Modified, JsonWebKeySet Keys)? _cache;

    public async ValueTask<JsonWebKeySet> GetAsync(bool refresh, CancellationToken cancellationToken)
    {
        var modified = File.GetLastWriteTimeUtc(path);
        var cache = _cache;
        if (cache is { } c && c.Modified == modified)
        {
            return c.Keys;
        }
        var keys = JsonWebKeySet.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
        _cache = (modified, keys);
        return keys;
    }
}

/// <summary>The identity provider's JWKS URL, cached; re-fetched when stale or (at most once a minute) on an unknown key id.</summary>
public sealed class UrlJwksSource(HttpClient http, Uri url, TimeSpan refreshEvery, TimeProvider time) : IJwksSource
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset FetchedAt, JsonWebKeySet Keys)? _cache;

    public async ValueTask<JsonWebKeySet> GetAsync(bool refresh, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache is { } c && (now - c.FetchedAt < refreshEvery) && (!refresh || now - c.FetchedAt < TimeSpan.FromMinutes(1)))
        {
            return c.Keys;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var response = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var keys = JsonWebKeySet.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            _cache = (now, keys);
            return keys;
        }
        catch (Exception e) when (e is HttpRequestException or FormatException or JsonException && _cache is not null)
        {
            return _cache!.Value.Keys;
        }
        finally
        {
            _gate.Release();
        }
    }
}
