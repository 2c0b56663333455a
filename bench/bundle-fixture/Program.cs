using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;

// Usage: BundleFixture DATA_DIR TOTAL_MIB NEW_PERCENT
// Publishes a pypi snapshot of wheel-like random blobs totalling about TOTAL_MIB into DATA_DIR (blobs in DATA/blobs,
// the snapshots table in DATA/safehaven.db: what 'safehaven serve' and 'safehaven sync' use). When DATA_DIR already has
// a current pypi snapshot, publishes its successor instead: the same artifacts minus NEW_PERCENT of them, plus as many
// new ones, and new index documents (an upstream's churn between two syncs). Prints the snapshot id.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: BundleFixture DATA_DIR TOTAL_MIB NEW_PERCENT");
    return 2;
}
var data = Path.GetFullPath(args[0]);
var totalBytes = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) * 1024 * 1024;
var newPercent = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var blobs = new FileSystemBlobStore(Path.Combine(data, "blobs"));
var store = SnapshotStore.ForFile(Path.Combine(data, "safehaven.db"));
var manifests = new SnapshotManifests(blobs);
var publisher = new SnapshotPublisher(blobs, manifests, store);
var random = new Random(newPercent * 7919 + (int)(totalBytes >> 20));

var previous = await store.GetCurrentAsync("pypi", CancellationToken.None);
var artifacts = new List<SnapshotEntry>();
long budget = totalBytes;
if (previous is not null)
{
    var old = (await manifests.LoadAsync(previous.Id, CancellationToken.None)).Entries.Where(e => e.Kind == SnapshotEntryKind.Artifact).ToList();
    var drop = old.Count * newPercent / 100;
    artifacts.AddRange(old.Skip(drop));
    budget = old.Take(drop).Sum(e => e.Size);
}

// Wheel-like sizes: log-uniform between 16 KiB and 8 MiB (most wheels are small, a few are large).
var buffer = new byte[1 << 20];
var project = artifacts.Count;
while (budget > 0)
{
    var size = (long)Math.Min(budget, Math.Exp(Math.Log(16 * 1024) + random.NextDouble() * (Math.Log(8 * 1024 * 1024) - Math.Log(16 * 1024))));
    await using var writer = await blobs.BeginWriteAsync(CancellationToken.None);
    for (long written = 0; written < size;)
    {
        var n = (int)Math.Min(buffer.Length, size - written);
        RandomNumberGenerator.Fill(buffer.AsSpan(0, n));
        await writer.WriteAsync(buffer.AsMemory(0, n), CancellationToken.None);
        written += n;
    }
    var digest = await writer.CommitAsync(null, CancellationToken.None);
    var name = $"benchpkg{project++:D5}";
    artifacts.Add(new SnapshotEntry($"packages/{digest.Hex[..2]}/{digest.Hex[2..4]}/{name}-1.0-py3-none-any.whl", "application/octet-stream", digest.Hex, size, SnapshotEntryKind.Artifact));
    budget -= size;
}

// One index page per 50 artifacts, and the root page: the documents change with every sync.
var entries = new List<SnapshotEntry>(artifacts);
var stamp = DateTimeOffset.UtcNow;
foreach (var chunk in artifacts.Chunk(50).Select((c, i) => (c, i)))
{
    var html = Encoding.UTF8.GetBytes($"<!DOCTYPE html><!-- {stamp:O} -->\n" + string.Join("\n", chunk.c.Select(a => $"<a href=\"../../{a.Path}#sha256={a.Sha256}\">{Path.GetFileName(a.Path)}</a>")));
    var digest = await blobs.PutAsync(new MemoryStream(html), null, CancellationToken.None);
    entries.Add(new SnapshotEntry($"simple/group{chunk.i:D4}/", "text/html", digest.Hex, html.Length, SnapshotEntryKind.Document));
}
var root = Encoding.UTF8.GetBytes($"<!DOCTYPE html><!-- {stamp:O} -->\n" + string.Join("\n", Enumerable.Range(0, (artifacts.Count + 49) / 50).Select(i => $"<a href=\"group{i:D4}/\">group{i:D4}</a>")));
var rootDigest = await blobs.PutAsync(new MemoryStream(root), null, CancellationToken.None);
entries.Add(new SnapshotEntry("simple/", "text/html", rootDigest.Hex, root.Length, SnapshotEntryKind.Document));

var created = new DateTimeOffset(stamp.UtcTicks - stamp.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
var record = await publisher.PublishAsync(new SnapshotManifest(1, "pypi", created, 3, previous?.Id, "sync", entries), CancellationToken.None);
Console.WriteLine(record.Id);
Console.Error.WriteLine($"snapshot {record.Id}: {record.Artifacts} artifacts, {record.Documents} documents, {record.Bytes / 1048576.0:0.0} MiB");
return 0;
