namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// The outcome of checking an OpenPGP signature against a keyring. <see cref="Valid"/> is true only when a
/// signature by a usable key in the keyring verifies; otherwise <see cref="Failure"/> says why in plain words and
/// <see cref="Kind"/> names the reason for code that maps it (to a problem detail, a health entry).
/// </summary>
/// <param name="Valid">The signature verifies and the key that made it is usable.</param>
/// <param name="SignerFingerprint">Fingerprint (uppercase hex) of the <b>primary</b> key whose key (or signing
/// subkey) made the valid signature, as listed by <see cref="OpenPgpKeyring.Fingerprints"/>; null when invalid.</param>
/// <param name="SignedAt">The signature's creation time; null when invalid.</param>
/// <param name="Failure">Why the signature is refused; null when valid.</param>
public sealed record OpenPgpVerification(bool Valid, string? SignerFingerprint, DateTimeOffset? SignedAt, string? Failure)
{
    /// <summary>The reason for a refusal; null when valid.</summary>
    public OpenPgpFailureKind? Kind { get; init; }

    /// <summary>Fingerprint of the key that actually made the signature (a subkey, or the primary itself); null when invalid.</summary>
    public string? SigningKeyFingerprint { get; init; }

    internal static OpenPgpVerification Refused(OpenPgpFailureKind kind, string failure) =>
        new(false, null, null, failure) { Kind = kind };
}

/// <summary>Why a signature was refused.</summary>
public enum OpenPgpFailureKind
{
    /// <summary>No signature at all, or not the expected OpenPGP structure (not cleartext-signed, not a detached signature).</summary>
    NoSignature,
    /// <summary>The file is not well formed (armour, dash-escaping, headers, packets).</summary>
    Malformed,
    /// <summary>Data outside the signed part (before the cleartext header or after the signature).</summary>
    TrailingData,
    /// <summary>Signed by a key that is not in the keyring.</summary>
    UnknownKey,
    /// <summary>The signature does not match the data.</summary>
    BadSignature,
    /// <summary>The digest is too weak (MD5, SHA-1, RIPEMD-160) or unknown.</summary>
    WeakDigest,
    /// <summary>The signing key (or its primary) has expired.</summary>
    ExpiredKey,
    /// <summary>The signing key (or its primary) is revoked.</summary>
    RevokedKey,
    /// <summary>The signature itself has expired (its own expiration time has passed).</summary>
    ExpiredSignature,
    /// <summary>The key is not fit to sign: no valid self-signature or binding, no signing capability, a signature older than its key, or an expired signature.</summary>
    UnusableKey,
    /// <summary>Several signatures, none of them valid (the message lists each reason).</summary>
    NoValidSignature,
}
