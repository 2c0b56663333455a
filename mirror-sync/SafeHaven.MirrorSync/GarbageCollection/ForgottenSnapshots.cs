using System.Text;
using SafeHaven.Core.Snapshots;

namespace SafeHaven.MirrorSync.GarbageCollection;

/// <summary>
/// The snapshots retention forgot whose blobs the garbage collector has not yet reclaimed: one <c>&lt;ecosystem&gt; &lt;id&gt;</c>
/// line each in <c>DATA/snapshots/forgotten.txt</c>. Written before a snapshot's record is deleted, so a crash in between
/// leaves a candidate, never an unreachable blob. Rewrites replace the file whole (write, flush, rename).
/// </summary>
public sealed class ForgottenSnapshots(string path)
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public string Path => path;

    public async Task AddAsync(string ecosystem, string id, CancellationToken cancellationToken)
    {
        if (!SnapshotManifest.Ecosystems.Contains(ecosystem) || !SnapshotManifest.IsLowerHexDigest(id))
        {
            throw new ArgumentException($"not a snapshot: {ecosystem} {id}");
        }
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            await using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            var line = Encoding.ASCII.GetBytes($"{ecosystem} {id}\n");
            await stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The forgotten snapshots, oldest first; a malformed line is refused (the list is written only here).</summary>
    public async Task<IReadOnlyList<(string Ecosystem, string Id)>> ListAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        var result = new List<(string, string)>();
        var number = 0;
        foreach (var line in await File.ReadAllLinesAsync(path, Encoding.ASCII, cancellationToken).ConfigureAwait(false))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            var parts = line.Split(' ');
            if (parts.Length != 2 || !SnapshotManifest.Ecosystems.Contains(parts[0]) || !SnapshotManifest.IsLowerHexDigest(parts[1]))
            {
                throw new InvalidDataException($"{path} line {number} is not '<ecosystem> <snapshot id>'");
            }
            result.Add((parts[0], parts[1]));
        }
        return result.Distinct().ToList();
    }

    /// <summary>Drops the given snapshots from the list (after their blobs were reclaimed).</summary>
    public async Task RemoveAsync(IReadOnlyCollection<(string Ecosystem, string Id)> done, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var remaining = (await ListAsync(cancellationToken).ConfigureAwait(false)).Where(f => !done.Contains(f)).ToList();
            var temporary = path + ".tmp";
            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Concat(remaining.Select(f => $"{f.Ecosystem} {f.Id}\n"))), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            _lock.Release();
        }
    }
}
