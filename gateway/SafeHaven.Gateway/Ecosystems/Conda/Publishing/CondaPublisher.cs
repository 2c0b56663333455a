using System.Globalization;
using System.Security.Cryptography;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Ecosystems.Conda.Upstream;

namespace SafeHaven.Gateway.Ecosystems.Conda.Publishing;

/// <summary>A file the appliance publishes for a subdir: where it is on disk, its size and its SHA-256 (the ETag).</summary>
public sealed record CondaPublishedFile(string FullPath, long Size, string Sha256, string ContentType)
{
    public string ETag => "\"" + Sha256 + "\"";
}

/// <summary>
/// One subdir as published: <c>repodata.json</c> and <c>repodata.json.zst</c> rendered once for this upstream state and
/// policy, the records they list (by file name), and the upstream state they were rendered from (for downloads).
/// </summary>
public sealed record CondaPublishedSubdir(
    string Channel, string Subdir, string Directory, CondaPublishedFile Repodata, CondaPublishedFile RepodataZst,
    IReadOnlySet<string> Listed, CondaSubdirState Upstream, string Fingerprint, DateTimeOffset PublishedAt, int Tier)
{
    public string Key => Channel + "/" + Subdir;
}

/// <summary>
/// Renders a subdir's filtered <c>repodata.json</c> as a stream to a file in a new folder
/// (<c>&lt;DataDirectory&gt;/conda/published/&lt;channel&gt;/&lt;subdir&gt;/&lt;id&gt;/</c>), compresses it once with zstd,
/// and hands the result back to be swapped in by reference: nothing served is modified in place. Older folders are
/// pruned, keeping the one served and the one before it (a client may be mid-download).
/// </summary>
public sealed class CondaPublisher(string dataDirectory)
{
    /// <summary>zstd level of <c>repodata.json.zst</c>: a large index compresses about tenfold at this level in seconds, not minutes.</summary>
    public const int ZstdLevel = 9;

    private string SubdirDirectory(string channel, string subdir) => Path.Combine(dataDirectory, "conda", "published", channel, subdir);

    public async Task<CondaPublishedSubdir> PublishAsync(CondaSubdirState state, IReadOnlyList<CondaRecord> listed, string fingerprint, int tier,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var directory = Path.Combine(SubdirDirectory(state.Channel, state.Subdir), id);
        Directory.CreateDirectory(directory);
        try
        {
            var json = Path.Combine(directory, "repodata.json");
            await using (var output = new FileStream(json, FileMode.CreateNew, FileAccess.Write, FileShare.None, 256 * 1024, useAsync: true))
            using (var upstream = state.OpenUpstream())
            {
                await RepodataWriter.WriteAsync(output, state.Subdir, upstream, listed, state.Repodata.Removed, cancellationToken).ConfigureAwait(false);
            }
            var zst = json + ".zst";
            await using (var input = new FileStream(json, FileMode.Open, FileAccess.Read, FileShare.Read, 256 * 1024, FileOptions.SequentialScan))
            await using (var output = new FileStream(zst, FileMode.CreateNew, FileAccess.Write, FileShare.None, 256 * 1024, useAsync: true))
            {
                await using var zstd = new ZstdSharp.CompressionStream(output, ZstdLevel, leaveOpen: true);
                await input.CopyToAsync(zstd, 256 * 1024, cancellationToken).ConfigureAwait(false);
            }
            var published = new CondaPublishedSubdir(state.Channel, state.Subdir, directory,
                await DescribeAsync(json, "application/json", cancellationToken).ConfigureAwait(false),
                await DescribeAsync(zst, "application/zstd", cancellationToken).ConfigureAwait(false),
                listed.Select(r => r.Filename).ToHashSet(StringComparer.Ordinal), state, fingerprint, now, tier);
            Prune(published);
            return published;
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static async Task<CondaPublishedFile> DescribeAsync(string path, string contentType, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 256 * 1024, FileOptions.SequentialScan);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return new CondaPublishedFile(path, stream.Length, Convert.ToHexStringLower(hash), contentType);
    }

    private void Prune(CondaPublishedSubdir current)
    {
        foreach (var old in Directory.GetDirectories(SubdirDirectory(current.Channel, current.Subdir)).Order(StringComparer.Ordinal).Reverse().Skip(2))
        {
            try
            {
                Directory.Delete(old, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
