using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.IO;

namespace SafeHaven.Storage.S3;

/// <summary>
/// Blobs as objects <c>[prefix]sha256/ab/abcdef…</c> in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW), addressed
/// path-style. Content is hashed while written and never buffered whole: a blob that fits in one part is sent with a
/// single PUT once its digest is known; a larger one goes out as a multipart upload, one part each time the writer
/// fills a part buffer. Nothing is visible under a digest key until the content is known to hash to it.
/// </summary>
/// <remarks>
/// A multipart upload needs its key before the digest is known, so it goes to a staging key (<c>[prefix]tmp/…</c>)
/// and is copied server-side to its digest key on commit. When the caller knows the digest in advance
/// (<see cref="BeginWriteAsync(BlobDigest?, CancellationToken)"/>), the upload goes straight to the digest key and
/// is only completed if the content matches. On a mismatch, or when a writer is disposed uncommitted, the multipart
/// upload is aborted, so nothing becomes visible. Streams from <see cref="OpenReadAsync"/> are not seekable.
/// Buckets should carry a lifecycle rule that aborts incomplete multipart uploads after a day, for uploads cut off
/// by a crash.
/// </remarks>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>The default part size: large enough for S3's 5 MiB minimum, small enough to hold in memory.</summary>
    public const int DefaultPartSize = 8 * 1024 * 1024;

    /// <summary>S3's limit for a single-request server-side copy.</summary>
    private const long MaxSingleCopyBytes = 5L * 1024 * 1024 * 1024;

    private const long CopyPartSize = 512L * 1024 * 1024;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly int _partSize;

    public S3BlobStore(IAmazonS3 client, string bucket, string prefix = "", int partSize = DefaultPartSize, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentOutOfRangeException.ThrowIfLessThan(partSize, 1);
        if (prefix.Length > 0 && !prefix.EndsWith('/'))
        {
            prefix += "/";
        }
        _client = client;
        _bucket = bucket;
        _prefix = prefix;
        _partSize = partSize;
        _ownsClient = ownsClient;
    }

    /// <summary>A store for the <c>SafeHaven:BlobStore:S3</c> settings (see <see cref="S3BlobStoreFactory.Validate"/>).</summary>
    public static S3BlobStore Create(S3Options options, string prefix = "", int partSize = DefaultPartSize) =>
        new(S3BlobStoreFactory.CreateClient(options), options.Bucket!, prefix, partSize, ownsClient: true);

    public string Bucket => _bucket;

    public int PartSize => _partSize;

    internal string KeyOf(BlobDigest digest) => $"{_prefix}sha256/{digest.Hex[..2]}/{digest.Hex}";

    internal string StagingPrefix => $"{_prefix}tmp/";

    public async Task<long?> GetLengthAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest
            {
                BucketName = _bucket,
                Key = KeyOf(digest),
            }, cancellationToken).ConfigureAwait(false);
            return head.ContentLength;
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _bucket,
                Key = KeyOf(digest),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
        return new ObjectReadStream(response);
    }

    public Task<IBlobWriter> BeginWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(null, cancellationToken);

    /// <summary>
    /// Starts a blob whose digest the caller already knows: a multipart upload then goes straight to the digest key
    /// (no copy on commit), and is aborted unless <see cref="IBlobWriter.CommitAsync"/> gets the same digest.
    /// </summary>
    public Task<IBlobWriter> BeginWriteAsync(BlobDigest? expected, CancellationToken cancellationToken) =>
        Task.FromResult<IBlobWriter>(new Writer(this, expected));

    public async Task DeleteAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = KeyOf(digest) }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static bool IsNotFound(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NotFound";

    private async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return false;
        }
    }

    private async Task CopyAsync(string sourceKey, string destinationKey, long length, CancellationToken cancellationToken)
    {
        if (length <= MaxSingleCopyBytes)
        {
            await _client.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = _bucket,
                SourceKey = sourceKey,
                DestinationBucket = _bucket,
                DestinationKey = destinationKey,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Above 5 GiB S3 only copies part by part.
        var start = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = _bucket,
            Key = destinationKey,
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long offset = 0; offset < length; offset += CopyPartSize, partNumber++)
            {
                var part = await _client.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = _bucket,
                    SourceKey = sourceKey,
                    DestinationBucket = _bucket,
                    DestinationKey = destinationKey,
                    UploadId = start.UploadId,
                    PartNumber = partNumber,
                    FirstByte = offset,
                    LastByte = Math.Min(offset + CopyPartSize, length) - 1,
                }, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, part.ETag));
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = destinationKey,
                UploadId = start.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await AbortQuietlyAsync(destinationKey, start.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Aborts a multipart upload. Failure to abort is not fatal: an uncompleted upload is never visible.</summary>
    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = _bucket,
                Key = key,
                UploadId = uploadId,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (AmazonServiceException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        catch (HttpRequestException)
        {
        }
    }

    private sealed class Writer : IBlobWriter
    {
        private readonly S3BlobStore _store;
        private readonly BlobDigest? _announced;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly List<PartETag> _parts = [];
        private byte[]? _buffer;
        private int _buffered;
        private string? _uploadKey;
        private string? _uploadId;
        private bool _finished;

        public Writer(S3BlobStore store, BlobDigest? announced)
        {
            _store = store;
            _announced = announced;
        }

        public long Length { get; private set; }

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            _hash.AppendData(data.Span);
            Length += data.Length;
            while (!data.IsEmpty)
            {
                _buffer ??= new byte[_store._partSize];
                if (_buffered == _buffer.Length)
                {
                    // A full part goes out only once more data follows, so a blob of exactly one part stays one PUT.
                    await FlushPartAsync(cancellationToken).ConfigureAwait(false);
                }
                var take = Math.Min(data.Length, _buffer.Length - _buffered);
                data.Span[..take].CopyTo(_buffer.AsSpan(_buffered));
                _buffered += take;
                data = data[take..];
            }
        }

        private async Task FlushPartAsync(CancellationToken cancellationToken)
        {
            if (_uploadId is null)
            {
                _uploadKey = _announced is { } known ? _store.KeyOf(known) : $"{_store.StagingPrefix}{Guid.NewGuid():N}";
                var start = await _store._client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
                {
                    BucketName = _store._bucket,
                    Key = _uploadKey,
                }, cancellationToken).ConfigureAwait(false);
                _uploadId = start.UploadId;
            }
            var partNumber = _parts.Count + 1;
            using var body = new MemoryStream(_buffer!, 0, _buffered, writable: false);
            var response = await _store._client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _store._bucket,
                Key = _uploadKey,
                UploadId = _uploadId,
                PartNumber = partNumber,
                PartSize = _buffered,
                InputStream = body,
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            _parts.Add(new PartETag(partNumber, response.ETag));
            _buffered = 0;
        }

        public async Task<BlobDigest> CommitAsync(BlobDigest? expected, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            var actual = BlobDigest.FromHash(_hash.GetHashAndReset());
            var wanted = expected ?? _announced;
            if (wanted is { } w && w != actual)
            {
                await DiscardAsync().ConfigureAwait(false);
                throw new BlobDigestMismatchException(w, actual);
            }
            var finalKey = _store.KeyOf(actual);
            // Content addressing: an object already under the digest key is this content. Never PUT over it: not every
            // S3-compatible store replaces an object atomically (s3rver rewrites the file in place), and a replica
            // reading it meanwhile must never see it shorter.
            if (_uploadId is null || _announced is not null)
            {
                if (await _store.ExistsAsync(finalKey, cancellationToken).ConfigureAwait(false))
                {
                    await DiscardAsync().ConfigureAwait(false);
                    return actual;
                }
            }
            if (_uploadId is null)
            {
                // Everything fits in one part: one PUT, straight to the digest key.
                using var body = new MemoryStream(_buffer ?? [], 0, _buffered, writable: false);
                await _store._client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _store._bucket,
                    Key = finalKey,
                    InputStream = body,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                }, cancellationToken).ConfigureAwait(false);
                Finish();
                return actual;
            }

            if (_buffered > 0)
            {
                await FlushPartAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                await _store._client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = _store._bucket,
                    Key = _uploadKey,
                    UploadId = _uploadId,
                    PartETags = _parts,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await DiscardAsync().ConfigureAwait(false);
                throw;
            }
            var staged = _uploadKey!;
            _uploadId = null;
            Finish();
            if (staged != finalKey)
            {
                try
                {
                    // Same content may already be stored (content addressing makes that copy as good as ours).
                    if (!await _store.ExistsAsync(finalKey, cancellationToken).ConfigureAwait(false))
                    {
                        await _store.CopyAsync(staged, finalKey, Length, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await _store._client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _store._bucket, Key = staged }, CancellationToken.None)
                        .ConfigureAwait(false);
                }
            }
            return actual;
        }

        private void Finish()
        {
            _finished = true;
            _buffer = null;
        }

        private async Task DiscardAsync()
        {
            if (_uploadId is { } id)
            {
                _uploadId = null;
                await _store.AbortQuietlyAsync(_uploadKey!, id).ConfigureAwait(false);
            }
            Finish();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_finished)
            {
                await DiscardAsync().ConfigureAwait(false);
            }
            _hash.Dispose();
        }
    }

    /// <summary>The body of a GET, owning its response. Not seekable.</summary>
    private sealed class ObjectReadStream(GetObjectResponse response) : ReadOnlyWrapperStream(response.ResponseStream)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                response.Dispose();
            }
        }
    }
}
