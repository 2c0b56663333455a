using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// The appliance's own OpenPGP signing key: an Ed25519 primary key (OpenPGP v4, EdDSA), certify and sign, no
/// expiry, no subkeys. It is generated on first use into a file and loaded from it afterwards. The file holds the
/// secret key <b>unencrypted</b> (an ASCII-armoured OpenPGP secret key block, mode 0600): the data directory is
/// the appliance's secret store, so protect and back it up as such. A key file that cannot be read is an error,
/// never a reason to make a new key: every client pins the public key with <c>Signed-By</c>, and a silently new
/// key would break them all. Signatures use SHA-512 and carry the issuer key id and fingerprint. Thread-safe:
/// every signature gets its own generator.
/// </summary>
public sealed class OpenPgpSigningKey : IDisposable
{
    private static readonly HashAlgorithmTag Digest = HashAlgorithmTag.Sha512;

    private readonly PgpSecretKeyRing _ring;
    private readonly PgpSecretKey _secret;
    private readonly PgpPrivateKey _private;
    private readonly TimeProvider _time;
    private bool _disposed;

    private OpenPgpSigningKey(PgpSecretKeyRing ring, PgpPrivateKey privateKey, TimeProvider time)
    {
        _ring = ring;
        _secret = ring.GetSecretKey();
        _private = privateKey;
        _time = time;
        Fingerprint = OpenPgpKeyring.Hex(_secret.PublicKey.GetFingerprint());
    }

    /// <summary>The primary key's fingerprint, uppercase hex.</summary>
    public string Fingerprint { get; }

    /// <summary>The user id the key was made with.</summary>
    public string UserId => _secret.PublicKey.GetUserIds().FirstOrDefault() ?? "";

    /// <summary>When the key was made.</summary>
    public DateTimeOffset CreatedAt => new(DateTime.SpecifyKind(_secret.PublicKey.CreationTime, DateTimeKind.Utc));

    /// <summary>
    /// Loads the key from <paramref name="path"/>, or, when there is no file there, makes a new key with
    /// <paramref name="userId"/> (such as <c>SafeHaven archive key &lt;safehaven@HOST&gt;</c>) and writes it atomically
    /// (a temporary file in the same directory, mode 0600, renamed into place; a concurrent creator that wins the race
    /// is loaded instead). An existing file's user id is kept even if <paramref name="userId"/> differs.
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but is not a usable unencrypted OpenPGP signing key.</exception>
    public static OpenPgpSigningKey LoadOrCreate(string path, string userId, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentNullException.ThrowIfNull(time);
        path = Path.GetFullPath(path);
        if (File.Exists(path))
            return Load(path, time);

        var ring = Generate(userId, time);
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
            {
                WriteArmoured(file, ring.GetEncoded(), "SafeHaven appliance signing key: keep secret, back up with the data directory");
                file.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                return Load(path, time); // another process made the key first: use that one
            }
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
        return Load(path, time);
    }

    private static OpenPgpSigningKey Load(string path, TimeProvider time)
    {
        string Problem(string what) =>
            $"The appliance's OpenPGP signing key file '{path}' {what}. It is not regenerated, because every client pins this key with Signed-By: " +
            "restore the file from a backup, or delete it deliberately to make a new key (and give clients the new public key).";
        byte[] bytes;
        try
        {
            using var stream = File.OpenRead(path);
            bytes = OpenPgpKeyring.ReadBounded(stream, 1024 * 1024, "the key file");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(Problem(e.Message.Replace("the key file ", "", StringComparison.Ordinal)), e);
        }

        PgpSecretKeyRing ring;
        try
        {
            var start = 0;
            while (start < bytes.Length && OpenPgpKeyring.IsWhitespace(bytes[start]))
                start++;
            if (start == bytes.Length)
                throw new InvalidDataException(Problem("is empty"));
            Stream input = new MemoryStream(bytes, writable: false);
            if (bytes[start] == (byte)'-')
                input = new ArmoredInputStream(input);
            var factory = new PgpObjectFactory(input);
            var first = factory.NextPgpObject();
            if (first is not PgpSecretKeyRing secretRing)
                throw new InvalidDataException(Problem($"holds a {OpenPgpKeyring.Describe(first)}, not an OpenPGP secret key"));
            if (factory.NextPgpObject() is { } extra)
                throw new InvalidDataException(Problem($"holds more than one key (a {OpenPgpKeyring.Describe(extra)} follows the first)"));
            ring = secretRing;
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException(Problem($"is not a readable OpenPGP secret key ({e.Message})"), e);
        }

        var secret = ring.GetSecretKey();
        if (secret.IsPrivateKeyEmpty)
            throw new InvalidDataException(Problem("holds only a stub of the secret key (no private part)"));
        if (!secret.IsSigningKey)
            throw new InvalidDataException(Problem($"holds a key whose algorithm ({secret.PublicKey.Algorithm}) cannot sign"));
        if (secret.KeyEncryptionAlgorithm != SymmetricKeyAlgorithmTag.Null)
            throw new InvalidDataException(Problem("holds a passphrase-protected key; the appliance expects an unencrypted key in its data directory"));
        PgpPrivateKey privateKey;
        try
        {
            privateKey = secret.ExtractPrivateKey(null);
        }
        catch (Exception e) when (e is PgpException or IOException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(Problem($"holds a secret key that cannot be read ({e.Message})"), e);
        }
        var key = new OpenPgpSigningKey(ring, privateKey, time);
        key.SelfTest(Problem);
        return key;
    }

    /// <summary>A corrupt private part can still parse; a signature that does not verify with the public key finds it.</summary>
    private void SelfTest(Func<string, string> problem)
    {
        try
        {
            var generator = NewGenerator(PgpSignature.BinaryDocument);
            var probe = "SafeHaven signing key self-test"u8.ToArray();
            generator.Update(probe, 0, probe.Length);
            var sig = generator.Generate();
            sig.InitVerify(_secret.PublicKey);
            sig.Update(probe, 0, probe.Length);
            if (sig.Verify())
                return;
        }
        catch (Exception e) when (e is PgpException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(problem($"holds a key that cannot sign ({e.Message})"), e);
        }
        throw new InvalidDataException(problem("holds a secret key that does not match its public key"));
    }

    private static PgpSecretKeyRing Generate(string userId, TimeProvider time)
    {
        var random = new SecureRandom();
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(random));
        var created = time.GetUtcNow().UtcDateTime;
        var pair = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, generator.GenerateKeyPair(), created);

        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetSignatureCreationTime(false, created);
        hashed.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        hashed.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha512, (int)HashAlgorithmTag.Sha384, (int)HashAlgorithmTag.Sha256]);
        hashed.SetPreferredSymmetricAlgorithms(false, [(int)SymmetricKeyAlgorithmTag.Aes256, (int)SymmetricKeyAlgorithmTag.Aes128]);
        hashed.SetPreferredCompressionAlgorithms(false, [(int)CompressionAlgorithmTag.Uncompressed]);
        hashed.SetIssuerFingerprint(false, pair.PublicKey);
        hashed.SetPrimaryUserId(false, true);

        var ringGenerator = new PgpKeyRingGenerator(
            PgpSignature.PositiveCertification, pair, userId, SymmetricKeyAlgorithmTag.Null, Digest,
            Array.Empty<char>(), false, hashed.Generate(), null, random);
        return ringGenerator.GenerateSecretKeyRing();
    }

    /// <summary>The public key, ASCII-armoured: what clients save and name in <c>Signed-By</c> (apt reads <c>.asc</c> files).</summary>
    public string ExportPublicKeyArmored()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var buffer = new MemoryStream();
        using (var publicRing = new MemoryStream())
        {
            foreach (var key in _ring.GetPublicKeys())
                key.Encode(publicRing, true);
            WriteArmoured(buffer, publicRing.ToArray(), null);
        }
        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    /// <summary>The public key as a binary keyring (what <c>gpg --dearmor</c> makes of the armoured export).</summary>
    public byte[] ExportPublicKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var buffer = new MemoryStream();
        foreach (var key in _ring.GetPublicKeys())
            key.Encode(buffer, true);
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="text"/> as a cleartext-signed message (an <c>InRelease</c>), streaming it line by
    /// line. Lines are split at LF (a CR before it is dropped); lines starting with a dash are dash-escaped; the
    /// final line break, if any, is represented by the armour (RFC 4880 7.1), so verifiers return the text without it.
    /// </summary>
    /// <exception cref="InvalidDataException">The text holds a bare carriage return or a NUL byte, which a cleartext signature cannot carry faithfully.</exception>
    public void ClearSign(Stream text, Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var generator = NewGenerator(PgpSignature.CanonicalTextDocument);
        using var buffered = new BufferedStream(output, 65536);
        buffered.Write(Encoding.ASCII.GetBytes($"{ClearSignedMessage.MessageHeader}\nHash: {OpenPgpVerifier.DigestName(Digest)}\n\n"));

        var line = new MemoryStream();
        var first = true;
        var lineNumber = 0;
        void EmitLine()
        {
            lineNumber++;
            var bytes = line.GetBuffer();
            var length = (int)line.Length;
            if (length > 0 && bytes[length - 1] == (byte)'\r')
                length--;
            if (Array.IndexOf(bytes, (byte)'\r', 0, length) >= 0)
                throw new InvalidDataException($"line {lineNumber} of the text to sign holds a bare carriage return");
            if (!first)
                generator.Update((byte)'\r', (byte)'\n');
            first = false;
            var trimmed = length;
            while (trimmed > 0 && bytes[trimmed - 1] is (byte)' ' or (byte)'\t')
                trimmed--;
            generator.Update(bytes, 0, trimmed);
            if (length > 0 && bytes[0] == (byte)'-')
                buffered.Write("- "u8);
            buffered.Write(bytes, 0, length);
            buffered.WriteByte((byte)'\n');
            line.SetLength(0);
        }

        var chunk = new byte[Chunk];
        int read;
        var pending = false;
        while ((read = text.Read(chunk, 0, chunk.Length)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            var start = 0;
            for (var k = 0; k < read; k++)
            {
                if (chunk[k] == 0)
                    throw new InvalidDataException("the text to sign holds a NUL byte");
                if (chunk[k] != (byte)'\n')
                    continue;
                line.Write(chunk, start, k - start);
                EmitLine();
                start = k + 1;
            }
            line.Write(chunk, start, read - start);
            pending = line.Length > 0;
        }
        if (pending || first)
            EmitLine();

        buffered.Flush();
        var signature = generator.Generate();
        using (var armour = NewArmour(buffered))
            signature.Encode(armour);
        buffered.Flush();
    }

    /// <summary>Writes an ASCII-armoured detached signature (a <c>Release.gpg</c>) over the exact bytes of <paramref name="data"/>, streamed.</summary>
    public void SignDetachedArmored(Stream data, Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(output);
        var signature = SignDetached(data, ct);
        using var armour = NewArmour(output);
        signature.Encode(armour);
    }

    /// <summary>Writes a binary detached signature over the exact bytes of <paramref name="data"/>, streamed.</summary>
    public void SignDetachedBinary(Stream data, Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(output);
        SignDetached(data, ct).Encode(output);
    }

    private PgpSignature SignDetached(Stream data, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var generator = NewGenerator(PgpSignature.BinaryDocument);
        var chunk = new byte[Chunk];
        int read;
        while ((read = data.Read(chunk, 0, chunk.Length)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            generator.Update(chunk, 0, read);
        }
        return generator.Generate();
    }

    private const int Chunk = 81920;

    private PgpSignatureGenerator NewGenerator(int signatureType)
    {
        var generator = new PgpSignatureGenerator(_secret.PublicKey.Algorithm, Digest);
        generator.InitSign(signatureType, _private);
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetSignatureCreationTime(false, _time.GetUtcNow().UtcDateTime);
        hashed.SetIssuerFingerprint(false, _secret.PublicKey);
        generator.SetHashedSubpackets(hashed.Generate());
        var unhashed = new PgpSignatureSubpacketGenerator();
        unhashed.SetIssuerKeyID(false, _secret.KeyId);
        generator.SetUnhashedSubpackets(unhashed.Generate());
        return generator;
    }

    private static ArmoredOutputStream NewArmour(Stream output)
    {
        return new ArmoredOutputStream(output, false); // no "Version:" header
    }

    private static void WriteArmoured(Stream output, byte[] packets, string? comment)
    {
        var builder = ArmoredOutputStream.Build().SetVersion(null);
        if (comment is not null)
            builder.AddComment(comment);
        using var armour = builder.Build(output);
        armour.Write(packets, 0, packets.Length);
    }

    /// <inheritdoc />
    public void Dispose() => _disposed = true;
}
