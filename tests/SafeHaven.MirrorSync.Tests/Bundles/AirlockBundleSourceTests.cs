using SafeHaven.Airlock.Storage;
using SafeHaven.Core.Storage.Database;
using System.Security.Cryptography;
using SafeHaven.Airlock;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.MirrorSync.Bundles;

namespace SafeHaven.MirrorSync.Tests.Bundles;

/// <summary>
/// The airlock route: the bundle is deposited into a software-ingress submission's volume through the airlock's real
/// upload service (chunks, hashes, B's blob store), and imported from there only once the submission is Approved.
/// The submission row is written in its final state directly (the review workflow has its own tests).
/// </summary>
public sealed class AirlockBundleSourceTests : TwoAppliances
{
    private readonly AirlockDatabase _airlock;
    private readonly DatabaseVolumeStore _volumes;
    private readonly SubmissionStore _submissions;

    public AirlockBundleSourceTests()
    {
        _airlock = AirlockDatabase.ForFile(Path.Combine(B.Root, "airlock.db"));
        _volumes = new DatabaseVolumeStore(_airlock);
        _submissions = new SubmissionStore(_airlock);
    }

    /// <summary>Deposits every file below <paramref name="directory"/> (or the one file) into a new submission's volume.</summary>
    private async Task<string> DepositAsync(string path, SubmissionKind kind, SubmissionState state)
    {
        var volume = await _volumes.CreateAsync("wp-" + Guid.NewGuid().ToString("N")[..8], "ingress", CancellationToken.None);
        var uploads = new UploadService(new DatabaseUploadSessionStore(_airlock), _volumes, B.Blobs, new FileSystemBlobStore(Path.Combine(B.Root, "airlock-chunks")));
        var files = File.Exists(path)
            ? [(path, Path.GetFileName(path))]
            : Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Select(f => (f, "deposit/" + Path.GetRelativePath(path, f).Replace('\\', '/'))).ToList();
        foreach (var (file, volumePath) in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            var digest = BlobDigest.FromHash(SHA256.HashData(bytes));
            var session = await uploads.BeginAsync(volume.Id, volumePath, bytes.Length, digest, UploadService.MaxChunkSize, CancellationToken.None);
            await uploads.PutChunkAsync(session.Id, 0, new MemoryStream(bytes), digest, CancellationToken.None);
            await uploads.CompleteAsync(session.Id, CancellationToken.None);
        }
        await _volumes.SetModeAsync(volume.Id, VolumeMode.Internal, CancellationToken.None);
        var id = Guid.NewGuid().ToString("N");
        await _submissions.CreateAsync(new Submission(id, "proj", volume.WorkPackage, kind, 3, state, volume.Id, "investigator", null, null, null, null,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), CancellationToken.None);
        return id;
    }

    private Task<IBundleSource> OpenAsync(string submission) =>
        AirlockBundleSource.OpenAsync(_submissions, _volumes, B.Blobs, submission, CancellationToken.None);

    [Theory]
    [InlineData("bundle")]
    [InlineData("bundle.tar")]
    public async Task AnApprovedSoftwareIngressBundleIsImportedFromTheVolume(string name)
    {
        var (record, _) = await A.PublishAsync(artifacts: 5, artifactBytes: 30_000);
        var to = Path.Combine(Out, name);
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        var submission = await DepositAsync(to, SubmissionKind.SoftwareIngress, SubmissionState.Approved);

        await using var source = await OpenAsync(submission);
        var result = await B.Importer(A.PublicKeyFile()).ImportAsync(source, BundleProgress.None, CancellationToken.None);

        Assert.Equal(record.Id, result.ExportedSnapshot);
        Assert.Equal(result.Snapshot, (await B.Store.GetCurrentAsync("pypi", CancellationToken.None))!.Id);
        Assert.Contains($"airlock submission {submission}", result.Source, StringComparison.Ordinal);
        // The volume was only read: it still lists exactly what was deposited.
        var volume = (await _submissions.GetAsync(submission, CancellationToken.None))!.VolumeId;
        Assert.Equal(name.EndsWith(".tar", StringComparison.Ordinal) ? 1 : 9, (await _volumes.GetManifestAsync(volume, CancellationToken.None))!.Files.Count);
    }

    [Theory]
    [InlineData(SubmissionKind.SoftwareIngress, SubmissionState.InReview, "is InReview, not Approved")]
    [InlineData(SubmissionKind.SoftwareIngress, SubmissionState.Rejected, "is Rejected, not Approved")]
    [InlineData(SubmissionKind.DataIngress, SubmissionState.Approved, "bundles enter only as software ingress")]
    public async Task AnythingButAnApprovedSoftwareIngressIsRefused(SubmissionKind kind, SubmissionState state, string reason)
    {
        var (record, _) = await A.PublishAsync(artifacts: 2, artifactBytes: 1000);
        var to = Path.Combine(Out, "bundle");
        await A.Exporter().ExportAsync(record, null, Target(to), BundleProgress.None, CancellationToken.None);
        var submission = await DepositAsync(to, kind, state);
        var e = await Assert.ThrowsAsync<BundleRefusedException>(() => OpenAsync(submission));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Null(await B.Store.GetCurrentAsync("pypi", CancellationToken.None));
    }

    [Fact]
    public async Task AnUnknownSubmissionIsRefused()
    {
        var e = await Assert.ThrowsAsync<BundleRefusedException>(() => OpenAsync("0123456789abcdef0123456789abcdef"));
        Assert.Contains("there is no airlock submission", e.Message, StringComparison.Ordinal);
    }
}
