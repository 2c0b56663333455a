using System.Security.Cryptography;

namespace SafeHaven.Core.Blobs;

/// <summary>
/// Blobs as files under <c>root/sha256/ab/abcdef…</c>. A blob is written to <c>root/tmp</c> and renamed into
/// place once its digest is known, so a reader never sees a half-written file.
/// </summary>
public sealed class FileSystemBlobStore : ILocalBlobStore
{
    private readonly string _root;
    private readonly string _temp;

    public FileSystemBlobStore(string root)
    {
        _root = Path.GetFullPath(root);
        _temp = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(_temp);
        Directory.CreateDirectory(Path.Combine(_root, "sha256"));
        // Leftovers of writes interrupted by a crash are never visible; reclaim their space.
        foreach (var stale in Directory.EnumerateFiles(_temp))
        {
            TryDelete(stale);
        }
    }

    public string? GetLocalPath(BlobDigest digest)
    {
        var path = PathOf(digest);
        return File.Exists(path) ? path : null;
    }

    public Task<long?> GetLengthAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        var info = new FileInfo(PathOf(digest));
        return Task.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public Task<Stream?> OpenReadAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = new FileStream(PathOf(digest), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
            return Task.FromResult<Stream?>(stream);
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<IBlobWriter> BeginWriteAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IBlobWriter>(new Writer(this, Path.Combine(_temp, Guid.NewGuid().ToString("N"))));

    public Task DeleteAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        TryDelete(PathOf(digest));
        return Task.CompletedTask;
    }

    private string PathOf(BlobDigest digest) => Path.Combine(_root, "sha256", digest.Hex[..2], digest.Hex);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class Writer : IBlobWriter
    {
        private readonly FileSystemBlobStore _store;
        private readonly string _tempPath;
        private readonly FileStream _file;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private bool _committed;

        public Writer(FileSystemBlobStore store, string tempPath)
        {
            _store = store;
            _tempPath = tempPath;
            _file = new FileStream(tempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            });
        }

        public long Length { get; private set; }

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _hash.AppendData(data.Span);
            await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            Length += data.Length;
        }

        public async Task<BlobDigest> CommitAsync(BlobDigest? expected, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            var actual = BlobDigest.FromHash(_hash.GetHashAndReset());
            if (expected is { } wanted && wanted != actual)
            {
                throw new BlobDigestMismatchException(wanted, actual);
            }
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            var final = _store.PathOf(actual);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            try
            {
                File.Move(_tempPath, final, overwrite: false);
            }
            catch (IOException) when (File.Exists(final))
            {
                // Same content stored concurrently: content addressing makes that one as good as ours.
                TryDelete(_tempPath);
            }
            _committed = true;
            return actual;
        }

        public async ValueTask DisposeAsync()
        {
            _hash.Dispose();
            await _file.DisposeAsync().ConfigureAwait(false);
            if (!_committed)
            {
                TryDelete(_tempPath);
            }
        }
    }
}
