using Microsoft.Extensions.Logging.Abstractions;
using SafeHaven.Airlock.Integrity;
using SafeHaven.Airlock.Storage;
using SafeHaven.Airlock.Tests.Blobs;
using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Tests.Integrity;

public sealed class VolumeIntegrityVerifierTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Token;

    [Fact]
    public async Task Flipped_byte_in_a_stored_file_is_found_and_the_job_records_it()
    {
        var database = AirlockDatabase.ForFile(_temp.Combine("airlock.db"));
        var volumes = new DatabaseVolumeStore(database);
        var blobs = new FileSystemBlobStore(_temp.Combine("blobs"));
        var uploads = new UploadService(new DatabaseUploadSessionStore(database), volumes, blobs, new FileSystemBlobStore(_temp.Combine("chunks")));
        var volume = await volumes.CreateAsync("wp-9", "secure-data", Ct);
        var good = BlobStoreContractTests.Bytes(100_000, seed: 21);
        var victim = BlobStoreContractTests.Bytes(70_000, seed: 22);
        foreach (var (path, content) in new[] { ("good.bin", good), ("victim.bin", victim) })
        {
            var session = await uploads.BeginAsync(volume.Id, path, content.Length, BlobDigest.Compute(content), 1024 * 1024, Ct);
            await uploads.PutChunkAsync(session.Id, 0, new MemoryStream(content), BlobDigest.Compute(content), Ct);
            await uploads.CompleteAsync(session.Id, Ct);
        }
        var verifier = new VolumeIntegrityVerifier(volumes, blobs);
        Assert.True((await verifier.VerifyAsync([volume.Id], Ct)).Intact);

        // Bit rot, or tampering, on disk: flip one byte of the stored blob.
        var stored = blobs.GetLocalPath(BlobDigest.Compute(victim))!;
        await using (var file = File.Open(stored, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 12_345;
            var b = file.ReadByte();
            file.Position = 12_345;
            file.WriteByte((byte)(b ^ 0x01));
        }

        var report = await verifier.VerifyAsync([volume.Id], Ct);

        Assert.Equal(2, report.FilesChecked);
        var mismatch = Assert.Single(report.Mismatches);
        Assert.Equal("victim.bin", mismatch.Path);
        Assert.Equal(BlobDigest.Compute(victim), mismatch.ExpectedSha256);
        Assert.NotNull(mismatch.ActualSha256);
        Assert.NotEqual(mismatch.ExpectedSha256, mismatch.ActualSha256);

        // A missing blob is a mismatch too.
        await blobs.DeleteAsync(BlobDigest.Compute(good), Ct);
        var sink = new RecordingSink();
        await new VolumeIntegrityJob(verifier, sink, NullLogger<VolumeIntegrityJob>.Instance).Execute(null!, Ct);

        var recorded = Assert.Single(sink.Reports);
        Assert.Equal(["good.bin", "victim.bin"], recorded.Mismatches.Select(m => m.Path).Order());
        Assert.Contains("missing", recorded.Mismatches.Single(m => m.Path == "good.bin").Reason, StringComparison.Ordinal);
    }

    private sealed class RecordingSink : IIntegrityMismatchSink
    {
        public List<IntegrityReport> Reports { get; } = [];

        public Task RecordAsync(IntegrityReport report, CancellationToken cancellationToken)
        {
            Reports.Add(report);
            return Task.CompletedTask;
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }
}
