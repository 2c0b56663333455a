using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// The public keys an upstream signs with (a trust anchor the operator configures, such as Debian's
/// <c>/usr/share/keyrings/debian-archive-keyring.gpg</c>). Read from a binary keyring (what <c>gpg --export</c>
/// writes, a <c>.gpg</c> file) or an ASCII-armoured one (<c>.asc</c>); anything else is refused with an
/// <see cref="InvalidDataException"/> saying what was found. Safe to share between concurrent verifications.
/// </summary>
public sealed class OpenPgpKeyring
{
    /// <summary>Keyrings are small (Debian's is 56 KB); a larger file is refused rather than read whole.</summary>
    internal const int MaxBytes = 16 * 1024 * 1024;

    private readonly Dictionary<long, List<(PgpPublicKey Primary, PgpPublicKey Key)>> _byKeyId = [];

    private OpenPgpKeyring(IReadOnlyList<PgpPublicKeyRing> rings)
    {
        Rings = rings;
        var fingerprints = new List<string>(rings.Count);
        foreach (var ring in rings)
        {
            var primary = ring.GetPublicKey();
            var fingerprint = Hex(primary.GetFingerprint());
            if (fingerprints.Contains(fingerprint, StringComparer.Ordinal))
                continue; // the same key twice (concatenated keyrings): the first copy counts
            fingerprints.Add(fingerprint);
            foreach (var key in ring.GetPublicKeys())
            {
                if (!_byKeyId.TryGetValue(key.KeyId, out var list))
                    _byKeyId[key.KeyId] = list = [];
                list.Add((primary, key));
            }
        }
        Fingerprints = fingerprints;
    }

    /// <summary>Fingerprints (uppercase hex) of the primary keys, in file order, each once.</summary>
    public IReadOnlyList<string> Fingerprints { get; }

    internal IReadOnlyList<PgpPublicKeyRing> Rings { get; }

    /// <summary>
    /// Checking a key's self-signatures initialises signature objects that belong to the keyring, so those checks
    /// take this lock: one keyring may serve many verifications at once.
    /// </summary>
    internal object KeyCheckLock { get; } = new();

    /// <summary>Reads a keyring file (binary or ASCII-armoured).</summary>
    public static OpenPgpKeyring Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = File.OpenRead(path);
            return Load(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"OpenPGP keyring '{path}': {e.Message}", e);
        }
    }

    /// <summary>Reads a keyring (binary or ASCII-armoured) from a stream.</summary>
    public static OpenPgpKeyring Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = ReadBounded(stream, MaxBytes, "the keyring");
        var start = 0;
        while (start < bytes.Length && IsWhitespace(bytes[start]))
            start++;
        if (start == bytes.Length)
            throw new InvalidDataException("the keyring is empty: no OpenPGP public key in it");

        if (bytes.Length >= 12 && bytes[8] == (byte)'K' && bytes[9] == (byte)'B' && bytes[10] == (byte)'X' && bytes[11] == (byte)'f')
            throw new InvalidDataException(
                "this is a GnuPG keybox (pubring.kbx), not an OpenPGP keyring; export the keys with 'gpg --export KEYID > keyring.gpg'");

        Stream packets;
        if (bytes[start] == (byte)'-')
        {
            var text = System.Text.Encoding.ASCII.GetString(bytes, start, Math.Min(64, bytes.Length - start));
            if (!text.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", StringComparison.Ordinal))
            {
                var firstLine = text.Split('\n')[0].TrimEnd('\r');
                throw new InvalidDataException(
                    $"the ASCII armour starts with '{firstLine}', not '-----BEGIN PGP PUBLIC KEY BLOCK-----'" +
                    (firstLine.Contains("PRIVATE KEY", StringComparison.Ordinal) ? " (a secret key must never be given as a trust anchor)" : ""));
            }
            packets = new ArmoredInputStream(new MemoryStream(bytes, start, bytes.Length - start, writable: false));
        }
        else if ((bytes[0] & 0x80) == 0)
        {
            throw new InvalidDataException(
                $"neither a binary OpenPGP keyring nor ASCII armour: the first byte 0x{bytes[0]:X2} is not an OpenPGP packet tag");
        }
        else
        {
            packets = new MemoryStream(bytes, writable: false);
        }

        var rings = new List<PgpPublicKeyRing>();
        try
        {
            var factory = new PgpObjectFactory(packets);
            while (true)
            {
                var next = factory.NextPgpObject();
                switch (next)
                {
                    case null:
                        goto done;
                    case PgpPublicKeyRing ring:
                        rings.Add(ring);
                        break;
                    case PgpMarker:
                        break;
                    case PgpSecretKeyRing:
                        throw new InvalidDataException("it holds a secret key; give only the public keys (gpg --export, not --export-secret-keys)");
                    default:
                        throw new InvalidDataException($"it holds a {Describe(next)} where a public key was expected");
                }
            }
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"it is not a readable OpenPGP keyring ({e.Message})", e);
        }
        catch (PgpException e)
        {
            throw new InvalidDataException($"it is not a readable OpenPGP keyring ({e.Message})", e);
        }
    done:
        if (rings.Count == 0)
            throw new InvalidDataException("the keyring holds no OpenPGP public key");
        return new OpenPgpKeyring(rings);
    }

    /// <summary>Keys (primary or subkey) with this key id, with their primary.</summary>
    internal IReadOnlyList<(PgpPublicKey Primary, PgpPublicKey Key)> Find(long keyId) =>
        _byKeyId.TryGetValue(keyId, out var list) ? list : [];

    internal static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    internal static string Describe(object? pgpObject) => pgpObject switch
    {
        PgpSignatureList => "signature",
        PgpOnePassSignatureList => "one-pass signature (a signed message, not a detached signature)",
        PgpCompressedData => "compressed message",
        PgpLiteralData => "literal data packet (a signed message, not a detached signature)",
        PgpEncryptedDataList => "encrypted message",
        PgpPublicKeyRing => "public key",
        PgpSecretKeyRing => "secret key",
        null => "nothing",
        _ => pgpObject.GetType().Name,
    };

    internal static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    internal static byte[] ReadBounded(Stream stream, int maxBytes, string what)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new InvalidDataException($"{what} is larger than {maxBytes} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    internal static async Task<byte[]> ReadBoundedAsync(Stream stream, int maxBytes, string what, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new InvalidDataException($"{what} is larger than {maxBytes} bytes");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
