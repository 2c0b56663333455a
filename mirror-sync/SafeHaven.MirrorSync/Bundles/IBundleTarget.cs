namespace SafeHaven.MirrorSync.Bundles;

/// <summary>
/// Where an export writes a bundle: a directory, or one tar file. Members are written one at a time, each verified
/// against its SHA-256 as it is written; bundle.json and its signature last. An interrupted export resumes: the
/// members already written completely and correctly are kept.
/// </summary>
public interface IBundleTarget : IAsyncDisposable
{
    string Description { get; }

    /// <summary>
    /// Prepares the target for a bundle of <paramref name="members"/> and returns those already written completely and
    /// with the right size and SHA-256 by an earlier, interrupted export (they are not written again).
    /// </summary>
    Task<IReadOnlySet<string>> BeginAsync(IReadOnlyList<BundleMember> members, IProgress<long>? verified, CancellationToken cancellationToken);

    /// <summary>Writes one member from <paramref name="content"/>, streamed; throws <see cref="InvalidDataException"/> (and keeps nothing) if it is not the member's size and SHA-256.</summary>
    Task WriteMemberAsync(BundleMember member, Stream content, IProgress<long>? written, CancellationToken cancellationToken);

    /// <summary>Writes bundle.json and its signature, last, and makes the bundle complete.</summary>
    Task CompleteAsync(byte[] descriptor, byte[] signature, CancellationToken cancellationToken);
}
