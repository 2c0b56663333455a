using System.Text;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>
/// Keys made once by the real gpg for the verifier tests: the shapes an upstream archive really uses (RSA-4096 as
/// Debian's automatic archive keys, Ed25519 as Debian 12's stable release key, an Ed25519 primary that signs with
/// a subkey) plus the broken ones (an expired key, a revoked key, a key the keyring does not hold).
/// </summary>
public sealed class GnuPgKeysFixture : IAsyncLifetime
{
    internal GnuPg Gpg { get; } = new();
    public string Rsa { get; private set; } = "";
    public string Ed { get; private set; } = "";
    public string WithSubkey { get; private set; } = "";
    public string Subkey { get; private set; } = "";
    public string Expired { get; private set; } = "";
    public string Revoked { get; private set; } = "";
    public string Unknown { get; private set; } = "";

    /// <summary>The keyring an operator would configure: every key above except <see cref="Unknown"/>.</summary>
    public byte[] Keyring { get; private set; } = [];

    /// <summary>When the expired key was made and could still sign (gpg's --faked-system-time format).</summary>
    public const string ExpiredKeyEra = "20200101T000000";
    public const string ExpiredKeySigningTime = "20200101T060000";

    public async Task InitializeAsync()
    {
        Rsa = await Gpg.GenerateKeyAsync("Upstream archive RSA <rsa@upstream.example>", "rsa4096");
        Ed = await Gpg.GenerateKeyAsync("Upstream archive Ed25519 <ed@upstream.example>", "ed25519");
        WithSubkey = await Gpg.GenerateKeyAsync("Upstream archive with subkey <sub@upstream.example>", "ed25519");
        Subkey = await Gpg.AddSigningSubkeyAsync(WithSubkey, "ed25519");
        Expired = await Gpg.GenerateKeyAsync("Upstream expired <expired@upstream.example>", "ed25519", "1d", ExpiredKeyEra);
        Revoked = await Gpg.GenerateKeyAsync("Upstream revoked <revoked@upstream.example>", "ed25519");
        Unknown = await Gpg.GenerateKeyAsync("Somebody else <else@upstream.example>", "ed25519");
        // Sign with the revoked key while it is still good, then revoke it.
        RevokedClearSigned = await Gpg.ClearSignAsync(Encoding.UTF8.GetBytes(SampleRelease), [Revoked]);
        await Gpg.RevokeAsync(Revoked);
        Keyring = await Gpg.ExportAsync(Rsa, Ed, WithSubkey, Expired, Revoked);
    }

    public byte[] RevokedClearSigned { get; private set; } = [];

    public Task DisposeAsync()
    {
        Gpg.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// A small Release file in Debian's shape (what an upstream signs into InRelease), with the awkward lines a
    /// signer must dash-escape and trailing whitespace the canonical form strips.
    /// </summary>
    public const string SampleRelease =
        "Origin: Debian\n" +
        "Label: Debian\n" +
        "Suite: stable\n" +
        "Codename: bookworm\n" +
        "Date: Sat, 14 Jun 2025 08:57:05 UTC\n" +
        "Architectures: all amd64\n" +
        "Components: main\n" +
        "Description: Debian 12.11 Released 17 May 2025   \n" +
        "SHA256:\n" +
        " 2b1d4a2c1c4d4c3e8b5c2c9b2d7f3a1e0f5b6c7d8e9fa0b1c2d3e4f5a6b7c8d9   1234 main/binary-amd64/Packages\n" +
        "-----BEGIN PGP SIGNATURE-----\n" +
        "- a line that starts with a dash\n" +
        "From the beginning\n" +
        "-\n";
}

/// <summary>One set of gpg keys for every test class that needs them (an RSA-4096 key takes a while to make).</summary>
[CollectionDefinition(Name)]
public sealed class GnuPgKeysCollection : ICollectionFixture<GnuPgKeysFixture>
{
    public const string Name = "gpg keys";
}
