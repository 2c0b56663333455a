using System.Text;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>Keyring files as operators get them: gpg --export (binary), gpg --armor --export, and the wrong files they might give instead.</summary>
[Collection(GnuPgKeysCollection.Name)]
public sealed class OpenPgpKeyringTests(GnuPgKeysFixture keys)
{
    [Fact]
    public async Task BinaryAndArmouredExportsGiveTheSameFingerprints()
    {
        var binary = OpenPgpKeyring.Load(new MemoryStream(await keys.Gpg.ExportAsync(keys.Rsa, keys.Ed)));
        var armoured = OpenPgpKeyring.Load(new MemoryStream(Encoding.ASCII.GetBytes(await keys.Gpg.ExportArmoredAsync(keys.Rsa, keys.Ed))));
        Assert.Equal([keys.Rsa, keys.Ed], binary.Fingerprints);
        Assert.Equal(binary.Fingerprints, armoured.Fingerprints);

        var path = Path.Combine(keys.Gpg.Scratch, "upstream.asc");
        await File.WriteAllTextAsync(path, await keys.Gpg.ExportArmoredAsync(keys.Ed));
        Assert.Equal([keys.Ed], OpenPgpKeyring.Load(path).Fingerprints);
    }

    [Fact]
    public async Task ConcatenatedKeyringsListEachKeyOnce()
    {
        var both = (await keys.Gpg.ExportAsync(keys.Rsa, keys.Ed)).Concat(await keys.Gpg.ExportAsync(keys.Ed)).ToArray();
        Assert.Equal([keys.Rsa, keys.Ed], OpenPgpKeyring.Load(new MemoryStream(both)).Fingerprints);
    }

    [Fact]
    public async Task WrongFilesAreRefusedSayingWhatTheyAre()
    {
        var secret = (await keys.Gpg.RunOkAsync(["--passphrase", "", "--export-secret-keys", keys.Ed])).Output;
        Assert.Contains("secret key", Refuse(secret), StringComparison.Ordinal);

        var armouredSecret = (await keys.Gpg.RunOkAsync(["--passphrase", "", "--armor", "--export-secret-keys", keys.Ed])).Output;
        Assert.Contains("PRIVATE KEY", Refuse(armouredSecret), StringComparison.Ordinal);

        Assert.Contains("empty", Refuse([]), StringComparison.Ordinal);
        Assert.Contains("not an OpenPGP packet tag", Refuse("Origin: Debian\n"u8.ToArray()), StringComparison.Ordinal);

        var signature = await keys.Gpg.DetachSignAsync("x"u8.ToArray(), keys.Ed, armor: false);
        Assert.Contains("signature", Refuse(signature), StringComparison.Ordinal);

        var keybox = Path.Combine(keys.Gpg.Home, "pubring.kbx");
        Assert.Contains("keybox", Refuse(await File.ReadAllBytesAsync(keybox)), StringComparison.Ordinal);

        var truncated = await keys.Gpg.ExportAsync(keys.Rsa);
        Assert.Contains("not a readable OpenPGP keyring", Refuse(truncated[..(truncated.Length / 2)]), StringComparison.Ordinal);

        var missing = Path.Combine(keys.Gpg.Scratch, "no-such-keyring.gpg");
        Assert.Throws<FileNotFoundException>(() => OpenPgpKeyring.Load(missing));

        var path = Path.Combine(keys.Gpg.Scratch, "garbage.gpg");
        await File.WriteAllTextAsync(path, "not a key\n");
        var named = Assert.Throws<InvalidDataException>(() => OpenPgpKeyring.Load(path));
        Assert.Contains(path, named.Message, StringComparison.Ordinal);
    }

    private static string Refuse(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => OpenPgpKeyring.Load(new MemoryStream(bytes))).Message;
}
