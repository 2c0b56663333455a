using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SafeHaven.Core.Storage;
using SafeHaven.Gateway.Ecosystems.Conda.Channels;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.Conda.Upstream;

/// <summary>
/// Reads one upstream subdir's <c>repodata.json</c>: conditionally (<c>If-None-Match</c> with the last ETag), spooled
/// to disk by <see cref="UpstreamHttp"/>, copied into the mirror's own folder while hashed (a byte-identical index is
/// not parsed again), then parsed as a stream (<see cref="RepodataReader"/>). Checks that the index is for the subdir
/// asked for and that its files come from a configured origin; dates every file with the appliance's first-seen time.
/// </summary>
public sealed class CondaUpstreamReader(string directory, IFirstSeenStore firstSeen, TimeProvider time, ILogger logger)
{
    public const string DateStore = "conda";
    private const string ManifestName = "state.json";

    private string SubdirDirectory(string channel, string subdir) => Path.Combine(directory, channel, subdir);

    /// <param name="previous">The subdir as last read: on 304, or when upstream's bytes are the same, it is kept.</param>
    public async Task<CondaSubdirState> ReadAsync(CondaChannel channel, UpstreamHttp http, string subdir, CondaSubdirState? previous, CancellationToken cancellationToken)
    {
        var url = channel.RepodataUrl(subdir);
        var etag = previous is { Missing: false } && File.Exists(previous.UpstreamFile) ? previous.ETag : null;
        using var document = await http.GetDocumentAsync(url, "application/json", etag, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (document.Status == HttpStatusCode.NotModified && previous is not null && etag is not null)
        {
            return await SaveAsync(previous with { ReadAt = now }, cancellationToken).ConfigureAwait(false);
        }
        var folder = new Uri(url, "./");
        if (document.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            logger.LogWarning("conda: upstream has no {Url} (HTTP {Status}); {Channel}/{Subdir} is served as an empty index", url, (int)document.Status, channel.Name, subdir);
            return await SaveAsync(CondaSubdirState.Empty(channel.Name, subdir, folder, now), cancellationToken).ConfigureAwait(false);
        }
        if (document.Status == HttpStatusCode.NotModified)
        {
            throw new UpstreamUnavailableException($"upstream answered 304 Not Modified for {url} without being asked conditionally");
        }

        var target = SubdirDirectory(channel.Name, subdir);
        Directory.CreateDirectory(target);
        var temporary = Path.Combine(target, ".tmp-" + Guid.NewGuid().ToString("N"));
        string sha256;
        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            await using (var body = document.OpenRead())
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            if (previous is not null && previous.UpstreamSha256 == sha256 && File.Exists(previous.UpstreamFile))
            {
                return await SaveAsync(previous with { ReadAt = now, ETag = document.ETag }, cancellationToken).ConfigureAwait(false);
            }
            var final = Path.Combine(target, sha256 + ".json");
            File.Move(temporary, final, overwrite: true);
            var state = await ParseAsync(channel, http, subdir, final, sha256, document.ETag, now, previous, cancellationToken).ConfigureAwait(false);
            return await SaveAsync(state, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The subdir as read before a restart (its kept upstream file parsed again), or null when there is none.</summary>
    public async Task<CondaSubdirState?> LoadAsync(CondaChannel channel, UpstreamHttp http, string subdir, CancellationToken cancellationToken)
    {
        var path = Path.Combine(SubdirDirectory(channel.Name, subdir), ManifestName);
        if (!File.Exists(path))
        {
            return null;
        }
        CondaSubdirManifest? manifest;
        await using (var stream = File.OpenRead(path))
        {
            manifest = await JsonSerializer.DeserializeAsync<CondaSubdirManifest>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (manifest is null)
        {
            return null;
        }
        var url = channel.RepodataUrl(subdir);
        if (manifest.UpstreamFile is null)
        {
            return CondaSubdirState.Empty(channel.Name, subdir, new Uri(url, "./"), manifest.ReadAt);
        }
        if (!File.Exists(manifest.UpstreamFile))
        {
            return null;
        }
        return await ParseAsync(channel, http, subdir, manifest.UpstreamFile, manifest.UpstreamSha256!, manifest.ETag, manifest.ReadAt, previous: null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<CondaSubdirState> ParseAsync(CondaChannel channel, UpstreamHttp http, string subdir, string file, string sha256, string? etag,
        DateTimeOffset readAt, CondaSubdirState? previous, CancellationToken cancellationToken)
    {
        var url = channel.RepodataUrl(subdir);
        CondaRepodata repodata;
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan))
        {
            // CPU-bound for a large index: off the request threads.
            repodata = await Task.Run(() => RepodataReader.Read(stream, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        if (repodata.Subdir is { } declared && declared != subdir)
        {
            throw new InvalidDataException($"{url} declares info.subdir '{declared}', not '{subdir}': refused (a misconfigured or substituted upstream)");
        }
        var artifactBase = new Uri(url, "./");
        if (!string.IsNullOrEmpty(repodata.BaseUrl))
        {
            // CEP 15: files are at base_url (absolute, or relative to the index). The appliance fetches them from there only
            // when it is a configured origin; clients never see it (the published index has no base_url).
            if (!Uri.TryCreate(url, repodata.BaseUrl.EndsWith('/') ? repodata.BaseUrl : repodata.BaseUrl + "/", out var resolved)
                || !http.IsAllowed(resolved))
            {
                throw new InvalidDataException($"{url} gives base_url '{repodata.BaseUrl}', which is not under a configured upstream origin (the channel's own, or FileOrigins)");
            }
            artifactBase = resolved;
        }
        var byFilename = new Dictionary<string, CondaRecord>(repodata.Records.Count, StringComparer.Ordinal);
        foreach (var record in repodata.Records)
        {
            byFilename.TryAdd(record.Filename, record);
        }
        await DateAsync(channel, subdir, repodata.Records, previous, readAt, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("conda: {Channel}/{Subdir}: {Records} records read from upstream ({Unreadable} unreadable, {NoSha} without sha256)",
            channel.Name, subdir, repodata.Records.Count, repodata.Unreadable, repodata.Records.Count(r => r.Sha256 is null));
        return new CondaSubdirState(channel.Name, subdir, file, sha256, etag, artifactBase, repodata, byFilename, readAt);
    }

    /// <summary>First-seen times: carried over from the previous read for files it had, asked of the store for the others.</summary>
    private async Task DateAsync(CondaChannel channel, string subdir, IReadOnlyList<CondaRecord> records, CondaSubdirState? previous, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var unknown = new List<string>();
        foreach (var record in records)
        {
            if (previous?.ByFilename.GetValueOrDefault(record.Filename) is { } known)
            {
                record.FirstSeenMs = known.FirstSeenMs;
            }
            else
            {
                unknown.Add(FirstSeenKey(channel.Name, subdir, record.Filename));
            }
        }
        if (unknown.Count == 0)
        {
            return;
        }
        var dates = await firstSeen.GetOrRecordAsync(DateStore, unknown, now, cancellationToken).ConfigureAwait(false);
        foreach (var record in records)
        {
            if (record.FirstSeenMs == 0 && dates.TryGetValue(FirstSeenKey(channel.Name, subdir, record.Filename), out var seen))
            {
                record.FirstSeenMs = seen.ToUnixTimeMilliseconds();
            }
        }
    }

    public static string FirstSeenKey(string channel, string subdir, string filename) => channel + "/" + subdir + "/" + filename;

    /// <summary>Records the state for a restart, then removes upstream files neither this state nor the one before it uses.</summary>
    private async Task<CondaSubdirState> SaveAsync(CondaSubdirState state, CancellationToken cancellationToken)
    {
        var target = SubdirDirectory(state.Channel, state.Subdir);
        Directory.CreateDirectory(target);
        var temporary = Path.Combine(target, ManifestName + ".tmp");
        await using (var stream = File.Create(temporary))
        {
            await JsonSerializer.SerializeAsync(stream, new CondaSubdirManifest(state.UpstreamFile, state.UpstreamSha256, state.ETag, state.ReadAt),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        File.Move(temporary, Path.Combine(target, ManifestName), overwrite: true);
        var keep = state.UpstreamFile is null ? null : Path.GetFileName(state.UpstreamFile);
        foreach (var old in Directory.GetFiles(target, "*.json").Where(f => Path.GetFileName(f) is var n && n != ManifestName && n != keep)
            .OrderByDescending(File.GetLastWriteTimeUtc).Skip(1))
        {
            // The newest older file stays: a publish or closure may still be reading it (an open handle survives deletion anyway).
            File.Delete(old);
        }
        return state;
    }
}
