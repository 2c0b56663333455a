using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// Whether a key in a keyring may have made a signature, judged the way gpgv judges it: the primary key needs a
/// valid self-signature and must be neither revoked nor expired now; a signing subkey needs a valid binding
/// signature from its primary with a valid back-signature (cross-certification), must be marked for signing and
/// must be neither revoked nor expired now. Only signatures that verify count (a revocation or expiry that does
/// not verify is ignored, as gpg ignores it).
/// </summary>
internal static class OpenPgpKeyStatus
{
    /// <summary>Null when usable; otherwise the reason.</summary>
    internal static (OpenPgpFailureKind Kind, string Message)? Check(PgpPublicKey primary, PgpPublicKey key, DateTime signedAtUtc, DateTime nowUtc)
    {
        var primaryFpr = OpenPgpKeyring.Hex(primary.GetFingerprint());

        if (primary.GetSignaturesOfType(PgpSignature.KeyRevocation).Any(s => IssuedBy(s, primary) && Verifies(() => { s.InitVerify(primary); return s.VerifyCertification(primary); })))
            return (OpenPgpFailureKind.RevokedKey, $"revoked key: {primaryFpr} has been revoked by its owner");

        var selfSig = LatestValidSelfSignature(primary, nowUtc);
        if (selfSig is null)
            return (OpenPgpFailureKind.UnusableKey, $"unusable key: {primaryFpr} has no valid self-signature");

        var primaryExpiry = Expiry(primary, selfSig);
        if (primaryExpiry is { } pe && nowUtc >= pe)
            return (OpenPgpFailureKind.ExpiredKey, $"expired key: {primaryFpr} expired on {pe:yyyy-MM-dd HH:mm:ss} UTC");

        if (primary.KeyId == key.KeyId && primary.GetFingerprint().AsSpan().SequenceEqual(key.GetFingerprint()))
        {
            if (!CanSign(selfSig))
                return (OpenPgpFailureKind.UnusableKey, $"unusable key: {primaryFpr} is not marked for signing");
        }
        else
        {
            var keyFpr = OpenPgpKeyring.Hex(key.GetFingerprint());
            if (key.GetSignaturesOfType(PgpSignature.SubkeyRevocation).Any(s => IssuedBy(s, primary) && Verifies(() => { s.InitVerify(primary); return s.VerifyCertification(primary, key); })))
                return (OpenPgpFailureKind.RevokedKey, $"revoked key: subkey {keyFpr} of {primaryFpr} has been revoked");

            var binding = key.GetSignaturesOfType(PgpSignature.SubkeyBinding)
                .Where(s => IssuedBy(s, primary) && s.CreationTime <= nowUtc)
                .Where(s => Verifies(() => { s.InitVerify(primary); return s.VerifyCertification(primary, key); }))
                .OrderByDescending(s => s.CreationTime)
                .FirstOrDefault();
            if (binding is null)
                return (OpenPgpFailureKind.UnusableKey, $"unusable key: subkey {keyFpr} of {primaryFpr} has no valid binding signature");
            if (!CanSign(binding))
                return (OpenPgpFailureKind.UnusableKey, $"unusable key: subkey {keyFpr} of {primaryFpr} is not marked for signing");
            if (!HasValidBackSignature(binding, primary, key))
                return (OpenPgpFailureKind.UnusableKey, $"unusable key: signing subkey {keyFpr} of {primaryFpr} is not cross-certified (no valid back-signature)");
            if (Expiry(key, binding) is { } ke && nowUtc >= ke)
                return (OpenPgpFailureKind.ExpiredKey, $"expired key: subkey {keyFpr} of {primaryFpr} expired on {ke:yyyy-MM-dd HH:mm:ss} UTC");
        }

        if (signedAtUtc < key.CreationTime)
            return (OpenPgpFailureKind.UnusableKey, $"unusable key: the signature ({signedAtUtc:yyyy-MM-dd HH:mm:ss} UTC) is older than the key that made it ({key.CreationTime:yyyy-MM-dd HH:mm:ss} UTC)");
        return null;
    }

    private static PgpSignature? LatestValidSelfSignature(PgpPublicKey primary, DateTime nowUtc)
    {
        var candidates = new List<PgpSignature>();
        foreach (var id in primary.GetUserIds())
        {
            foreach (var sig in primary.GetSignaturesForId(id))
            {
                if (!sig.IsCertification() || !IssuedBy(sig, primary) || sig.CreationTime > nowUtc)
                    continue;
                if (Verifies(() => { sig.InitVerify(primary); return sig.VerifyCertification(id, primary); }))
                    candidates.Add(sig);
            }
        }
        foreach (var sig in primary.GetSignaturesOfType(PgpSignature.DirectKey))
        {
            if (IssuedBy(sig, primary) && sig.CreationTime <= nowUtc && Verifies(() => { sig.InitVerify(primary); return sig.VerifyCertification(primary); }))
                candidates.Add(sig);
        }
        return candidates.OrderByDescending(s => s.CreationTime).FirstOrDefault();
    }

    private static bool HasValidBackSignature(PgpSignature binding, PgpPublicKey primary, PgpPublicKey subkey)
    {
        foreach (var vector in new[] { binding.GetHashedSubPackets(), binding.GetUnhashedSubPackets() })
        {
            if (vector is null)
                continue;
            PgpSignatureList embedded;
            try { embedded = vector.GetEmbeddedSignatures(); }
            catch (Exception e) when (e is PgpException or IOException) { continue; }
            for (var k = 0; k < embedded.Count; k++)
            {
                var back = embedded[k];
                if (back.SignatureType == PgpSignature.PrimaryKeyBinding &&
                    Verifies(() => { back.InitVerify(subkey); return back.VerifyCertification(primary, subkey); }))
                    return true;
            }
        }
        return false;
    }

    private static bool CanSign(PgpSignature selfSig)
    {
        var hashed = selfSig.GetHashedSubPackets();
        if (hashed is null || !hashed.HasSubpacket(SignatureSubpacketTag.KeyFlags))
            return true; // no flags: usable as the algorithm allows (gpg's rule)
        return (hashed.GetKeyFlags() & PgpKeyFlags.CanSign) != 0;
    }

    private static DateTime? Expiry(PgpPublicKey key, PgpSignature selfSig)
    {
        var seconds = selfSig.GetHashedSubPackets()?.GetKeyExpirationTime() ?? 0;
        return seconds <= 0 ? null : key.CreationTime.AddSeconds(seconds);
    }

    private static bool IssuedBy(PgpSignature sig, PgpPublicKey key) => sig.KeyId == key.KeyId;

    private static bool Verifies(Func<bool> verify)
    {
        try { return verify(); }
        catch (Exception e) when (e is PgpException or IOException or InvalidOperationException or ArgumentException) { return false; }
    }
}
