using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Snapshots;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.MirrorSync.Bundles;

namespace SafeHaven.MirrorSync.Tests.Bundles;

/// <summary>
/// One appliance's data as the bundle code sees it: a real filesystem blob store, the real SQLite snapshot store and
/// the appliance's real OpenPGP key (BouncyCastle), in a throwaway directory. No mocks: the exporter and importer run
/// against exactly what <c>safehaven sync</c> builds from the configuration.
/// </summary>
internal sealed class ApplianceData : IDisposable
{
    public ApplianceData(int tier = 3)
    {
        Root = Directory.CreateTempSubdirectory("safehaven-bundle-").FullName;
        Tier = tier;
        Blobs = new FileSystemBlobStore(Path.Combine(Root, "blobs"));
        Store = SnapshotStore.ForFile(Path.Combine(Root, "safehaven.db"));
        Manifests = new SnapshotManifests(Blobs);
        Publisher = new SnapshotPublisher(Blobs, Manifests, Store);
        Key = new AptArchiveKey(AptArchiveKey.PathIn(Root), TimeProvider.System);
    }

    public string Root { get; }
    public int Tier { get; }
    public FileSystemBlobStore Blobs { get; }
    public SnapshotStore Store { get; }
    public SnapshotManifests Manifests { get; }
    public SnapshotPublisher Publisher { get; }
    public AptArchiveKey Key { get; }

    public string PublicKeyFile()
    {
        var path = Path.Combine(Root, "appliance-key.asc");
        File.WriteAllText(path, Key.PublicKeyArmored());
        return path;
    }

    public BundleExporter Exporter() => new(Blobs, Manifests, Key, TimeProvider.System);

    public BundleImporter Importer(params string[] trustedKeyFiles) =>
        new(Blobs, Manifests, Store, Publisher, BundleTrust.Load(trustedKeyFiles), Tier, TimeProvider.System);

    /// <summary>Stores <paramref name="artifacts"/> random blobs (plus one index document naming them) and publishes them as a snapshot.</summary>
    public async Task<(SnapshotRecord Record, SnapshotManifest Manifest)> PublishAsync(
        int artifacts, int artifactBytes, IReadOnlyList<SnapshotEntry>? keep = null, int? tier = null, string? parent = null)
    {
        var entries = new List<SnapshotEntry>(keep ?? []);
        for (var i = 0; i < artifacts; i++)
        {
            var bytes = RandomNumberGenerator.GetBytes(artifactBytes + i);
            var digest = await Blobs.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
            entries.Add(new SnapshotEntry($"packages/{Guid.NewGuid():N}/pkg-{i}.whl", "application/octet-stream", digest.Hex, bytes.Length, SnapshotEntryKind.Artifact));
        }
        var index = Encoding.UTF8.GetBytes("<!DOCTYPE html>\n" + string.Join("\n", entries.Select(e => $"<a href=\"../../{e.Path}#sha256={e.Sha256}\">{e.Path}</a>")));
        var indexDigest = await Blobs.PutAsync(new MemoryStream(index), null, CancellationToken.None);
        entries.RemoveAll(e => e.Path == "simple/");
        entries.Add(new SnapshotEntry("simple/", "text/html", indexDigest.Hex, index.Length, SnapshotEntryKind.Document));
        var now = DateTimeOffset.UtcNow;
        var manifest = new SnapshotManifest(1, "pypi", new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero),
            tier ?? Tier, parent, "sync", entries);
        var record = await Publisher.PublishAsync(manifest, CancellationToken.None);
        return (record, manifest);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Two appliances, A (exporter) and B (importer), and a scratch directory for bundles.</summary>
public abstract class TwoAppliances : IDisposable
{
    private protected ApplianceData A { get; } = new();
    private protected ApplianceData B { get; } = new();
    protected string Out { get; } = Directory.CreateTempSubdirectory("safehaven-bundle-out-").FullName;

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        Directory.Delete(Out, recursive: true);
    }

    internal static IBundleTarget Target(string path) =>
        path.EndsWith(".tar", StringComparison.Ordinal) ? new TarBundleTarget(path) : new DirectoryBundleTarget(path);

    internal static IBundleSource Source(string path) =>
        path.EndsWith(".tar", StringComparison.Ordinal) ? TarBundleSource.ForFile(path) : new DirectoryBundleSource(path);
}

internal static class Tools
{
    /// <summary>Runs a real program (gpgv, sqv) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
