using SafeHaven.Core.Blobs;
using SafeHaven.MirrorSync.Bundles;

namespace SafeHaven.MirrorSync.Tests.Bundles;

/// <summary>Interrupted exports and imports (cancelled midway, or their files damaged) resume without redoing finished work.</summary>
public sealed class BundleResumeTests : TwoAppliances
{

    /// <summary>Cancels the run after <paramref name="members"/> members finished (what Ctrl-C or a lost disk does).</summary>
    private sealed class StopAfter(int members, CancellationTokenSource cancel) : BundleProgress
    {
        private int _done;

        public override void Member(BundleMember member, bool skipped)
        {
            if (++_done == members)
            {
                cancel.Cancel();
            }
        }
    }

    [Theory]
    [InlineData("resume")]
    [InlineData("resume.tar")]
    public async Task AnInterruptedExportResumesWhereItStopped(string name)
    {
        var (record, _) = await A.PublishAsync(artifacts: 20, artifactBytes: 50_000);
        var to = Path.Combine(Out, name);
        using (var cancel = new CancellationTokenSource())
        {
            await using var interrupted = Target(to); // disposed as the CLI disposes it: the partial tar stays
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                A.Exporter().ExportAsync(record, null, interrupted, new StopAfter(8, cancel), cancel.Token));
        }
        Assert.False(File.Exists(Path.Combine(to, BundleLayout.DescriptorName)));
        if (name.EndsWith(".tar", StringComparison.Ordinal))
        {
            Assert.False(File.Exists(to));
            Assert.True(File.Exists(to + ".partial"));
            // Cut the partial tar inside a member's data, as a crash would: that member is written again, the ones before kept.
            using var partial = new FileStream(to + ".partial", FileMode.Open, FileAccess.Write);
            partial.SetLength(partial.Length - 20_000);
        }
        else
        {
            // A crash leaves a temporary file and can leave a damaged member; both are dealt with.
            File.WriteAllText(Path.Combine(to, "blobs", ".leftover.0123.tmp"), "half");
            var damaged = Directory.EnumerateFiles(Path.Combine(to, "blobs"), "*", SearchOption.AllDirectories).First(f => !f.EndsWith(".tmp", StringComparison.Ordinal));
            File.WriteAllBytes(damaged, new byte[10]);
        }

        var resumed = await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        Assert.InRange(resumed.MembersResumed, 6, 7);
        Assert.Equal(22, resumed.Members);
        var imported = await B.Importer(A.PublicKeyFile()).ImportAsync(Source(to), BundleProgress.None, CancellationToken.None);
        Assert.Equal(21, imported.BlobsCopied);
    }

    [Fact]
    public async Task AnInterruptedImportPublishesNothingAndTheNextOneSkipsTheCopiedBlobs()
    {
        var (record, _) = await A.PublishAsync(artifacts: 20, artifactBytes: 50_000);
        var to = Path.Combine(Out, "bundle.tar");
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);

        using (var cancel = new CancellationTokenSource())
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                B.Importer(A.PublicKeyFile()).ImportAsync(Source(to), new StopAfter(9, cancel), cancel.Token));
        }
        Assert.Null(await B.Store.GetCurrentAsync("pypi", CancellationToken.None));

        var result = await B.Importer(A.PublicKeyFile()).ImportAsync(Source(to), BundleProgress.None, CancellationToken.None);
        Assert.Equal(9, result.BlobsAlreadyPresent);
        Assert.Equal(12, result.BlobsCopied);
        Assert.Equal(result.Snapshot, (await B.Store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
    }

    [Fact]
    public async Task ABlobAlreadyStoredIsStillCheckedAgainstTheBundle()
    {
        var (record, manifest) = await A.PublishAsync(artifacts: 4, artifactBytes: 10_000);
        var to = Path.Combine(Out, "present");
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        // B already holds one of the blobs (from an interrupted import), but the bundle's copy of it was altered since.
        var entry = manifest.Entries.First(e => e.Kind == Core.Snapshots.SnapshotEntryKind.Artifact);
        await using (var original = (await A.Blobs.OpenReadAsync(BlobDigest.Parse(entry.Sha256), CancellationToken.None))!)
        {
            await B.Blobs.PutAsync(original, BlobDigest.Parse(entry.Sha256), CancellationToken.None);
        }
        var member = Path.Combine(to, BundleLayout.BlobPath(entry.Sha256));
        var bytes = File.ReadAllBytes(member);
        bytes[0] ^= 0xff;
        File.WriteAllBytes(member, bytes);
        var e = await Assert.ThrowsAsync<BundleRefusedException>(() =>
            B.Importer(A.PublicKeyFile()).ImportAsync(Source(to), BundleProgress.None, CancellationToken.None));
        Assert.Contains(BundleLayout.BlobPath(entry.Sha256), e.Message, StringComparison.Ordinal);
        Assert.Null(await B.Store.GetCurrentAsync("pypi", CancellationToken.None));
    }
}
