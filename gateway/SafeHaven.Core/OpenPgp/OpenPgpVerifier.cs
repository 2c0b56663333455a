using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// Verifies OpenPGP signatures against a keyring, refusing what gpgv (as apt runs it) would refuse and a little
/// more: weak digests (MD5, SHA-1, RIPEMD-160), expired or revoked keys, signing subkeys without a valid binding
/// and back-signature, and any data outside the signed part. When several signatures are present (Debian signs
/// each <c>InRelease</c> with two or three keys), one valid signature suffices, as with apt, unless another
/// signature by a key in the keyring is cryptographically bad, which refuses the whole file (apt's BADSIG rule).
/// </summary>
public static class OpenPgpVerifier
{
    /// <summary>An <c>InRelease</c> is a few hundred KB at most; anything larger is refused rather than read whole.</summary>
    internal const int MaxClearSignedBytes = 64 * 1024 * 1024;
    internal const int MaxSignatureBytes = 1024 * 1024;
    private const int Chunk = 81920;

    /// <summary>
    /// Verifies a cleartext-signed message (an <c>InRelease</c> file) and returns its signed text only when a
    /// signature verifies. The text is exactly what the signature covers: dash-unescaped, the lines joined by
    /// <c>\n</c> with no line break after the last line (RFC 4880 7.1: the line ending before the signature armour
    /// is not part of the signed text, so apt's own split drops it too), and trailing spaces and tabs removed from
    /// each line (the signature does not cover them; gpgv's output drops them too).
    /// </summary>
    public static Task<(OpenPgpVerification Result, string? SignedText)> VerifyClearSignedAsync(
        Stream inRelease, OpenPgpKeyring keyring, CancellationToken ct) =>
        VerifyClearSignedAsync(inRelease, keyring, TimeProvider.System, ct);

    /// <summary>As <see cref="VerifyClearSignedAsync(Stream, OpenPgpKeyring, CancellationToken)"/>, judging expiry at <paramref name="time"/>'s now.</summary>
    public static async Task<(OpenPgpVerification Result, string? SignedText)> VerifyClearSignedAsync(
        Stream inRelease, OpenPgpKeyring keyring, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(inRelease);
        ArgumentNullException.ThrowIfNull(keyring);
        ArgumentNullException.ThrowIfNull(time);
        byte[] bytes;
        try
        {
            bytes = await OpenPgpKeyring.ReadBoundedAsync(inRelease, MaxClearSignedBytes, "the cleartext-signed message", ct).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            return (OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, e.Message), null);
        }

        var parsed = ClearSignedMessage.Parse(bytes);
        if (parsed.Failure is { } failure)
            return (failure, null);
        var message = parsed.Message!;

        var signatures = ReadSignatures(message.SignatureBlock, armoured: true, out var sigFailure);
        if (sigFailure is not null)
            return (sigFailure, null);

        foreach (var sig in signatures)
        {
            if (sig.SignatureType != PgpSignature.CanonicalTextDocument)
                return (OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed,
                    $"malformed: a cleartext signature must be a canonical-text signature (type 0x01), not type 0x{sig.SignatureType:X2}"), null);
            if (message.HashHeader is { } allowed && !allowed.Contains(DigestName(sig.HashAlgorithm), StringComparer.OrdinalIgnoreCase))
                return (OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed,
                    $"malformed: the signature uses {DigestName(sig.HashAlgorithm)} but the 'Hash:' armour header names {string.Join(", ", allowed)}"), null);
        }

        var result = Verify(signatures, keyring, time.GetUtcNow().UtcDateTime, update =>
        {
            update(message.CanonicalText, 0, message.CanonicalText.Length);
            return Task.CompletedTask;
        }, ct);
        var verification = await result.ConfigureAwait(false);
        if (!verification.Valid)
            return (verification, null);

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(message.Text);
        }
        catch (DecoderFallbackException)
        {
            return (OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, "malformed: the signed text is not valid UTF-8"), null);
        }
        return (verification, text);
    }

    /// <summary>
    /// Verifies a detached signature (binary or ASCII-armoured, such as <c>Release.gpg</c>) over the exact bytes of
    /// <paramref name="data"/>, which is streamed (it may be gigabytes).
    /// </summary>
    public static Task<OpenPgpVerification> VerifyDetachedAsync(Stream data, Stream signature, OpenPgpKeyring keyring, CancellationToken ct) =>
        VerifyDetachedAsync(data, signature, keyring, TimeProvider.System, ct);

    /// <summary>As <see cref="VerifyDetachedAsync(Stream, Stream, OpenPgpKeyring, CancellationToken)"/>, judging expiry at <paramref name="time"/>'s now.</summary>
    public static async Task<OpenPgpVerification> VerifyDetachedAsync(Stream data, Stream signature, OpenPgpKeyring keyring, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(keyring);
        ArgumentNullException.ThrowIfNull(time);
        byte[] sigBytes;
        try
        {
            sigBytes = await OpenPgpKeyring.ReadBoundedAsync(signature, MaxSignatureBytes, "the detached signature", ct).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            return OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, e.Message);
        }

        var start = 0;
        while (start < sigBytes.Length && OpenPgpKeyring.IsWhitespace(sigBytes[start]))
            start++;
        if (start == sigBytes.Length)
            return OpenPgpVerification.Refused(OpenPgpFailureKind.NoSignature, "no signature: the signature file is empty");

        IReadOnlyList<PgpSignature> signatures;
        OpenPgpVerification? failure;
        if (sigBytes[start] == (byte)'-')
        {
            var block = ClearSignedMessage.ExtractArmouredSignature(sigBytes, start, out failure);
            if (failure is not null)
                return failure;
            signatures = ReadSignatures(block!, armoured: true, out failure);
        }
        else
        {
            signatures = ReadSignatures(sigBytes, armoured: false, out failure);
        }
        if (failure is not null)
            return failure;

        foreach (var sig in signatures)
        {
            if (sig.SignatureType is not (PgpSignature.BinaryDocument or PgpSignature.CanonicalTextDocument))
                return OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed,
                    $"malformed: a detached signature must be a document signature (type 0x00 or 0x01), not type 0x{sig.SignatureType:X2}");
        }

        return await Verify(signatures, keyring, time.GetUtcNow().UtcDateTime, async update =>
        {
            var buffer = new byte[Chunk];
            int read;
            while ((read = await data.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                update(buffer, 0, read);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Digests refused outright (gpg and apt treat them as weak or broken).</summary>
    private static bool IsStrongDigest(HashAlgorithmTag tag) => tag is HashAlgorithmTag.Sha224 or HashAlgorithmTag.Sha256
        or HashAlgorithmTag.Sha384 or HashAlgorithmTag.Sha512 or HashAlgorithmTag.Sha3_256 or HashAlgorithmTag.Sha3_512;

    internal static string DigestName(HashAlgorithmTag tag) => tag switch
    {
        HashAlgorithmTag.MD5 => "MD5",
        HashAlgorithmTag.Sha1 => "SHA1",
        HashAlgorithmTag.RipeMD160 => "RIPEMD160",
        HashAlgorithmTag.Sha224 => "SHA224",
        HashAlgorithmTag.Sha256 => "SHA256",
        HashAlgorithmTag.Sha384 => "SHA384",
        HashAlgorithmTag.Sha512 => "SHA512",
        HashAlgorithmTag.Sha3_256 => "SHA3-256",
        HashAlgorithmTag.Sha3_512 => "SHA3-512",
        _ => $"digest #{(int)tag}",
    };

    private static IReadOnlyList<PgpSignature> ReadSignatures(byte[] bytes, bool armoured, out OpenPgpVerification? failure)
    {
        var signatures = new List<PgpSignature>();
        failure = null;
        try
        {
            Stream input = new MemoryStream(bytes, writable: false);
            if (armoured)
                input = new ArmoredInputStream(input);
            else if ((bytes[0] & 0x80) == 0)
            {
                failure = OpenPgpVerification.Refused(OpenPgpFailureKind.NoSignature,
                    $"no signature: neither ASCII armour nor an OpenPGP packet (first byte 0x{bytes[0]:X2})");
                return signatures;
            }
            var factory = new PgpObjectFactory(input);
            object? next;
            while ((next = factory.NextPgpObject()) is not null)
            {
                if (next is PgpSignatureList list)
                {
                    for (var k = 0; k < list.Count; k++)
                        signatures.Add(list[k]);
                }
                else if (next is not PgpMarker)
                {
                    failure = OpenPgpVerification.Refused(OpenPgpFailureKind.NoSignature,
                        $"no signature: found a {OpenPgpKeyring.Describe(next)} where only signature packets belong");
                    return signatures;
                }
            }
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or FormatException or InvalidOperationException)
        {
            failure = OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, $"malformed: the signature packets cannot be read ({e.Message})");
            return signatures;
        }
        if (signatures.Count == 0)
            failure = OpenPgpVerification.Refused(OpenPgpFailureKind.NoSignature, "no signature: the signature block holds no signature packet");
        return signatures;
    }

    private sealed record Candidate(PgpSignature Signature, PgpPublicKey Primary, PgpPublicKey Key);

    private static async Task<OpenPgpVerification> Verify(
        IReadOnlyList<PgpSignature> signatures, OpenPgpKeyring keyring, DateTime nowUtc,
        Func<Action<byte[], int, int>, Task> feed, CancellationToken ct)
    {
        var outcomes = new OpenPgpVerification?[signatures.Count];
        var candidates = new Candidate?[signatures.Count];
        for (var i = 0; i < signatures.Count; i++)
        {
            var sig = signatures[i];
            var keyIdText = $"{sig.KeyId:X16}";
            if (sig.Version is not (3 or 4))
            {
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, $"malformed: signature version {sig.Version} is not supported (only v3 and v4)");
                continue;
            }
            var issuerFingerprint = IssuerFingerprint(sig);
            var match = keyring.Find(sig.KeyId)
                .FirstOrDefault(k => issuerFingerprint is null || k.Key.GetFingerprint().AsSpan().SequenceEqual(issuerFingerprint));
            if (match.Key is null)
            {
                var who = issuerFingerprint is null ? $"key id {keyIdText}" : $"key {OpenPgpKeyring.Hex(issuerFingerprint)}";
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.UnknownKey, $"unknown key: signed by {who}, which is not in the keyring");
                continue;
            }
            if (!IsStrongDigest(sig.HashAlgorithm))
            {
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.WeakDigest,
                    $"weak digest: the signature by {keyIdText} uses {DigestName(sig.HashAlgorithm)}; only SHA-224 or stronger is accepted (MD5, SHA-1 and RIPEMD-160 are refused)");
                continue;
            }
            try
            {
                sig.InitVerify(match.Key);
                candidates[i] = new Candidate(sig, match.Primary, match.Key);
            }
            catch (Exception e) when (e is PgpException or ArgumentException or InvalidOperationException)
            {
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.UnusableKey,
                    $"unusable key: key {OpenPgpKeyring.Hex(match.Key.GetFingerprint())} cannot check this signature ({e.Message})");
            }
        }

        if (candidates.Any(c => c is not null))
        {
            await feed((buffer, offset, count) =>
            {
                ct.ThrowIfCancellationRequested();
                foreach (var c in candidates)
                    c?.Signature.Update(buffer, offset, count);
            }).ConfigureAwait(false);
        }

        OpenPgpVerification? valid = null;
        OpenPgpVerification? bad = null;
        for (var i = 0; i < signatures.Count; i++)
        {
            if (candidates[i] is not { } c)
                continue;
            var primaryFpr = OpenPgpKeyring.Hex(c.Primary.GetFingerprint());
            bool good;
            try { good = c.Signature.Verify(); }
            catch (Exception e) when (e is PgpException or ArgumentException or InvalidOperationException) { good = false; }
            if (!good)
            {
                outcomes[i] = bad = OpenPgpVerification.Refused(OpenPgpFailureKind.BadSignature,
                    $"bad signature: the signature by {primaryFpr} does not match the signed data");
                continue;
            }
            var signedAt = c.Signature.CreationTime;
            if (signedAt > nowUtc)
            {
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.UnusableKey,
                    $"unusable signature: the signature by {primaryFpr} claims to be made in the future ({signedAt:yyyy-MM-dd HH:mm:ss} UTC)");
                continue;
            }
            var sigExpiry = c.Signature.GetHashedSubPackets()?.GetSignatureExpirationTime() ?? 0;
            if (sigExpiry > 0 && nowUtc >= signedAt.AddSeconds(sigExpiry))
            {
                outcomes[i] = OpenPgpVerification.Refused(OpenPgpFailureKind.ExpiredSignature,
                    $"expired signature: the signature by {primaryFpr} expired on {signedAt.AddSeconds(sigExpiry):yyyy-MM-dd HH:mm:ss} UTC");
                continue;
            }
            (OpenPgpFailureKind Kind, string Message)? problem;
            lock (keyring.KeyCheckLock)
                problem = OpenPgpKeyStatus.Check(c.Primary, c.Key, signedAt, nowUtc);
            if (problem is not null)
            {
                outcomes[i] = OpenPgpVerification.Refused(problem.Value.Kind, problem.Value.Message);
                continue;
            }
            outcomes[i] = new OpenPgpVerification(true, primaryFpr, new DateTimeOffset(DateTime.SpecifyKind(signedAt, DateTimeKind.Utc)), null)
            {
                SigningKeyFingerprint = OpenPgpKeyring.Hex(c.Key.GetFingerprint()),
            };
            valid ??= outcomes[i];
        }

        if (bad is not null)
            return signatures.Count == 1 ? bad : bad with { Failure = $"{bad.Failure} (one bad signature refuses the file, as apt does)" };
        if (valid is not null)
            return valid;
        if (signatures.Count == 1)
            return outcomes[0]!;
        return OpenPgpVerification.Refused(OpenPgpFailureKind.NoValidSignature,
            $"{signatures.Count} signatures, none valid: {string.Join("; ", outcomes.Select(o => o!.Failure))}");
    }

    private static byte[]? IssuerFingerprint(PgpSignature sig)
    {
        foreach (var vector in new[] { sig.GetHashedSubPackets(), sig.GetUnhashedSubPackets() })
        {
            if (vector?.GetSubpacket(SignatureSubpacketTag.IssuerFingerprint) is Org.BouncyCastle.Bcpg.Sig.IssuerFingerprint fp)
                return fp.GetFingerprint();
        }
        return null;
    }
}
