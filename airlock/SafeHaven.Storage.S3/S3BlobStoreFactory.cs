using Amazon.Runtime;
using Amazon.S3;
using SafeHaven.Core.Configuration;

namespace SafeHaven.Storage.S3;

/// <summary>Builds the S3 client from <c>SafeHaven:BlobStore:S3</c> and checks those settings.</summary>
public static class S3BlobStoreFactory
{
    /// <summary>Every problem with the S3 settings, each named by its configuration key; empty when usable.</summary>
    public static IReadOnlyList<string> Validate(S3Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            problems.Add("SafeHaven:BlobStore:S3:ServiceUrl is required when SafeHaven:BlobStore:Provider is 's3'.");
        }
        else if (!Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            problems.Add($"SafeHaven:BlobStore:S3:ServiceUrl '{options.ServiceUrl}' is not an http(s) URL.");
        }
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            problems.Add("SafeHaven:BlobStore:S3:Bucket is required when SafeHaven:BlobStore:Provider is 's3'.");
        }
        if (string.IsNullOrWhiteSpace(options.AccessKey) != string.IsNullOrWhiteSpace(options.SecretKey))
        {
            problems.Add("SafeHaven:BlobStore:S3:AccessKey and SecretKey must be given together.");
        }
        return problems;
    }

    /// <summary>
    /// A client for an S3-compatible service: path-style addressing (MinIO, Ceph RGW, s3rver), and checksums only
    /// where the protocol requires them, since not every S3-compatible server speaks the newer trailing checksums.
    /// Without keys the SDK's usual credential chain applies.
    /// </summary>
    public static IAmazonS3 CreateClient(S3Options options)
    {
        var problems = Validate(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        var client = string.IsNullOrWhiteSpace(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        client.BeforeRequestEvent += KeepCopySourceSlashes;
        return client;
    }

    /// <summary>
    /// The SDK escapes the slashes of <c>x-amz-copy-source</c> (<c>bucket%2Fkey</c>). AWS, MinIO and Ceph accept that
    /// and plain slashes alike, but some S3-compatible servers (s3rver) only split on plain ones. Our keys are
    /// <c>[prefix]sha256/ab/hex</c> and <c>[prefix]tmp/hex</c>, so unescaping the slashes is safe. Runs before signing.
    /// </summary>
    private static void KeepCopySourceSlashes(object sender, RequestEventArgs e)
    {
        if (e is WebServiceRequestEventArgs request && request.Headers.TryGetValue("x-amz-copy-source", out var source))
        {
            request.Headers["x-amz-copy-source"] = source.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        }
    }
}
