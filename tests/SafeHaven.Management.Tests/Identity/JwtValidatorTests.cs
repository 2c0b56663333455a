using System.Security.Cryptography;
using System.Text;
using SafeHaven.Management.Identity;
using SafeHaven.Management.Tests.Support;

namespace SafeHaven.Management.Tests.Identity;

public sealed class JwtValidatorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("safehaven-jwt-").FullName;
    private readonly TestIdentityProvider _idp;
    private readonly JwtValidator _validator;

    public JwtValidatorTests()
    {
        _idp = new TestIdentityProvider(_directory);
        _validator = new JwtValidator(new JwtOptions { Issuer = TestIdentityProvider.Issuer, Audience = TestIdentityProvider.Audience },
            new FileJwksSource(_idp.JwksFile), TimeProvider.System);
    }

    private Task<JwtValidationResult> Validate(string token) => _validator.ValidateAsync(token, CancellationToken.None);

    [Fact]
    public async Task A_token_from_the_identity_provider_is_accepted_with_its_claims()
    {
        var result = await Validate(_idp.Token("alice", ["a/Investigator"]));

        Assert.Null(result.Failure);
        Assert.Equal("alice", result.Claims!.Value.GetProperty("preferred_username").GetString());
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("issuer")]
    [InlineData("audience")]
    [InlineData("other-key")]
    [InlineData("tampered")]
    [InlineData("none")]
    [InlineData("hs256")]
    [InlineData("not-yet")]
    [InlineData("no-exp")]
    [InlineData("garbage")]
    public async Task Bad_tokens_are_refused(string what)
    {
        using var other = RSA.Create(2048);
        var good = _idp.Token("alice", ["SystemManager"]);
        var token = what switch
        {
            "expired" => _idp.Token("alice", ["SystemManager"], lifetime: TimeSpan.FromMinutes(-5)),
            "issuer" => _idp.Token("alice", ["SystemManager"], issuer: "https://elsewhere.invalid"),
            "audience" => _idp.Token("alice", ["SystemManager"], audience: "another-service"),
            "other-key" => _idp.Token("alice", ["SystemManager"], signWith: other),
            "tampered" => Tamper(good),
            "none" => TestIdentityProvider.B64(Encoding.UTF8.GetBytes("""{"alg":"none"}""")) + "." + good.Split('.')[1] + ".x",
            "hs256" => Hs256(good),
            "not-yet" => TestIdentityProvider.Sign(new { alg = "RS256", kid = "k1" }, new { iss = TestIdentityProvider.Issuer, aud = TestIdentityProvider.Audience, preferred_username = "alice",
                nbf = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), exp = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeSeconds() }, PrivateKey()),
            "no-exp" => TestIdentityProvider.Sign(new { alg = "RS256", kid = "k1" }, new { iss = TestIdentityProvider.Issuer, aud = TestIdentityProvider.Audience, preferred_username = "alice" }, PrivateKey()),
            _ => "a.b.c",
        };

        var result = await Validate(token);

        Assert.NotNull(result.Failure);
        Assert.Null(result.Claims);
    }

    [Fact]
    public async Task An_ES256_token_verifies_against_an_EC_key_in_the_JWKS()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(false);
        var jwks = Path.Combine(_directory, "ec.json");
        await File.WriteAllTextAsync(jwks, System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { new { kty = "EC", crv = "P-256", kid = "e1", x = TestIdentityProvider.B64(p.Q.X!), y = TestIdentityProvider.B64(p.Q.Y!) } } }));
        var validator = new JwtValidator(new JwtOptions { Issuer = "i", Audience = "a" }, new FileJwksSource(jwks), TimeProvider.System);
        var signed = TestIdentityProvider.B64(Encoding.UTF8.GetBytes("""{"alg":"ES256","kid":"e1"}""")) + "." +
            TestIdentityProvider.B64(Encoding.UTF8.GetBytes($$"""{"iss":"i","aud":["x","a"],"exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}},"sub":"bob"}"""));
        var token = signed + "." + TestIdentityProvider.B64(ec.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256));

        var result = await validator.ValidateAsync(token, CancellationToken.None);

        Assert.Null(result.Failure);
    }

    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(JsonWebKey.Base64UrlDecode(parts[1])).Replace("alice", "mallo", StringComparison.Ordinal);
        return parts[0] + "." + TestIdentityProvider.B64(Encoding.UTF8.GetBytes(payload)) + "." + parts[2];
    }

    /// <summary>The classic confusion attack: HMAC "signed" with the public key's bytes.</summary>
    private string Hs256(string token)
    {
        var parts = token.Split('.');
        var header = TestIdentityProvider.B64(Encoding.UTF8.GetBytes("""{"alg":"HS256","kid":"k1"}"""));
        var mac = HMACSHA256.HashData(File.ReadAllBytes(_idp.JwksFile), Encoding.ASCII.GetBytes(header + "." + parts[1]));
        return header + "." + parts[1] + "." + TestIdentityProvider.B64(mac);
    }

    private RSA PrivateKey() => (RSA)typeof(TestIdentityProvider).GetField("_key", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(_idp)!;

    public void Dispose()
    {
        _idp.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
