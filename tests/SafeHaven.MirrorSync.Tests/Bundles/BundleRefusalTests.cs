using SafeHaven.Core.Snapshots;
using SafeHaven.MirrorSync.Bundles;

namespace SafeHaven.MirrorSync.Tests.Bundles;

/// <summary>
/// Every damaged or untrusted bundle is refused with its reason, and nothing becomes visible: B keeps serving the
/// snapshot it had (imported from a good bundle first), so each test also proves the refusal did not publish.
/// </summary>
public sealed class BundleRefusalTests : TwoAppliances
{
    private SnapshotRecord? _before;

    /// <summary>B imports a first good bundle; then A publishes a second snapshot and exports it (full) to <paramref name="name"/>.</summary>
    private async Task<(string Path, SnapshotRecord Second)> SetUpAsync(string name, ApplianceData? exporter = null, int? tier = null)
    {
        var (first, _) = await A.PublishAsync(artifacts: 3, artifactBytes: 2000);
        var good = Path.Combine(Out, "first");
        await A.Exporter().ExportAsync(first, null, Target(good), BundleProgress.None, CancellationToken.None);
        await B.Importer(A.PublicKeyFile()).ImportAsync(Source(good), BundleProgress.None, CancellationToken.None);
        _before = await B.Store.GetCurrentAsync("pypi", CancellationToken.None);
        Assert.NotNull(_before);

        exporter ??= A;
        var (second, _) = await exporter.PublishAsync(artifacts: 6, artifactBytes: 20_000, tier: tier);
        var path = Path.Combine(Out, name);
        await exporter.Exporter().ExportAsync(second, null, Target(path), BundleProgress.None, CancellationToken.None);
        return (path, second);
    }

    private async Task<string> RefusedAsync(string path, params string[] trusted)
    {
        var e = await Assert.ThrowsAsync<BundleRefusedException>(() =>
            B.Importer(trusted.Length == 0 ? [A.PublicKeyFile()] : trusted).ImportAsync(Source(path), BundleProgress.None, CancellationToken.None));
        var current = await B.Store.GetCurrentAsync("pypi", CancellationToken.None);
        Assert.Equal(_before!.Id, current!.Id); // nothing visible changed
        Assert.Single(await B.Store.ListAsync("pypi", CancellationToken.None));
        return e.Message;
    }

    private static string FirstBlob(string bundle) =>
        Directory.EnumerateFiles(Path.Combine(bundle, "blobs"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();

    [Fact]
    public async Task OneChangedByteInABlobIsRefused()
    {
        var (path, _) = await SetUpAsync("tampered");
        var blob = FirstBlob(path);
        var bytes = File.ReadAllBytes(blob);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(blob, bytes);
        var message = await RefusedAsync(path);
        Assert.Contains($"{Path.GetRelativePath(path, blob)} has SHA-256", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneChangedByteInATarIsRefused()
    {
        var (path, _) = await SetUpAsync("tampered.tar");
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 512 * 6 + 100; // inside the data of an early member (after snapshot.json's header and data)
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x01));
        }
        var message = await RefusedAsync(path);
        Assert.Contains("SHA-256", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneChangedByteInBundleJsonBreaksTheSignature()
    {
        var (path, _) = await SetUpAsync("tampered-descriptor");
        var descriptor = Path.Combine(path, BundleLayout.DescriptorName);
        File.WriteAllText(descriptor, File.ReadAllText(descriptor).Replace("\"tier\": 3", "\"tier\": 4", StringComparison.Ordinal));
        var message = await RefusedAsync(path);
        Assert.Contains("bad signature", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public async Task ATruncatedTarIsRefused(double keep)
    {
        var (path, _) = await SetUpAsync("truncated.tar");
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.SetLength((long)(file.Length * keep));
        }
        var message = await RefusedAsync(path);
        Assert.Contains("truncated", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingMemberIsRefused()
    {
        var (path, _) = await SetUpAsync("missing");
        var blob = FirstBlob(path);
        File.Delete(blob);
        var message = await RefusedAsync(path);
        Assert.Contains($"missing (first: {Path.GetRelativePath(path, blob)})", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExtraMemberIsRefused()
    {
        var (path, _) = await SetUpAsync("extra");
        File.WriteAllText(Path.Combine(path, "blobs", "README"), "not part of the bundle");
        var message = await RefusedAsync(path);
        Assert.Contains("not listed in bundle.json (first: blobs/README)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABundleSignedByAnotherKeyIsRefused()
    {
        using var stranger = new ApplianceData();
        var (path, _) = await SetUpAsync("stranger", exporter: stranger);
        var message = await RefusedAsync(path);
        Assert.Contains("not by a trusted key", message, StringComparison.Ordinal);
        Assert.Contains(A.Key.Fingerprint, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsignedBundleIsRefused()
    {
        var (path, _) = await SetUpAsync("unsigned");
        File.Delete(Path.Combine(path, BundleLayout.SignatureName));
        Assert.Contains("not signed", await RefusedAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithNoTrustedKeyConfiguredEveryBundleIsRefused()
    {
        var (path, _) = await SetUpAsync("untrusted");
        var e = await Assert.ThrowsAsync<BundleRefusedException>(() =>
            B.Importer().ImportAsync(Source(path), BundleProgress.None, CancellationToken.None));
        Assert.Contains("no trusted bundle keys are configured", e.Message, StringComparison.Ordinal);
        Assert.Equal(_before!.Id, (await B.Store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
    }

    [Fact]
    public async Task ATier2SnapshotIsRefusedByATier3Site()
    {
        var (path, _) = await SetUpAsync("tier2", tier: 2);
        Assert.Contains("a tier 2 snapshot is not filtered for a tier 3 site", await RefusedAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExportThatDidNotFinishIsRefused()
    {
        var (path, _) = await SetUpAsync("unfinished");
        File.Delete(Path.Combine(path, BundleLayout.DescriptorName));
        Assert.Contains("its export did not finish", await RefusedAsync(path), StringComparison.Ordinal);
    }
}
