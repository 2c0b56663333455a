using System.Text;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>
/// Signatures made by the real gpg at test time, as an upstream archive makes its InRelease (gpg --clearsign) and
/// Release.gpg (gpg --detach-sign), checked by the verifier; every way a signature can be wrong is refused with
/// its own reason. The upstream imitated is a Debian-format archive; left out on purpose: the Release file's
/// hashes (checked by the mirror, not here).
/// </summary>
[Collection(GnuPgKeysCollection.Name)]
public sealed class OpenPgpVerifierTests(GnuPgKeysFixture keys)
{
    private static readonly byte[] Sample = Encoding.UTF8.GetBytes(GnuPgKeysFixture.SampleRelease);
    private OpenPgpKeyring Keyring => OpenPgpKeyring.Load(new MemoryStream(keys.Keyring));

    private static Task<(OpenPgpVerification Result, string? SignedText)> VerifyClear(byte[] inRelease, OpenPgpKeyring keyring) =>
        OpenPgpVerifier.VerifyClearSignedAsync(new MemoryStream(inRelease), keyring, CancellationToken.None);

    private static Task<OpenPgpVerification> VerifyDetached(byte[] data, byte[] signature, OpenPgpKeyring keyring) =>
        OpenPgpVerifier.VerifyDetachedAsync(new MemoryStream(data), new MemoryStream(signature), keyring, CancellationToken.None);

    [Fact]
    public void TheKeyringListsThePrimaryKeysGpgExported()
    {
        Assert.Equal([keys.Rsa, keys.Ed, keys.WithSubkey, keys.Expired, keys.Revoked], Keyring.Fingerprints);
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ed25519")]
    public async Task AClearSignedReleaseByAKeyInTheKeyringVerifiesAndGivesTheTextGpgvGives(string which)
    {
        var signer = which == "rsa" ? keys.Rsa : keys.Ed;
        var signed = await keys.Gpg.ClearSignAsync(Sample, [signer]);

        var (result, text) = await VerifyClear(signed, Keyring);

        Assert.True(result.Valid, result.Failure);
        Assert.Null(result.Failure);
        Assert.Equal(signer, result.SignerFingerprint);
        Assert.Equal(signer, result.SigningKeyFingerprint);
        Assert.InRange(result.SignedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1));
        // gpgv is the judge of what the signed text is (it writes it with a final line break, which the armour carries).
        var gpgv = await Gpgv(signed, keys.Keyring);
        Assert.Equal(0, gpgv.ExitCode);
        Assert.Equal(gpgv.OutputText, text + "\n");
        Assert.Contains("- a line that starts with a dash", text, StringComparison.Ordinal);
        Assert.Contains("\n-----BEGIN PGP SIGNATURE-----\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignatureByASigningSubkeyNamesThePrimaryAsTheSigner()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Subkey]);
        var (result, _) = await VerifyClear(signed, Keyring);
        Assert.True(result.Valid, result.Failure);
        Assert.Equal(keys.WithSubkey, result.SignerFingerprint);
        Assert.Equal(keys.Subkey, result.SigningKeyFingerprint);

        var detached = await keys.Gpg.DetachSignAsync(Sample, keys.Subkey, armor: false);
        var detachedResult = await VerifyDetached(Sample, detached, Keyring);
        Assert.True(detachedResult.Valid, detachedResult.Failure);
        Assert.Equal(keys.WithSubkey, detachedResult.SignerFingerprint);
    }

    [Fact]
    public async Task OneChangedByteInTheSignedTextIsABadSignature()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Rsa]);
        var tampered = Replace(signed, "Codename: bookworm", "Codename: bookwork");
        var (result, text) = await VerifyClear(tampered, Keyring);
        Assert.False(result.Valid);
        Assert.Null(text);
        Assert.Equal(OpenPgpFailureKind.BadSignature, result.Kind);
        Assert.StartsWith("bad signature", result.Failure, StringComparison.Ordinal);
        Assert.NotEqual(0, (await Gpgv(tampered, keys.Keyring)).ExitCode);
    }

    [Fact]
    public async Task AnAddedLineIsABadSignature()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed]);
        var tampered = Replace(signed, "Suite: stable\n", "Suite: stable\nValid-Until: Sat, 01 Jan 2100 00:00:00 UTC\n");
        var (result, text) = await VerifyClear(tampered, Keyring);
        Assert.Equal(OpenPgpFailureKind.BadSignature, result.Kind);
        Assert.Null(text);
    }

    [Fact]
    public async Task DashEscapingGamesAreRefused()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed]);
        Assert.Contains("\n- - a line that starts with a dash\n", Encoding.UTF8.GetString(signed), StringComparison.Ordinal);

        // Dropping one escape of a dashed line makes "- a line..." an escaped "a line...": a different, unsigned text.
        var unescaped = Replace(signed, "\n- - a line that starts", "\n- a line that starts");
        var (result, _) = await VerifyClear(unescaped, Keyring);
        Assert.Equal(OpenPgpFailureKind.BadSignature, result.Kind);

        // A line starting with a dash that is not escaped at all is not valid cleartext.
        var bare = Replace(signed, "\n- -\n", "\n-\n");
        var (malformed, _) = await VerifyClear(bare, Keyring);
        Assert.Equal(OpenPgpFailureKind.Malformed, malformed.Kind);
        Assert.Contains("not dash-escaped", malformed.Failure, StringComparison.Ordinal);

        // Escaping a line that needed none is legal (RFC 4880 7.1) and changes nothing signed.
        // (gpg itself escapes "From " lines, for mail.)
        Assert.Contains("\n- From the beginning\n", Encoding.UTF8.GetString(signed), StringComparison.Ordinal);
        var extraEscape = Replace(signed, "\nSuite: stable\n", "\n- Suite: stable\n");
        var (same, text) = await VerifyClear(extraEscape, Keyring);
        Assert.True(same.Valid, same.Failure);
        Assert.Contains("\nSuite: stable\nCodename", text, StringComparison.Ordinal);
        Assert.Contains("\nFrom the beginning\n", text, StringComparison.Ordinal);

        // Un-escaping the embedded armour line would end the text early: the rest becomes garbage inside the armour.
        var earlyEnd = Replace(signed, "\n- -----BEGIN PGP SIGNATURE-----\n", "\n-----BEGIN PGP SIGNATURE-----\n");
        var (cut, cutText) = await VerifyClear(earlyEnd, Keyring);
        Assert.False(cut.Valid);
        Assert.Null(cutText);
    }

    [Fact]
    public async Task ASecondUnsignedSectionAfterTheSignatureIsRefused()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Rsa]);
        var appended = signed.Concat(Encoding.ASCII.GetBytes(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Evil\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n")).ToArray();
        var (result, text) = await VerifyClear(appended, Keyring);
        Assert.Equal(OpenPgpFailureKind.TrailingData, result.Kind);
        Assert.Contains("outside the signed part", result.Failure, StringComparison.Ordinal);
        Assert.Null(text);

        var unsignedTail = signed.Concat("Origin: Evil\n"u8.ToArray()).ToArray();
        Assert.Equal(OpenPgpFailureKind.TrailingData, (await VerifyClear(unsignedTail, Keyring)).Result.Kind);

        var unsignedHead = "Origin: Evil\n\n"u8.ToArray().Concat(signed).ToArray();
        Assert.Equal(OpenPgpFailureKind.TrailingData, (await VerifyClear(unsignedHead, Keyring)).Result.Kind);

        // Blank lines around the message are harmless.
        var padded = "\n"u8.ToArray().Concat(signed).Concat("\n\n"u8.ToArray()).ToArray();
        Assert.True((await VerifyClear(padded, Keyring)).Result.Valid);
    }

    [Fact]
    public async Task ASignatureByAKeyNotInTheKeyringIsAnUnknownKey()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Unknown]);
        var (result, text) = await VerifyClear(signed, Keyring);
        Assert.Equal(OpenPgpFailureKind.UnknownKey, result.Kind);
        Assert.Contains(keys.Unknown, result.Failure, StringComparison.Ordinal);
        Assert.Null(text);
    }

    [Fact]
    public async Task ASha1SignatureIsAWeakDigest()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Rsa], "--digest-algo", "SHA1");
        var (result, _) = await VerifyClear(signed, Keyring);
        Assert.Equal(OpenPgpFailureKind.WeakDigest, result.Kind);
        Assert.Contains("SHA1", result.Failure, StringComparison.Ordinal);

        var detached = await keys.Gpg.DetachSignAsync(Sample, keys.Rsa, armor: true, "--digest-algo", "SHA1");
        Assert.Equal(OpenPgpFailureKind.WeakDigest, (await VerifyDetached(Sample, detached, Keyring)).Kind);
    }

    [Fact]
    public async Task ASignatureByAnExpiredKeyIsRefused()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Expired], "--faked-system-time", GnuPgKeysFixture.ExpiredKeySigningTime);
        var (result, text) = await VerifyClear(signed, Keyring);
        Assert.Equal(OpenPgpFailureKind.ExpiredKey, result.Kind);
        Assert.Contains("expired on 2020-01-02", result.Failure, StringComparison.Ordinal);
        Assert.Null(text);
        // ... although it was good while the key lived:
        var (then, _) = await OpenPgpVerifier.VerifyClearSignedAsync(new MemoryStream(signed), Keyring,
            new FixedTime(new DateTimeOffset(2020, 1, 1, 12, 0, 0, TimeSpan.Zero)), CancellationToken.None);
        Assert.True(then.Valid, then.Failure);
    }

    [Fact]
    public async Task ASignatureByARevokedKeyIsRefused()
    {
        var (result, text) = await VerifyClear(keys.RevokedClearSigned, Keyring);
        Assert.Equal(OpenPgpFailureKind.RevokedKey, result.Kind);
        Assert.Contains(keys.Revoked, result.Failure, StringComparison.Ordinal);
        Assert.Null(text);
    }

    [Fact]
    public async Task SeveralSignaturesNeedOneValidOneAndNoBadOne()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Unknown, keys.Ed, keys.Rsa]);
        var (result, _) = await VerifyClear(signed, Keyring);
        Assert.True(result.Valid, result.Failure);

        var onlyUnknown = OpenPgpKeyring.Load(new MemoryStream(await keys.Gpg.ExportAsync(keys.Expired)));
        var (none, text) = await VerifyClear(signed, onlyUnknown);
        Assert.Equal(OpenPgpFailureKind.NoValidSignature, none.Kind);
        Assert.StartsWith("3 signatures, none valid: unknown key", none.Failure, StringComparison.Ordinal);
        Assert.Null(text);
    }

    [Fact]
    public async Task AFileWithoutASignatureIsRefused()
    {
        var (result, _) = await VerifyClear(Sample, Keyring);
        Assert.Equal(OpenPgpFailureKind.NoSignature, result.Kind);
        var (html, _) = await VerifyClear("<html><body>Please sign in to the network</body></html>\n"u8.ToArray(), Keyring);
        Assert.Equal(OpenPgpFailureKind.NoSignature, html.Kind);
        var (empty, _) = await VerifyClear([], Keyring);
        Assert.Equal(OpenPgpFailureKind.NoSignature, empty.Kind);
        var truncated = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed]);
        var (cut, _) = await VerifyClear(truncated[..Encoding.ASCII.GetString(truncated).LastIndexOf("-----BEGIN PGP SIGNATURE-----", StringComparison.Ordinal)], Keyring);
        Assert.Equal(OpenPgpFailureKind.NoSignature, cut.Kind);
    }

    [Fact]
    public async Task AHashHeaderThatContradictsTheSignatureIsRefused()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed], "--digest-algo", "SHA512");
        var lied = Replace(signed, "Hash: SHA512", "Hash: SHA256");
        var (result, _) = await VerifyClear(lied, Keyring);
        Assert.Equal(OpenPgpFailureKind.Malformed, result.Kind);
        Assert.Contains("Hash:", result.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ADetachedSignatureVerifiesOverTheExactBytesOnly(bool armor)
    {
        var signature = await keys.Gpg.DetachSignAsync(Sample, keys.Rsa, armor);
        var good = await VerifyDetached(Sample, signature, Keyring);
        Assert.True(good.Valid, good.Failure);
        Assert.Equal(keys.Rsa, good.SignerFingerprint);

        var other = Sample.Concat("\n"u8.ToArray()).ToArray();
        var bad = await VerifyDetached(other, signature, Keyring);
        Assert.Equal(OpenPgpFailureKind.BadSignature, bad.Kind);
        Assert.Equal(OpenPgpFailureKind.BadSignature, (await VerifyDetached([], signature, Keyring)).Kind);
    }

    [Fact]
    public async Task ADetachedSignatureIsStreamedOverLargeData()
    {
        var data = new byte[5 * 1024 * 1024 + 17];
        new Random(12).NextBytes(data);
        var signature = await keys.Gpg.DetachSignAsync(data, keys.Ed, armor: false);
        Assert.True((await VerifyDetached(data, signature, Keyring)).Valid);
        data[^1] ^= 1;
        Assert.Equal(OpenPgpFailureKind.BadSignature, (await VerifyDetached(data, signature, Keyring)).Kind);
    }

    [Fact]
    public async Task WhatIsNotADetachedSignatureIsRefused()
    {
        var clear = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed]);
        Assert.Equal(OpenPgpFailureKind.NoSignature, (await VerifyDetached(Sample, clear, Keyring)).Kind);

        var inline = (await keys.Gpg.RunOkAsync(["--local-user", keys.Ed + "!", "--sign"], Sample)).Output;
        var refused = await VerifyDetached(Sample, inline, Keyring);
        Assert.Equal(OpenPgpFailureKind.NoSignature, refused.Kind);

        var armoured = await keys.Gpg.DetachSignAsync(Sample, keys.Ed, armor: true);
        var trailing = armoured.Concat("Origin: Evil\n"u8.ToArray()).ToArray();
        Assert.Equal(OpenPgpFailureKind.TrailingData, (await VerifyDetached(Sample, trailing, Keyring)).Kind);
        Assert.Equal(OpenPgpFailureKind.NoSignature, (await VerifyDetached(Sample, [], Keyring)).Kind);
        Assert.Equal(OpenPgpFailureKind.NoSignature, (await VerifyDetached(Sample, "hello"u8.ToArray(), Keyring)).Kind);
    }

    [Fact]
    public async Task CrLfLineEndingsVerifyAndGiveTheSameText()
    {
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed]);
        var (lf, lfText) = await VerifyClear(signed, Keyring);
        var crlf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("\n", "\r\n", StringComparison.Ordinal));
        var (result, text) = await VerifyClear(crlf, Keyring);
        Assert.True(lf.Valid && result.Valid, result.Failure);
        Assert.Equal(lfText, text);
        Assert.Equal(0, (await Gpgv(crlf, keys.Keyring)).ExitCode);
    }

    [Fact]
    public async Task ADamagedSignatureArmourIsRefused()
    {
        var signed = Encoding.UTF8.GetString(await keys.Gpg.ClearSignAsync(Sample, [keys.Rsa]));
        var lines = signed.Split('\n');
        var crc = Array.FindIndex(lines, l => l.StartsWith('=') && l.Length == 5);
        Assert.True(crc > 0, "gpg 2.2 writes a CRC line");

        var badCrc = (string[])lines.Clone();
        badCrc[crc] = badCrc[crc][1] == 'A' ? "=BBBB" : "=AAAA";
        var (crcResult, _) = await VerifyClear(Encoding.UTF8.GetBytes(string.Join('\n', badCrc)), Keyring);
        Assert.False(crcResult.Valid);
        Assert.Equal(OpenPgpFailureKind.Malformed, crcResult.Kind);

        var badBase64 = (string[])lines.Clone();
        badBase64[crc - 1] = "!!!!" + badBase64[crc - 1][4..];
        var (b64Result, _) = await VerifyClear(Encoding.UTF8.GetBytes(string.Join('\n', badBase64)), Keyring);
        Assert.False(b64Result.Valid);

        var noEnd = string.Join('\n', lines.Where(l => l != "-----END PGP SIGNATURE-----"));
        var (endResult, _) = await VerifyClear(Encoding.UTF8.GetBytes(noEnd), Keyring);
        Assert.Equal(OpenPgpFailureKind.Malformed, endResult.Kind);
    }

    [Fact]
    public async Task OneKeyringServesManyVerificationsAtOnce()
    {
        var keyring = Keyring;
        var signed = await keys.Gpg.ClearSignAsync(Sample, [keys.Ed, keys.Rsa, keys.Subkey]);
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => VerifyClear(signed, keyring))));
        Assert.All(results, r => Assert.True(r.Result.Valid, r.Result.Failure));
    }

    [Fact]
    public async Task VerificationStopsWhenCancelled()
    {
        var signature = await keys.Gpg.DetachSignAsync(Sample, keys.Ed, armor: false);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            OpenPgpVerifier.VerifyDetachedAsync(new MemoryStream(Sample), new MemoryStream(signature), Keyring, cancelled.Token));
    }

    private async Task<ToolResult> Gpgv(byte[] clearSigned, byte[] keyring)
    {
        var keyringPath = Path.Combine(keys.Gpg.Scratch, $"keyring-{Guid.NewGuid():N}.gpg");
        await File.WriteAllBytesAsync(keyringPath, keyring);
        return await GnuPg.RunToolAsync("gpgv", ["--keyring", keyringPath, "--output", "-"], clearSigned);
    }

    private static byte[] Replace(byte[] bytes, string from, string to)
    {
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    }
}

/// <summary>A clock stopped at one instant.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
