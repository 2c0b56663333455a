using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;

namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// A bundle that entered through the software airlock (the paper's ingress route): read, never changed, from the
/// volume of an <b>approved</b> software-ingress submission. The volume holds either the bundle's files (bundle.json
/// at its root or in one directory; only the files under that directory are the bundle) or exactly one <c>.tar</c>
/// bundle. The files are the airlock's blobs, each already hashed when it was deposited.
/// </summary>
public sealed class AirlockBundleSource : IBundleSource
{
    private readonly IBlobStore _blobs;
    private readonly Dictionary<string, VolumeFile> _files;

    private AirlockBundleSource(string description, IBlobStore blobs, Dictionary<string, VolumeFile> files)
    {
        Description = description;
        _blobs = blobs;
        _files = files;
    }

    public string Description { get; }

    /// <summary>Opens the bundle of submission <paramref name="submissionId"/>, refusing anything that is not an approved software ingress.</summary>
    public static async Task<IBundleSource> OpenAsync(
        SubmissionStore submissions, IVolumeStore volumes, IBlobStore blobs, string submissionId, CancellationToken cancellationToken)
    {
        var submission = await submissions.GetAsync(submissionId, cancellationToken).ConfigureAwait(false)
            ?? throw new BundleRefusedException($"there is no airlock submission {submissionId}.");
        var description = $"airlock submission {submission.Id}";
        if (submission.Kind != SubmissionKind.SoftwareIngress)
        {
            throw new BundleRefusedException($"{description} is a {submission.Kind} submission; bundles enter only as software ingress.");
        }
        if (submission.State != SubmissionState.Approved)
        {
            throw new BundleRefusedException($"{description} is {submission.State}, not Approved: a bundle is imported only after its review approved it.");
        }
        var manifest = await volumes.GetManifestAsync(submission.VolumeId, cancellationToken).ConfigureAwait(false)
            ?? throw new BundleRefusedException($"{description}: its volume {submission.VolumeId} does not exist.");

        var descriptors = manifest.Files.Where(f => f.Path == BundleLayout.DescriptorName || f.Path.EndsWith("/" + BundleLayout.DescriptorName, StringComparison.Ordinal)).ToList();
        if (descriptors.Count == 1)
        {
            var prefix = descriptors[0].Path[..^BundleLayout.DescriptorName.Length];
            var files = manifest.Files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(f => f.Path[prefix.Length..], StringComparer.Ordinal);
            return new AirlockBundleSource($"{description} ({(prefix.Length == 0 ? "volume root" : prefix.TrimEnd('/'))})", blobs, files);
        }
        if (descriptors.Count > 1)
        {
            throw new BundleRefusedException($"{description} holds {descriptors.Count} bundle.json files ({string.Join(", ", descriptors.Select(d => d.Path))}); deposit one bundle per submission.");
        }
        var tars = manifest.Files.Where(f => f.Path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase)).ToList();
        if (tars.Count != 1)
        {
            throw new BundleRefusedException($"{description} holds no bundle: neither a bundle.json nor exactly one .tar file ({manifest.Files.Count} files).");
        }
        var tar = tars[0];
        return new TarBundleSource($"{description} ({tar.Path})", async ct =>
        {
            if (blobs is ILocalBlobStore local && local.GetLocalPath(tar.Sha256) is { } path)
            {
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            }
            return await blobs.OpenReadAsync(tar.Sha256, ct).ConfigureAwait(false)
                ?? throw new BundleRefusedException($"{description}: the airlock's blob {tar.Sha256} of {tar.Path} is missing from the blob store.");
        });
    }

    public Task<IReadOnlyDictionary<string, long>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(_files.ToDictionary(f => f.Key, f => f.Value.Size, StringComparer.Ordinal));

    public async Task<Stream?> OpenAsync(string path, CancellationToken cancellationToken)
    {
        if (!_files.TryGetValue(path, out var file))
        {
            return null;
        }
        return await _blobs.OpenReadAsync(file.Sha256, cancellationToken).ConfigureAwait(false)
            ?? throw new BundleRefusedException($"{Description}: the airlock's blob {file.Sha256} of {path} is missing from the blob store.");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
