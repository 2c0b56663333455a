using System.Security.Cryptography;

namespace SafeHaven.Core.Blobs;

/// <summary>A SHA-256 digest, the address of a blob. Always lower-case hex.</summary>
public readonly record struct BlobDigest
{
    private BlobDigest(string hex) => Hex = hex;

    public string Hex { get; }

    public static BlobDigest Parse(string hex) =>
        TryParse(hex, out var digest) ? digest : throw new FormatException($"'{hex}' is not a SHA-256 hex digest.");

    public static bool TryParse(string? hex, out BlobDigest digest)
    {
        digest = default;
        if (hex is null || hex.Length != 64)
        {
            return false;
        }
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        digest = new BlobDigest(hex.ToLowerInvariant());
        return true;
    }

    public static BlobDigest FromHash(ReadOnlySpan<byte> sha256) => new(Convert.ToHexStringLower(sha256));

    public static BlobDigest Compute(ReadOnlySpan<byte> content) => FromHash(SHA256.HashData(content));

    public override string ToString() => Hex;
}

/// <summary>Thrown when stored content does not hash to what its source promised.</summary>
public sealed class BlobDigestMismatchException(BlobDigest expected, BlobDigest actual)
    : Exception($"SHA-256 mismatch: expected {expected}, got {actual}.")
{
    public BlobDigest Expected { get; } = expected;
    public BlobDigest Actual { get; } = actual;
}
