using System.Text;
using Xunit.Abstractions;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>
/// The appliance's own key and signatures, judged by the real tools clients use: Debian 12's gpgv (what apt runs),
/// sqv (Sequoia's verifier, which newer apt runs) and apt-get itself against a tiny local repository.
/// </summary>
public sealed class OpenPgpSigningKeyTests(ITestOutputHelper log) : IDisposable
{
    private const string UserId = "SafeHaven archive key <safehaven@appliance.example>";
    private readonly GnuPg _gpg = new();

    private string KeyPath => Path.Combine(_gpg.Scratch, "data", "keys", "archive-signing-key.asc");

    public void Dispose() => _gpg.Dispose();

    private OpenPgpSigningKey NewKey() => OpenPgpSigningKey.LoadOrCreate(KeyPath, UserId, TimeProvider.System);

    [Fact]
    public void TheKeyIsMadeOnceWrittenPrivatelyAndLoadedAgain()
    {
        var created = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
        string fingerprint;
        using (var first = OpenPgpSigningKey.LoadOrCreate(KeyPath, UserId, new FixedTime(created)))
        {
            fingerprint = first.Fingerprint;
            Assert.Matches("^[0-9A-F]{40}$", fingerprint);
            Assert.Equal(created, first.CreatedAt);
            Assert.Equal(UserId, first.UserId);
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyPath));
        Assert.StartsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----", File.ReadAllText(KeyPath), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(KeyPath)!)); // no temporary file left behind

        using var again = OpenPgpSigningKey.LoadOrCreate(KeyPath, "Another user id <other@appliance.example>", TimeProvider.System);
        Assert.Equal(fingerprint, again.Fingerprint);
        Assert.Equal(UserId, again.UserId);
        Assert.Equal(created, again.CreatedAt);

        var exported = again.ExportPublicKeyArmored();
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n", exported, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", exported, StringComparison.Ordinal);
        Assert.Equal([fingerprint], OpenPgpKeyring.Load(new MemoryStream(Encoding.ASCII.GetBytes(exported))).Fingerprints);
    }

    [Fact]
    public async Task ConcurrentFirstStartsAgreeOnOneKey()
    {
        var fingerprints = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            using var key = NewKey();
            return key.Fingerprint;
        })));
        Assert.Single(fingerprints.Distinct());
        using var after = NewKey();
        Assert.Equal(fingerprints[0], after.Fingerprint);
    }

    [Fact]
    public async Task GpgReadsThePublicKeyAsAnEd25519SigningKeyWithTheUserId()
    {
        using var key = NewKey();
        var shown = (await _gpg.RunOkAsync(["--with-colons", "--show-keys"], Encoding.ASCII.GetBytes(key.ExportPublicKeyArmored()))).OutputText;
        var pub = shown.Split('\n').First(l => l.StartsWith("pub:", StringComparison.Ordinal)).Split(':');
        Assert.Equal("22", pub[3]); // EdDSA
        Assert.Contains("s", pub[11], StringComparison.Ordinal); // usable for signing
        Assert.Contains("ed25519", pub[16], StringComparison.Ordinal);
        Assert.Contains($"fpr:::::::::{key.Fingerprint}:", shown, StringComparison.Ordinal);
        Assert.Contains(UserId.Replace("<", "\\x3c", StringComparison.Ordinal).Split(' ')[0], shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptKeyFileIsAnErrorAndIsNeverReplaced()
    {
        string armoured;
        using (var key = NewKey())
            armoured = await File.ReadAllTextAsync(KeyPath);
        var publicOnly = "";
        using (var key = NewKey())
            publicOnly = key.ExportPublicKeyArmored();
        var lines = armoured.Split('\n');
        var middle = Array.FindIndex(lines, l => l.Length == 64) + 1;
        lines[middle] = new string(lines[middle].Reverse().ToArray());
        var flipped = string.Join('\n', lines);
        var protectedKey = (await _gpg.RunOkAsync(["--passphrase", "secret", "--quick-gen-key", "Protected <p@appliance.example>", "ed25519", "sign", "never"])).ExitCode == 0
            ? (await _gpg.RunOkAsync(["--passphrase", "secret", "--armor", "--export-secret-keys", "Protected"])).OutputText
            : "";

        foreach (var (content, reason) in new[]
        {
            ("", "is empty"),
            ("not a key at all\n", "not a readable OpenPGP secret key"),
            (armoured[..(armoured.Length / 2)], "not a readable OpenPGP secret key"),
            (flipped, "secret key"),
            (publicOnly, "not an OpenPGP secret key"),
            (protectedKey, "passphrase-protected"),
        })
        {
            await File.WriteAllTextAsync(KeyPath, content);
            var error = Assert.Throws<InvalidDataException>(() => NewKey());
            log.WriteLine(error.Message);
            Assert.Contains(KeyPath, error.Message, StringComparison.Ordinal);
            Assert.Contains(reason, error.Message, StringComparison.Ordinal);
            Assert.Contains("not regenerated", error.Message, StringComparison.Ordinal);
            Assert.Equal(content, await File.ReadAllTextAsync(KeyPath)); // left exactly as it was
        }
    }

    [Fact]
    public void AKeyFileWhoseSecretDoesNotMatchItsPublicKeyIsRefused()
    {
        // A file that parses but whose private half belongs to another key (a restore that mixed two backups).
        var mine = ReadRing(KeyPathFor("mine"));
        var theirs = ReadRing(KeyPathFor("theirs"));
        var mixed = new Org.BouncyCastle.Bcpg.OpenPgp.PgpKeyPair(mine.GetPublicKey(), theirs.GetSecretKey().ExtractPrivateKey(null));
        var ring = new Org.BouncyCastle.Bcpg.OpenPgp.PgpKeyRingGenerator(
            Org.BouncyCastle.Bcpg.OpenPgp.PgpSignature.PositiveCertification, mixed, UserId,
            Org.BouncyCastle.Bcpg.SymmetricKeyAlgorithmTag.Null, Org.BouncyCastle.Bcpg.HashAlgorithmTag.Sha512,
            Array.Empty<char>(), false, null, null, new Org.BouncyCastle.Security.SecureRandom()).GenerateSecretKeyRing();
        Directory.CreateDirectory(Path.GetDirectoryName(KeyPath)!);
        File.WriteAllBytes(KeyPath, ring.GetEncoded());

        var error = Assert.Throws<InvalidDataException>(() => NewKey());
        log.WriteLine(error.Message);
        Assert.Contains("does not match its public key", error.Message, StringComparison.Ordinal);
        Assert.Equal(ring.GetEncoded(), File.ReadAllBytes(KeyPath));
    }

    private string KeyPathFor(string name)
    {
        var path = Path.Combine(_gpg.Scratch, name + ".asc");
        using (OpenPgpSigningKey.LoadOrCreate(path, UserId, TimeProvider.System))
        {
        }
        return path;
    }

    private static Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKeyRing ReadRing(string path)
    {
        using var armour = new Org.BouncyCastle.Bcpg.ArmoredInputStream(File.OpenRead(path));
        return (Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKeyRing)new Org.BouncyCastle.Bcpg.OpenPgp.PgpObjectFactory(armour).NextPgpObject();
    }

    [Fact]
    public async Task GpgvAndOurVerifierAcceptTheClearSignedReleaseAndGiveTheSameText()
    {
        using var key = NewKey();
        var release = "Origin: SafeHaven\nLabel: SafeHaven\nSuite: stable\nCodename: bookworm\n" +
                      "Date: Tue, 01 Dec 2026 07:00:00 UTC\n-dashed\n- already dashed looking\nFrom here\n\nSHA256:\n abc 12 main/binary-amd64/Packages\n";
        var signed = ClearSign(key, release);
        var text = Encoding.UTF8.GetString(signed);
        Assert.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: SafeHaven\n", text, StringComparison.Ordinal);
        Assert.Contains("\n- -dashed\n- - already dashed looking\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Version:", text, StringComparison.Ordinal);

        var gpgv = await Gpgv(key, signed);
        Assert.True(gpgv.ExitCode == 0, gpgv.Error);
        Assert.Equal(release, gpgv.OutputText);
        Assert.Contains($"VALIDSIG {key.Fingerprint}", gpgv.Error, StringComparison.Ordinal);

        var keyring = OpenPgpKeyring.Load(new MemoryStream(Encoding.ASCII.GetBytes(key.ExportPublicKeyArmored())));
        var (result, signedText) = await OpenPgpVerifier.VerifyClearSignedAsync(new MemoryStream(signed), keyring, CancellationToken.None);
        Assert.True(result.Valid, result.Failure);
        Assert.Equal(release, signedText + "\n");

        // The negative control: the same tool refuses one changed byte.
        var tampered = Encoding.UTF8.GetBytes(text.Replace("Suite: stable", "Suite: stablE", StringComparison.Ordinal));
        var refused = await Gpgv(key, tampered);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("BADSIG", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextWithoutAFinalLineBreakOrWithCrLfSignsTheSameLines()
    {
        using var key = NewKey();
        var gpgvPlain = await Gpgv(key, ClearSign(key, "A: 1\nB: 2"));
        var gpgvCrLf = await Gpgv(key, ClearSign(key, "A: 1\r\nB: 2\r\n"));
        Assert.Equal(0, gpgvPlain.ExitCode);
        Assert.Equal(0, gpgvCrLf.ExitCode);
        Assert.Equal("A: 1\nB: 2\n", gpgvPlain.OutputText);
        Assert.Equal("A: 1\nB: 2\n", gpgvCrLf.OutputText);
        Assert.Throws<InvalidDataException>(() => ClearSign(key, "A: 1\rB: 2\n"));
    }

    [Fact]
    public async Task GpgvAndSqvAcceptManyDetachedSignaturesAndRefuseOtherBytes()
    {
        using var key = NewKey();
        var keyring = await DearmouredKeyring(key);
        var random = new Random(15);
        // Many signatures: an Ed25519 signature whose R or S starts with zero bytes must still be encoded as gpg expects.
        for (var i = 0; i < 24; i++)
        {
            var data = new byte[random.Next(0, 4096)];
            random.NextBytes(data);
            var dataPath = Path.Combine(_gpg.Scratch, $"bundle-{i}.bin");
            var sigPath = dataPath + ".asc";
            await File.WriteAllBytesAsync(dataPath, data);
            using (var output = File.Create(sigPath))
                key.SignDetachedArmored(new MemoryStream(data), output, CancellationToken.None);

            var gpgv = await GnuPg.RunToolAsync("gpgv", ["--keyring", keyring, sigPath, dataPath]);
            Assert.True(gpgv.ExitCode == 0, $"gpgv refused signature {i}: {gpgv.Error}");
            if (GnuPg.Installed("sqv"))
            {
                var sqv = await GnuPg.RunToolAsync("sqv", ["--keyring", keyring, sigPath, dataPath]);
                Assert.True(sqv.ExitCode == 0, $"sqv refused signature {i}: {sqv.Error}");
                Assert.Contains(key.Fingerprint, sqv.OutputText, StringComparison.Ordinal);
            }
            var verified = await OpenPgpVerifier.VerifyDetachedAsync(new MemoryStream(data), File.OpenRead(sigPath),
                OpenPgpKeyring.Load(keyring), CancellationToken.None);
            Assert.True(verified.Valid, verified.Failure);
        }

        var other = Path.Combine(_gpg.Scratch, "other.bin");
        await File.WriteAllTextAsync(other, "other bytes");
        Assert.NotEqual(0, (await GnuPg.RunToolAsync("gpgv", ["--keyring", keyring, Path.Combine(_gpg.Scratch, "bundle-0.bin.asc"), other])).ExitCode);
        if (GnuPg.Installed("sqv"))
            Assert.NotEqual(0, (await GnuPg.RunToolAsync("sqv", ["--keyring", keyring, Path.Combine(_gpg.Scratch, "bundle-0.bin.asc"), other])).ExitCode);

        var binaryPath = Path.Combine(_gpg.Scratch, "bundle-0.bin.sig");
        using (var output = File.Create(binaryPath))
            key.SignDetachedBinary(File.OpenRead(Path.Combine(_gpg.Scratch, "bundle-0.bin")), output, CancellationToken.None);
        Assert.Equal(0, (await GnuPg.RunToolAsync("gpgv", ["--keyring", keyring, binaryPath, Path.Combine(_gpg.Scratch, "bundle-0.bin")])).ExitCode);
    }

    [Fact]
    public async Task SignaturesWhoseEd25519HalvesStartWithAZeroByteStillVerify()
    {
        // OpenPGP stores R and S of a legacy EdDSA signature as MPIs, which drop leading zero bytes: one signature
        // in about 128 has one. Look for such signatures and make sure gpgv, sqv and our verifier all take them.
        using var key = NewKey();
        var keyring = await DearmouredKeyring(key);
        var found = 0;
        for (var i = 0; i < 20_000 && found < 2; i++)
        {
            var data = Encoding.ASCII.GetBytes($"bundle {i}\n");
            using var sigStream = new MemoryStream();
            key.SignDetachedBinary(new MemoryStream(data), sigStream, CancellationToken.None);
            var parsed = (Org.BouncyCastle.Bcpg.OpenPgp.PgpSignatureList)new Org.BouncyCastle.Bcpg.OpenPgp.PgpObjectFactory(sigStream.ToArray()).NextPgpObject();
            var raw = parsed[0].GetSignature();
            if (raw.Length == 64 && raw[0] != 0 && raw[32] != 0)
                continue;
            found++;
            log.WriteLine($"signature {i}: {raw.Length} bytes, R starts 0x{raw[0]:X2}, S starts 0x{raw[32]:X2}");
            var dataPath = Path.Combine(_gpg.Scratch, $"zero-{found}.bin");
            var sigPath = dataPath + ".sig";
            await File.WriteAllBytesAsync(dataPath, data);
            await File.WriteAllBytesAsync(sigPath, sigStream.ToArray());
            var gpgv = await GnuPg.RunToolAsync("gpgv", ["--keyring", keyring, sigPath, dataPath]);
            Assert.True(gpgv.ExitCode == 0, $"gpgv refused a signature with a leading zero byte: {gpgv.Error}");
            if (GnuPg.Installed("sqv"))
                Assert.Equal(0, (await GnuPg.RunToolAsync("sqv", ["--keyring", keyring, sigPath, dataPath])).ExitCode);
            var ours = await OpenPgpVerifier.VerifyDetachedAsync(new MemoryStream(data), new MemoryStream(sigStream.ToArray()),
                OpenPgpKeyring.Load(keyring), CancellationToken.None);
            Assert.True(ours.Valid, ours.Failure);
        }
        Assert.Equal(2, found);
    }

    [Fact]
    public async Task AptGetUpdateAcceptsTheRepositoryWithSignedByAndRefusesAnotherKey()
    {
        using var key = NewKey();
        var keyFile = Path.Combine(_gpg.Scratch, "safehaven-archive-key.asc");
        await File.WriteAllTextAsync(keyFile, key.ExportPublicKeyArmored());
        using var stranger = OpenPgpSigningKey.LoadOrCreate(Path.Combine(_gpg.Scratch, "stranger.asc"), "Stranger <s@appliance.example>", TimeProvider.System);
        var strangerFile = Path.Combine(_gpg.Scratch, "stranger-public.asc");
        await File.WriteAllTextAsync(strangerFile, stranger.ExportPublicKeyArmored());

        // InRelease, as the mirror publishes it.
        var inReleaseRepo = LocalRepository("inrelease", key, inRelease: true, detached: false);
        var ok = await AptUpdate("ok", inReleaseRepo, keyFile);
        Assert.True(ok.ExitCode == 0, ok.OutputText + ok.Error);
        Assert.DoesNotContain("GPG error", ok.OutputText + ok.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not signed", ok.OutputText + ok.Error, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(_gpg.Scratch, "apt-ok", "var/lib/apt/lists"), "*_InRelease"));

        // Release + Release.gpg only (apt falls back to them).
        var detachedRepo = LocalRepository("detached", key, inRelease: false, detached: true);
        var okDetached = await AptUpdate("ok-detached", detachedRepo, keyFile);
        Assert.True(okDetached.ExitCode == 0, okDetached.OutputText + okDetached.Error);
        Assert.DoesNotContain("GPG error", okDetached.OutputText + okDetached.Error, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(Path.Combine(_gpg.Scratch, "apt-ok-detached", "var/lib/apt/lists"), "*_Release.gpg"));

        // The client pins another key: apt refuses the repository.
        var refused = await AptUpdate("refused", inReleaseRepo, strangerFile);
        log.WriteLine(refused.OutputText + refused.Error);
        Assert.Contains("NO_PUBKEY", refused.OutputText + refused.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_gpg.Scratch, "apt-refused", "var/lib/apt/lists"), "*_InRelease"));
    }

    /// <summary>
    /// The least a Debian-format repository needs for apt-get update: one suite, one component, one (empty)
    /// Packages index named in Release with its SHA256. Left out on purpose: packages, compressed indexes, by-hash.
    /// </summary>
    private string LocalRepository(string name, OpenPgpSigningKey key, bool inRelease, bool detached)
    {
        var root = Path.Combine(_gpg.Scratch, "repo-" + name);
        var dist = Path.Combine(root, "dists", "stable");
        Directory.CreateDirectory(Path.Combine(dist, "main", "binary-amd64"));
        File.WriteAllBytes(Path.Combine(dist, "main", "binary-amd64", "Packages"), []);
        var release =
            "Origin: SafeHaven\nLabel: SafeHaven\nSuite: stable\nCodename: stable\n" +
            $"Date: {DateTimeOffset.UtcNow.AddMinutes(-1):ddd, dd MMM yyyy HH:mm:ss} UTC\n" +
            "Architectures: amd64\nComponents: main\nAcquire-By-Hash: no\nSHA256:\n" +
            " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 main/binary-amd64/Packages\n";
        File.WriteAllText(Path.Combine(dist, "Release"), release);
        if (inRelease)
            File.WriteAllBytes(Path.Combine(dist, "InRelease"), ClearSign(key, release));
        if (detached)
        {
            using var output = File.Create(Path.Combine(dist, "Release.gpg"));
            key.SignDetachedArmored(new MemoryStream(Encoding.UTF8.GetBytes(release)), output, CancellationToken.None);
        }
        return root;
    }

    private async Task<ToolResult> AptUpdate(string name, string repository, string signedBy)
    {
        var root = Path.Combine(_gpg.Scratch, "apt-" + name);
        foreach (var dir in new[] { "etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d",
                     "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt" })
            Directory.CreateDirectory(Path.Combine(root, dir));
        await File.WriteAllTextAsync(Path.Combine(root, "var/lib/dpkg/status"), "");
        await File.WriteAllTextAsync(Path.Combine(root, "etc/apt/sources.list.d/safehaven.sources"),
            $"Types: deb\nURIs: file:{repository}\nSuites: stable\nComponents: main\nArchitectures: amd64\nSigned-By: {signedBy}\n");
        return await GnuPg.RunToolAsync("apt-get",
        [
            "-o", $"Dir={root}", "-o", $"Dir::State::status={root}/var/lib/dpkg/status",
            "-o", "Dir::Etc::SourceList=/dev/null", "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1",
            "-o", "Acquire::Languages=none", "-o", "APT::Architecture=amd64", "update",
        ]);
    }

    private static byte[] ClearSign(OpenPgpSigningKey key, string text)
    {
        using var output = new MemoryStream();
        key.ClearSign(new MemoryStream(Encoding.UTF8.GetBytes(text)), output, CancellationToken.None);
        return output.ToArray();
    }

    private async Task<string> DearmouredKeyring(OpenPgpSigningKey key)
    {
        var armoured = Path.Combine(_gpg.Scratch, $"key-{key.Fingerprint}.asc");
        var binary = Path.Combine(_gpg.Scratch, $"key-{key.Fingerprint}.gpg");
        if (!File.Exists(binary))
        {
            await File.WriteAllTextAsync(armoured, key.ExportPublicKeyArmored());
            await _gpg.RunOkAsync(["--output", binary, "--dearmor", armoured]);
        }
        return binary;
    }

    private async Task<ToolResult> Gpgv(OpenPgpSigningKey key, byte[] clearSigned) =>
        await GnuPg.RunToolAsync("gpgv", ["--status-fd", "2", "--keyring", await DearmouredKeyring(key), "--output", "-"], clearSigned);
}
