using SafeHaven.Airlock.Tests.Support;
using SafeHaven.Core.Blobs;

namespace SafeHaven.Airlock.Tests.Blobs;

public sealed class FileSystemBlobStoreContractTests : BlobStoreContractTests, IDisposable
{
    private readonly TempDirectory _root = new();

    public FileSystemBlobStoreContractTests() => Store = new FileSystemBlobStore(_root.Path);

    protected override IBlobStore Store { get; }

    protected override long LargeBlobSize => 20L * 1024 * 1024 + 12_345;

    protected override Task<IReadOnlyList<string>> ListStoredAsync() =>
        Task.FromResult<IReadOnlyList<string>>(Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root.Path, f)).ToList());

    public void Dispose() => _root.Dispose();
}
