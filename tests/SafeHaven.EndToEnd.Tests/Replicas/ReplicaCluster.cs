using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SafeHaven.EndToEnd.Tests.Airlock;
using SafeHaven.Tests.Support;

namespace SafeHaven.EndToEnd.Tests.Replicas;

/// <summary>
/// Several real <c>safehaven serve</c> processes, each with its own data directory and port, sharing one real
/// PostgreSQL (<see cref="PostgresServer"/>, a fresh database) for metadata and one real s3rver bucket for blobs,
/// behind a real nginx (<see cref="NginxBalancer"/>). What a scale-out site runs (appliance/deploy/scale-out.md),
/// on loopback.
/// </summary>
internal sealed partial class ReplicaCluster : IAsyncDisposable
{
    public const string Bucket = "safehaven-replicas";

    private readonly Process _s3rver;
    private readonly string _s3Directory;

    private ReplicaCluster(Process s3rver, string s3Directory, string s3Url, string connectionString)
    {
        _s3rver = s3rver;
        _s3Directory = s3Directory;
        S3Url = s3Url;
        ConnectionString = connectionString;
        S3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = s3Url, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
    }

    public string S3Url { get; }
    public string ConnectionString { get; }
    public AmazonS3Client S3 { get; }
    public List<RestartableAppliance> Replicas { get; } = [];
    public NginxBalancer Balancer { get; private set; } = null!;

    /// <summary>Starts PostgreSQL (once per test run), s3rver, <paramref name="count"/> replicas one after the other, then nginx.</summary>
    public static async Task<ReplicaCluster> StartAsync(int count, IReadOnlyDictionary<string, string> settings)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var (s3rver, directory, url) = await StartS3rverAsync();
        var cluster = new ReplicaCluster(s3rver, directory, url, connectionString);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var replica = new RestartableAppliance();
                foreach (var (key, value) in cluster.SharedSettings(settings))
                {
                    replica.Environment["SafeHaven__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
                }
                cluster.Replicas.Add(replica);
                await replica.StartAsync();
            }
            cluster.Balancer = await NginxBalancer.StartAsync(cluster.Replicas.Select(r => r.Port));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private Dictionary<string, string> SharedSettings(IReadOnlyDictionary<string, string> settings)
    {
        var all = new Dictionary<string, string>(settings)
        {
            ["Database:Provider"] = "postgres",
            ["Database:ConnectionString"] = ConnectionString,
            ["Database:ClosurePollSeconds"] = "1",
            ["BlobStore:Provider"] = "s3",
            ["BlobStore:S3:ServiceUrl"] = S3Url,
            ["BlobStore:S3:Bucket"] = Bucket,
            ["BlobStore:S3:AccessKey"] = "S3RVER",
            ["BlobStore:S3:SecretKey"] = "S3RVER",
        };
        return all;
    }

    private static async Task<(Process Process, string Directory, string Url)> StartS3rverAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "tests", "tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException("s3rver is not installed: run `npm ci --prefix tests/tools/s3rver` (tests/run.sh does).");
        }
        var directory = Directory.CreateTempSubdirectory("safehaven-replicas-s3-").FullName;
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { script, "-d", directory, "-a", "127.0.0.1", "-p", "0", "--silent", "--no-vhost-buckets", "--configure-bucket", Bucket })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (Listening().Match(line) is { Success: true } match)
            {
                _ = process.StandardOutput.ReadToEndAsync();
                return (process, directory, $"http://127.0.0.1:{match.Groups[1].Value}");
            }
        }
        throw new InvalidOperationException($"s3rver exited before listening: {await stderr}");
    }

    [GeneratedRegex(@"S3rver listening on [^:]+:(\d+)")]
    private static partial Regex Listening();

    /// <summary>Every key in the bucket.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync()
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>
    /// Nothing half-visible in the bucket: every object under a digest key hashes to its key, and no staging object is
    /// left over. Returns the digest keys.
    /// </summary>
    public async Task<IReadOnlyList<string>> AssertEveryBlobWholeAsync()
    {
        var keys = await ListKeysAsync();
        var digests = keys.Where(k => k.Contains("sha256/", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(keys, k => k.StartsWith("tmp/", StringComparison.Ordinal));
        foreach (var key in digests)
        {
            using var response = await S3.GetObjectAsync(Bucket, key);
            using var sha = SHA256.Create();
            var hash = Convert.ToHexStringLower(await sha.ComputeHashAsync(response.ResponseStream));
            Assert.True(key.EndsWith(hash, StringComparison.Ordinal), $"{key} holds content hashing to {hash}");
        }
        return digests;
    }

    public string Logs => string.Join("\n", Replicas.Select((r, i) => $"--- replica {i} (port {r.Port})\n{r.Log}")) + "\n--- nginx\n" + Balancer?.ErrorLog;

    public async ValueTask DisposeAsync()
    {
        if (Balancer is not null)
        {
            await Balancer.DisposeAsync();
        }
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }
        S3.Dispose();
        if (!_s3rver.HasExited)
        {
            _s3rver.Kill(entireProcessTree: true);
            await _s3rver.WaitForExitAsync();
        }
        _s3rver.Dispose();
        try
        {
            Directory.Delete(_s3Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
