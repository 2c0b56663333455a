using System.Text;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Core.Tests.OpenPgp;

/// <summary>
/// Real signed data: the InRelease files apt itself fetched onto this machine (<c>/var/lib/apt/lists</c>), checked
/// against Debian's archive keyring, which every Debian machine has. Debian signs each with two or three keys
/// (RSA-4096 automatic archive keys and the Ed25519 stable release key), so this also proves several signatures and
/// both algorithms on upstream's own bytes. Skipped, saying why, on a machine without such files.
/// </summary>
public sealed class DebianArchiveSignatureTests
{
    internal const string DebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

    internal static IReadOnlyList<string> DebianInReleaseFiles() =>
        Directory.Exists("/var/lib/apt/lists")
            ? Directory.GetFiles("/var/lib/apt/lists", "*_InRelease")
                .Where(f => File.ReadLines(f).Take(40).Any(l => l == "Origin: Debian"))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];

    [DebianArchiveFact]
    public void DebiansArchiveKeyringLoadsWithItsFingerprints()
    {
        var keyring = OpenPgpKeyring.Load(DebianKeyring);
        Assert.NotEmpty(keyring.Fingerprints);
        Assert.All(keyring.Fingerprints, f => Assert.Matches("^[0-9A-F]{40}$", f));
        Assert.Equal(keyring.Fingerprints.Count, keyring.Fingerprints.Distinct().Count());
    }

    [DebianArchiveFact]
    public async Task TheInReleaseFilesAptFetchedVerifyAgainstDebiansKeyring()
    {
        var keyring = OpenPgpKeyring.Load(DebianKeyring);
        var files = DebianInReleaseFiles();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            var (result, text) = await OpenPgpVerifier.VerifyClearSignedAsync(stream, keyring, CancellationToken.None);
            Assert.True(result.Valid, $"{Path.GetFileName(file)}: {result.Failure}");
            Assert.Contains(result.SignerFingerprint, keyring.Fingerprints);
            Assert.StartsWith("Origin: Debian\n", text, StringComparison.Ordinal);
            Assert.Contains("\nSHA256:\n", text, StringComparison.Ordinal);

            // Debian's own date line, changed by one character, no longer verifies.
            var bytes = await File.ReadAllBytesAsync(file);
            var original = Encoding.UTF8.GetString(bytes);
            var dateAt = original.IndexOf("\nDate: ", StringComparison.Ordinal) + "\nDate: ".Length;
            var tampered = original[..dateAt] + (original[dateAt] == 'M' ? 'T' : 'M') + original[(dateAt + 1)..];
            var (bad, badText) = await OpenPgpVerifier.VerifyClearSignedAsync(
                new MemoryStream(Encoding.UTF8.GetBytes(tampered)), keyring, CancellationToken.None);
            Assert.Equal(OpenPgpFailureKind.BadSignature, bad.Kind);
            Assert.Null(badText);
        }
    }

    [DebianArchiveFact]
    public async Task DebiansInReleaseIsRefusedAgainstAKeyringWithoutItsKeys()
    {
        using var gpg = new GnuPg();
        var stranger = await gpg.GenerateKeyAsync("Stranger <stranger@upstream.example>", "ed25519");
        var keyring = OpenPgpKeyring.Load(new MemoryStream(await gpg.ExportAsync(stranger)));
        await using var stream = File.OpenRead(DebianInReleaseFiles()[0]);
        var (result, text) = await OpenPgpVerifier.VerifyClearSignedAsync(stream, keyring, CancellationToken.None);
        Assert.False(result.Valid);
        Assert.True(result.Kind is OpenPgpFailureKind.UnknownKey or OpenPgpFailureKind.NoValidSignature, result.Failure);
        Assert.Contains("unknown key", result.Failure, StringComparison.Ordinal);
        Assert.Null(text);
    }
}

/// <summary>A fact that needs Debian's archive keyring and at least one Debian InRelease apt has fetched.</summary>
internal sealed class DebianArchiveFactAttribute : FactAttribute
{
    public DebianArchiveFactAttribute()
    {
        if (!File.Exists(DebianArchiveSignatureTests.DebianKeyring))
            Skip = $"{DebianArchiveSignatureTests.DebianKeyring} is missing (Debian package debian-archive-keyring).";
        else if (DebianArchiveSignatureTests.DebianInReleaseFiles().Count == 0)
            Skip = "No Debian InRelease in /var/lib/apt/lists (run apt-get update once to have real signed data to check).";
    }
}
