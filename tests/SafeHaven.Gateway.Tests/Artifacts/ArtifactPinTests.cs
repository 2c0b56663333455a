using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Blobs;
using SafeHaven.Gateway.Artifacts;

namespace SafeHaven.Gateway.Tests.Artifacts;

public sealed class ArtifactPinTests
{
    private static BlobDigest Digest(string content) => BlobDigest.FromHash(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    private static ExpectedHash Md5(string content) => new(HashAlgorithmName.MD5, MD5.HashData(Encoding.UTF8.GetBytes(content)));

    private static ArtifactSource Source(BlobDigest? sha256, ExpectedHash? other = null) =>
        new(new Uri("http://127.0.0.1/files/pkg_1.0.tar.gz"), "pkg_1.0.tar.gz", sha256, other);

    [Fact]
    public void RoundTripsWithAndWithoutASecondHash()
    {
        var plain = new ArtifactPin(Digest("a"), null);
        var withMd5 = new ArtifactPin(Digest("a"), Md5("a"));

        Assert.Equal(plain.Sha256, ArtifactPin.Decode(plain.Encode())!.Sha256);
        Assert.Null(ArtifactPin.Decode(plain.Encode())!.Other);
        var decoded = ArtifactPin.Decode(withMd5.Encode())!;
        Assert.Equal(HashAlgorithmName.MD5, decoded.Other!.Algorithm);
        Assert.Equal(withMd5.Other!.Value, decoded.Other.Value);
        Assert.Null(ArtifactPin.Decode("not a digest"u8.ToArray()));
    }

    [Fact]
    public void AnotherSha256UnderThePinnedNameIsAReplacement()
    {
        var pin = new ArtifactPin(Digest("first"), null);

        Assert.True(pin.ContradictedBy(Source(Digest("second"))));
        Assert.False(pin.ContradictedBy(Source(Digest("first"))));
        Assert.False(pin.ContradictedBy(Source(null))); // upstream promises nothing: the pin decides
    }

    [Fact]
    public void AnotherMd5UnderThePinnedNameIsAReplacement()
    {
        var pin = new ArtifactPin(Digest("first"), Md5("first"));

        Assert.True(pin.ContradictedBy(Source(null, Md5("second"))));
        Assert.False(pin.ContradictedBy(Source(null, Md5("first"))));
        // A promise in an algorithm the pin did not record cannot be compared, so it is not called a replacement.
        Assert.False(pin.ContradictedBy(Source(null, new ExpectedHash(HashAlgorithmName.SHA512, SHA512.HashData("x"u8.ToArray())))));
    }
}
