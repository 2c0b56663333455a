using System.IO.Compression;
using SafeHaven.Gateway.Ecosystems.NuGet;

namespace SafeHaven.Gateway.Tests.Ecosystems.NuGet;

/// <summary>
/// The verifier against a real package signed by the public gallery: NuGet.Versioning 8.0.0 from the local NuGet
/// package folder (the gateway itself restores it, so it is always there once the solution is restored).
/// </summary>
public sealed class NuGetPackageVerifierTests : IDisposable
{
    private const string GallerySigner = "1F4B311D9ACC115C8DC8018B5A49E00FCE6DA8E2855F9F014CA6F34570BC482D";
    private const string OtherSigner = "5A2901D6ADA3D18260B9C6DFE2133C95D74B9EEF6AE0E5DC334C8454D1477DF4";

    private readonly string _copy = Path.Combine(Path.GetTempPath(), $"safehaven-verify-test-{Guid.NewGuid():N}.nupkg");

    public NuGetPackageVerifierTests()
    {
        var folder = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.Copy(Path.Combine(folder, "nuget.versioning", "8.0.0", "nuget.versioning.8.0.0.nupkg"), _copy);
    }

    public void Dispose() => File.Delete(_copy);

    private async Task<NuGetVerifiedPackage> VerifyAsync(string[] signers, bool requireSignature = true, string id = "nuget.versioning", string version = "8.0.0")
    {
        await using var stream = File.OpenRead(_copy);
        return await NuGetPackageVerifier.VerifyAsync(stream, id, version, signers.ToHashSet(), requireSignature, CancellationToken.None);
    }

    [Fact]
    public async Task A_package_signed_by_a_trusted_repository_certificate_is_dated_by_its_signature_timestamp()
    {
        var verified = await VerifyAsync([GallerySigner]);

        Assert.Equal(GallerySigner, verified.Signer);
        Assert.Equal(new DateTimeOffset(2026, 11, 10, 22, 45, 29, TimeSpan.Zero), verified.SignedAt!.Value.AddTicks(-(verified.SignedAt.Value.Ticks % TimeSpan.TicksPerSecond)));
        Assert.Equal(64, Convert.FromBase64String(verified.Sha512).Length);
        // Its .nuspec's groups: net10.0 and net472, neither with dependencies.
        Assert.Contains(verified.DependencyGroups, g => g.TargetFramework == "net10.0" && g.Dependencies.Count == 0);
    }

    [Fact]
    public async Task The_fingerprint_is_checked_not_just_that_a_signature_exists()
    {
        var e = await Assert.ThrowsAsync<NuGetVerificationException>(() => VerifyAsync([OtherSigner]));
        Assert.Contains($"SHA-256 {GallerySigner}), which is not a trusted signer", e.Message, StringComparison.Ordinal);

        // When upstream's hash vouches for the file, an untrusted signature only means no signed date.
        var byHash = await VerifyAsync([OtherSigner], requireSignature: false);
        Assert.Null(byHash.SignedAt);
    }

    [Fact]
    public async Task Content_changed_after_signing_fails_the_signature()
    {
        using (var zip = ZipFile.Open(_copy, ZipArchiveMode.Update))
        {
            using var writer = new StreamWriter(zip.CreateEntry("tools/init.ps1").Open());
            writer.Write("Write-Host 'tampered'");
        }

        var e = await Assert.ThrowsAsync<NuGetVerificationException>(() => VerifyAsync([GallerySigner]));
        Assert.StartsWith("the package content does not match its signature", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_package_that_is_not_what_the_feed_says_is_refused()
    {
        var e = await Assert.ThrowsAsync<NuGetVerificationException>(() => VerifyAsync([GallerySigner], id: "nuget.frameworks"));
        Assert.Contains("says it is NuGet.Versioning 8.0.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_trusted_signers_or_an_upstream_hash_nothing_is_verified()
    {
        var e = await Assert.ThrowsAsync<NuGetVerificationException>(() => VerifyAsync([]));
        Assert.Contains("no trusted signers are configured", e.Message, StringComparison.Ordinal);
    }
}
