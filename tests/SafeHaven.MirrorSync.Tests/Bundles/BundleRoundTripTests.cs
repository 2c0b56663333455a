using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.MirrorSync.Bundles;

namespace SafeHaven.MirrorSync.Tests.Bundles;

/// <summary>
/// Export on appliance A, import on appliance B (its own blob store, database and key), through a directory and a
/// tar file, full and incremental; the signature judged by BouncyCastle in the importer and by Debian's gpgv and sqv.
/// </summary>
public sealed class BundleRoundTripTests : TwoAppliances
{

    [Theory]
    [InlineData("bundle")]
    [InlineData("bundle.tar")]
    public async Task AFullBundleCarriesTheSnapshotToAnApplianceWithNothing(string name)
    {
        var (record, manifest) = await A.PublishAsync(artifacts: 12, artifactBytes: 40_000);
        var to = Path.Combine(Out, name);
        var exported = await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        Assert.Equal(manifest.Entries.Select(e => e.Sha256).Distinct().Count() + 1, exported.Members);
        Assert.Equal(A.Key.Fingerprint, exported.Signer);
        Assert.False(File.Exists(to + ".partial"));

        var result = await B.Importer(A.PublicKeyFile()).ImportAsync(Source(to), BundleProgress.None, CancellationToken.None);

        Assert.Equal(record.Id, result.ExportedSnapshot);
        Assert.Equal(13, result.BlobsCopied);
        var current = await B.Store.GetCurrentAsync("pypi", CancellationToken.None);
        Assert.NotNull(current);
        Assert.Equal(result.Snapshot, current.Id);
        Assert.Equal("import", current.Origin);
        var imported = await B.Manifests.LoadAsync(current.Id, CancellationToken.None);
        Assert.Equal(manifest.ToCanonicalJson(), (imported with { Origin = "sync" }).ToCanonicalJson());
        foreach (var entry in manifest.Entries)
        {
            await using var a = (await A.Blobs.OpenReadAsync(BlobDigest.Parse(entry.Sha256), CancellationToken.None))!;
            await using var b = (await B.Blobs.OpenReadAsync(BlobDigest.Parse(entry.Sha256), CancellationToken.None))!;
            Assert.Equal(await ReadAll(a), await ReadAll(b));
        }
    }

    [Fact]
    public async Task AnIncrementalBundleCarriesOnlyNewBlobsAndNeedsItsBaseOnTheImporter()
    {
        var (first, firstManifest) = await A.PublishAsync(artifacts: 10, artifactBytes: 30_000);
        var full = Path.Combine(Out, "full");
        await A.Exporter().ExportAsync(first, null, Target(full), BundleProgress.None, CancellationToken.None);
        await B.Importer(A.PublicKeyFile()).ImportAsync(Source(full), BundleProgress.None, CancellationToken.None);

        var kept = firstManifest.Entries.Where(e => e.Kind == SnapshotEntryKind.Artifact).ToList();
        var (second, secondManifest) = await A.PublishAsync(artifacts: 3, artifactBytes: 30_000, keep: kept, parent: first.Id);
        var incremental = Path.Combine(Out, "incremental.tar");
        var exported = await A.Exporter().ExportAsync(second, first, Target(incremental), BundleProgress.None, CancellationToken.None);
        Assert.Equal(1 + 3 + 1, exported.Members); // snapshot.json, 3 new artifacts, the new index
        Assert.True(new FileInfo(incremental).Length < Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 2);

        // An appliance without the base refuses it, naming the base.
        using var c = new ApplianceData();
        var refused = await Assert.ThrowsAsync<BundleRefusedException>(() => c.Importer(A.PublicKeyFile()).ImportAsync(Source(incremental), BundleProgress.None, CancellationToken.None));
        Assert.Contains($"based on pypi snapshot {first.Id}, which this appliance does not have", refused.Message, StringComparison.Ordinal);
        Assert.Null(await c.Store.GetCurrentAsync("pypi", CancellationToken.None));

        // B has it (under its own id: it was published with origin import) and takes the increment.
        var result = await B.Importer(A.PublicKeyFile()).ImportAsync(Source(incremental), BundleProgress.None, CancellationToken.None);
        Assert.Equal(4, result.BlobsCopied);
        Assert.NotEqual(first.Id, result.Base);
        var current = await B.Store.GetCurrentAsync("pypi", CancellationToken.None);
        Assert.Equal(result.Snapshot, current!.Id);
        Assert.Equal(secondManifest.Entries.Count, current.Documents + current.Artifacts);
    }

    [Fact]
    public async Task TheBundleSignatureIsAcceptedByDebiansGpgvAndSqv()
    {
        var (record, _) = await A.PublishAsync(artifacts: 2, artifactBytes: 1000);
        var to = Path.Combine(Out, "signed");
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        var keyFile = A.PublicKeyFile();
        var descriptor = Path.Combine(to, BundleLayout.DescriptorName);
        var signature = Path.Combine(to, BundleLayout.SignatureName);

        var sqv = await Tools.RunAsync("sqv", "--keyring", keyFile, signature, descriptor);
        Assert.True(sqv.ExitCode == 0, sqv.Error);
        Assert.Contains(A.Key.Fingerprint, sqv.Output, StringComparison.Ordinal);

        var keyring = Path.Combine(Out, "key.gpg");
        var dearmor = await Tools.RunAsync("gpg", "--batch", "--yes", "--output", keyring, "--dearmor", keyFile);
        Assert.True(dearmor.ExitCode == 0, dearmor.Error);
        var gpgv = await Tools.RunAsync("gpgv", "--status-fd", "2", "--keyring", keyring, signature, descriptor);
        Assert.True(gpgv.ExitCode == 0, gpgv.Error);
        Assert.Contains($"VALIDSIG {A.Key.Fingerprint}", gpgv.Error, StringComparison.Ordinal);

        // The negative control: the same tools refuse bundle.json with one byte changed.
        var bytes = File.ReadAllBytes(descriptor);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(descriptor, bytes);
        Assert.NotEqual(0, (await Tools.RunAsync("sqv", "--keyring", keyFile, signature, descriptor)).ExitCode);
        Assert.NotEqual(0, (await Tools.RunAsync("gpgv", "--keyring", keyring, signature, descriptor)).ExitCode);
    }

    [Fact]
    public async Task BundleJsonListsEveryMemberWithSizeAndHash()
    {
        var (record, manifest) = await A.PublishAsync(artifacts: 3, artifactBytes: 500);
        var to = Path.Combine(Out, "listed");
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        var descriptor = BundleDescriptor.Parse(File.ReadAllBytes(Path.Combine(to, BundleLayout.DescriptorName)));
        Assert.Equal("pypi", descriptor.Ecosystem);
        Assert.Equal(record.Id, descriptor.Snapshot);
        Assert.Null(descriptor.Base);
        Assert.Equal(3, descriptor.Tier);
        Assert.Equal(A.Key.Fingerprint, descriptor.Signer);
        Assert.Equal(BundleLayout.SnapshotMember, descriptor.Members[0].Path);
        foreach (var member in descriptor.Members)
        {
            var file = new FileInfo(Path.Combine(to, member.Path));
            Assert.Equal(member.Size, file.Length);
            Assert.Equal(member.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file.FullName))));
        }
        Assert.Equal(manifest.Entries.Select(e => BundleLayout.BlobPath(e.Sha256)).Order(StringComparer.Ordinal), descriptor.Members.Skip(1).Select(m => m.Path));
    }

    private static async Task<byte[]> ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
