using System.Diagnostics;
using SafeHaven.Core.Storage;
using SafeHaven.Core.Storage.Database;

// The metadata-database work of one index-cache miss, timed against one provider:
//   index cache: GetAsync (a miss), PutAsync (the page fetched upstream, ~20 KB), GetAsync (the next request, a hit);
//   first-seen: GetOrRecordAsync of a page's 50 file names, first time (all new: recorded) and again (all known).
// Usage: DbCost sqlite <file> <iterations> | DbCost postgres <connection string> <iterations>
// Prints one line per measure: provider, measure, iterations, total ms, microseconds per operation.
if (args.Length != 3 || !int.TryParse(args[2], out var iterations) || iterations < 1)
{
    Console.Error.WriteLine("usage: DbCost sqlite <file> <iterations> | DbCost postgres <connection string> <iterations>");
    return 2;
}
await using var database = args[0] switch
{
    "sqlite" => SafeHavenDatabase.ForSqliteFile(args[1]),
    "postgres" => SafeHavenDatabase.ForPostgres(args[1]),
    _ => throw new ArgumentException($"Unknown provider '{args[0]}' (sqlite or postgres)."),
};
var cache = await IndexCacheStore.OpenAsync(database, CancellationToken.None);
var firstSeen = await FirstSeenStore.OpenAsync(database, CancellationToken.None);
var page = new byte[20_000];
Random.Shared.NextBytes(page);
var now = DateTimeOffset.UtcNow;

// Warm-up (connection pool, prepared plans, JIT), not recorded.
for (var i = 0; i < 50; i++)
{
    await Miss($"warm-{i}");
    await firstSeen.GetOrRecordAsync("bench", Files($"warm-{i}"), now, CancellationToken.None);
}

var miss = Stopwatch.StartNew();
for (var i = 0; i < iterations; i++)
{
    await Miss($"project-{i}");
}
miss.Stop();
var recorded = Stopwatch.StartNew();
for (var i = 0; i < iterations; i++)
{
    await firstSeen.GetOrRecordAsync("bench", Files($"project-{i}"), now, CancellationToken.None);
}
recorded.Stop();
var known = Stopwatch.StartNew();
for (var i = 0; i < iterations; i++)
{
    await firstSeen.GetOrRecordAsync("bench", Files($"project-{i}"), now.AddHours(1), CancellationToken.None);
}
known.Stop();

Report("index-cache miss (get miss + put 20 KB + get hit)", miss);
Report("first-seen 50 new files (recorded)", recorded);
Report("first-seen 50 known files (read)", known);
return 0;

async Task Miss(string key)
{
    if (await cache.GetAsync("bench", key, CancellationToken.None) is not null)
    {
        throw new InvalidOperationException($"{key} was expected to be a miss.");
    }
    await cache.PutAsync("bench", key, new CachedIndex(page, now, "\"etag\""), CancellationToken.None);
    _ = await cache.GetAsync("bench", key, CancellationToken.None) ?? throw new InvalidOperationException($"{key} was not stored.");
}

static string[] Files(string project) => [.. Enumerable.Range(0, 50).Select(f => $"{project}-{f}.tar.gz")];

void Report(string measure, Stopwatch elapsed) =>
    Console.WriteLine($"{args[0]}\t{measure}\t{iterations}\t{elapsed.Elapsed.TotalMilliseconds:0.0}\t{elapsed.Elapsed.TotalMicroseconds / iterations:0.0}");
