using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SafeHaven.Airlock;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Snapshots;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Airlock.Storage;
using SafeHaven.Gateway.Ecosystems.Apt.Publishing;
using SafeHaven.Management;
using SafeHaven.Management.Audit;
using SafeHaven.MirrorSync.Bundles;
using SafeHaven.Storage.S3;

namespace SafeHaven.MirrorSync.Cli;

/// <summary>What the appliance host gives the sync commands: its configuration loader (as <c>serve</c> reads it) and the audit actor.</summary>
public sealed record SyncCommandHost(Func<string?, (IConfiguration Configuration, SafeHavenOptions Options)> LoadConfiguration, string Actor);

/// <summary>
/// <c>safehaven sync export|import</c> (and the subcommands the host adds, such as <c>gc</c>): signed snapshot bundles
/// for air-gapped sites. Exit codes: 0 done; 1 refused or failed (the message says why; nothing was published);
/// 2 a usage or configuration error.
/// </summary>
public static class SyncCommand
{
    public static Command Create(SyncCommandHost host, params Command[] more)
    {
        ArgumentNullException.ThrowIfNull(host);
        var command = new Command("sync", "Snapshots: export and import signed bundles for sites with no upstream.");
        command.Subcommands.Add(Export(host));
        command.Subcommands.Add(Import(host));
        foreach (var subcommand in more)
        {
            command.Subcommands.Add(subcommand);
        }
        return command;
    }

    private static Option<FileInfo?> ConfigOption() => new("--config")
    {
        Description = "Configuration file (JSON), as for 'serve'. Default: safehaven.json beside the executable. Environment variables override it.",
    };

    private static Command Export(SyncCommandHost host)
    {
        var to = new Option<string>("--to") { Description = "A directory, or a file ending in .tar, to write the bundle to (an interrupted export resumes there).", Required = true };
        var since = new Option<string?>("--since") { Description = "Incremental: leave out the blobs of this earlier snapshot (id or prefix of 8+ hex digits)." };
        var ecosystem = new Option<string?>("--ecosystem") { Description = "pypi, cran, nuget, conda or apt (default: every ecosystem with a current snapshot)." };
        ecosystem.AcceptOnlyFromAmong([.. SnapshotManifest.Ecosystems]);
        var snapshot = new Option<string?>("--snapshot") { Description = "The snapshot to export (id or prefix; default: the current one)." };
        var config = ConfigOption();
        var command = new Command("export", "Write a signed bundle of a snapshot (full, or incremental with --since), signed with the appliance's key.");
        foreach (var option in new Option[] { to, since, ecosystem, snapshot, config })
        {
            command.Options.Add(option);
        }
        command.SetAction((parseResult, cancellationToken) => RunAsync(host, parseResult.GetValue(config), "export", async (context, ct) =>
        {
            var destination = parseResult.GetValue(to)!;
            var selected = await SelectAsync(context.Store, parseResult.GetValue(ecosystem), parseResult.GetValue(snapshot), parseResult.GetValue(since), ct).ConfigureAwait(false);
            var tar = destination.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);
            if (selected.Count > 1 && tar)
            {
                throw new UsageException($"{selected.Count} ecosystems have snapshots ({string.Join(", ", selected.Select(s => s.Snapshot.Ecosystem))}): a tar bundle holds one; name it with --ecosystem, or export to a directory (one bundle per ecosystem below it).");
            }
            var key = new AptArchiveKey(AptArchiveKey.PathIn(context.Options.ResolveDataPath()), TimeProvider.System);
            var exporter = new BundleExporter(context.Blobs, context.Manifests, key, TimeProvider.System);
            foreach (var (record, baseRecord) in selected)
            {
                var path = selected.Count > 1 ? Path.Combine(destination, record.Ecosystem) : destination;
                await using IBundleTarget target = tar ? new TarBundleTarget(path) : new DirectoryBundleTarget(path);
                var result = await ConsoleBundleProgress.RunAsync(p => exporter.ExportAsync(record, baseRecord, target, p, ct)).ConfigureAwait(false);
                await context.AuditAsync(AuditRecord.Of(host.Actor, "sync.bundle.exported", result.Snapshot, null,
                    ("ecosystem", result.Ecosystem), ("base", result.Base), ("to", result.Target), ("members", result.Members.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("bytes", result.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("signer", result.Signer)), ct).ConfigureAwait(false);
            }
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Import(SyncCommandHost host)
    {
        var bundle = new Argument<string?>("bundle") { Description = "The bundle: a directory, a .tar file, or a directory of per-ecosystem bundles.", Arity = ArgumentArity.ZeroOrOne };
        var fromAirlock = new Option<string?>("--from-airlock") { Description = "Import the bundle of this APPROVED software-ingress airlock submission (read from its volume)." };
        var config = ConfigOption();
        var command = new Command("import", "Verify a signed bundle (signature by a key in SafeHaven:Sync:TrustedKeys, every hash) and publish its snapshot.");
        command.Arguments.Add(bundle);
        command.Options.Add(fromAirlock);
        command.Options.Add(config);
        command.SetAction((parseResult, cancellationToken) => RunAsync(host, parseResult.GetValue(config), "import", async (context, ct) =>
        {
            var path = parseResult.GetValue(bundle);
            var submission = parseResult.GetValue(fromAirlock);
            if ((path is null) == (submission is null))
            {
                throw new UsageException("give either a BUNDLE path or --from-airlock SUBMISSION, not both or neither.");
            }
            var trust = BundleTrust.FromConfiguration(context.Configuration);
            var importer = new BundleImporter(context.Blobs, context.Manifests, context.Store, context.Publisher, trust, context.Options.Tier, TimeProvider.System);
            var sources = submission is not null ? [await OpenAirlockAsync(context, submission, ct).ConfigureAwait(false)] : OpenPath(path!);
            foreach (var source in sources)
            {
                await using (source.ConfigureAwait(false))
                {
                    try
                    {
                        var result = await ConsoleBundleProgress.RunAsync(p => importer.ImportAsync(source, p, ct)).ConfigureAwait(false);
                        await context.AuditAsync(AuditRecord.Of(host.Actor, "sync.bundle.imported", result.Snapshot, null,
                            ("ecosystem", result.Ecosystem), ("exportedAs", result.ExportedSnapshot), ("base", result.Base), ("from", result.Source),
                            ("signer", result.Signer), ("blobsCopied", result.BlobsCopied.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                            ("blobsPresent", result.BlobsAlreadyPresent.ToString(System.Globalization.CultureInfo.InvariantCulture))), ct).ConfigureAwait(false);
                    }
                    catch (BundleRefusedException e)
                    {
                        await context.AuditAsync(AuditRecord.Of(host.Actor, "sync.bundle.refused", source.Description, null, ("reason", e.Message)), CancellationToken.None).ConfigureAwait(false);
                        throw;
                    }
                }
            }
            return 0;
        }, cancellationToken));
        return command;
    }

    /// <summary>A bundle path: a tar file, a bundle directory, or a directory whose subdirectories are bundles (an export of several ecosystems).</summary>
    private static List<IBundleSource> OpenPath(string path)
    {
        if (File.Exists(path))
        {
            return [TarBundleSource.ForFile(path)];
        }
        if (!Directory.Exists(path))
        {
            if (File.Exists(path + ".partial"))
            {
                throw new BundleRefusedException($"{Path.GetFullPath(path)} does not exist, but {path}.partial does: its export did not finish; run the export again to complete it.");
            }
            throw new UsageException($"{Path.GetFullPath(path)} does not exist.");
        }
        if (File.Exists(Path.Combine(path, BundleLayout.DescriptorName)) || !Directory.EnumerateDirectories(path).Any(d => SnapshotManifest.Ecosystems.Contains(Path.GetFileName(d))))
        {
            return [new DirectoryBundleSource(path)];
        }
        var unexpected = Directory.EnumerateFileSystemEntries(path).Where(e => !SnapshotManifest.Ecosystems.Contains(Path.GetFileName(e))).ToList();
        if (unexpected.Count > 0)
        {
            throw new BundleRefusedException($"{Path.GetFullPath(path)} holds neither a bundle.json nor only per-ecosystem bundles ({Path.GetFileName(unexpected[0])} is unexpected).");
        }
        return [.. Directory.EnumerateDirectories(path).Order(StringComparer.Ordinal).Select(d => new DirectoryBundleSource(d))];
    }

    private static async Task<IBundleSource> OpenAirlockAsync(Context context, string submissionId, CancellationToken ct)
    {
        // The airlock's tables in the appliance's database (SafeHaven:Database), as the server opens them.
        var database = await AirlockDatabase.OpenAsync(SafeHavenDatabase.Create(context.Options), context.Options.ResolveDataPath("airlock.db"), ct).ConfigureAwait(false);
        return await AirlockBundleSource.OpenAsync(new SubmissionStore(database), new DatabaseVolumeStore(database), context.Blobs, submissionId, ct).ConfigureAwait(false);
    }

    private static async Task<List<(SnapshotRecord Snapshot, SnapshotRecord? Base)>> SelectAsync(
        ISnapshotStore store, string? ecosystem, string? snapshot, string? since, CancellationToken ct)
    {
        async Task<SnapshotRecord> Find(string id, string what, IEnumerable<string> ecosystems)
        {
            var found = new List<SnapshotRecord>();
            foreach (var eco in ecosystems)
            {
                if (await store.FindAsync(eco, id, ct).ConfigureAwait(false) is { } record)
                {
                    found.Add(record);
                }
            }
            return found.Count switch
            {
                1 => found[0],
                0 => throw new UsageException($"{what} '{id}' matches no snapshot{(ecosystem is null ? "" : $" of {ecosystem}")} (give the id or a prefix of at least 8 hex digits; an ambiguous prefix matches none)."),
                _ => throw new UsageException($"{what} '{id}' matches snapshots of {string.Join(" and ", found.Select(f => f.Ecosystem))}; name one with --ecosystem."),
            };
        }
        var ecosystems = ecosystem is null ? SnapshotManifest.Ecosystems.Order(StringComparer.Ordinal).ToList() : [ecosystem];
        if (snapshot is not null)
        {
            var record = await Find(snapshot, "--snapshot", ecosystems).ConfigureAwait(false);
            return [(record, since is null ? null : await Find(since, "--since", [record.Ecosystem]).ConfigureAwait(false))];
        }
        if (since is not null)
        {
            var baseRecord = await Find(since, "--since", ecosystems).ConfigureAwait(false);
            var current = await store.GetCurrentAsync(baseRecord.Ecosystem, ct).ConfigureAwait(false)
                ?? throw new UsageException($"there is no current {baseRecord.Ecosystem} snapshot to export.");
            return [(current, baseRecord)];
        }
        var selected = new List<(SnapshotRecord, SnapshotRecord?)>();
        foreach (var eco in ecosystems)
        {
            if (await store.GetCurrentAsync(eco, ct).ConfigureAwait(false) is { } current)
            {
                selected.Add((current, null));
            }
        }
        return selected.Count > 0 ? selected
            : throw new UsageException(ecosystem is null ? "there is no snapshot to export (no ecosystem has a current snapshot)." : $"there is no current {ecosystem} snapshot to export.");
    }

    private static async Task<int> RunAsync(SyncCommandHost host, FileInfo? config, string name, Func<Context, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var prefix = $"safehaven sync {name}";
        if (config is not null && !config.Exists)
        {
            await Console.Error.WriteLineAsync($"{prefix}: configuration file {config.FullName} does not exist.").ConfigureAwait(false);
            return 2;
        }
        try
        {
            var (configuration, options) = host.LoadConfiguration(config?.FullName);
            if (BlobStoreServiceCollectionExtensions.ValidateBlobStore(options) is { Count: > 0 } problems)
            {
                await Console.Error.WriteLineAsync($"{prefix}: {string.Join("; ", problems)}").ConfigureAwait(false);
                return 2;
            }
            var services = new ServiceCollection();
            services.AddSingleton(BlobStoreServiceCollectionExtensions.CreateBlobStore(options));
            services.AddSafeHavenSnapshots(options);
            await using var provider = services.BuildServiceProvider();
            var context = new Context(configuration, options, provider.GetRequiredService<IBlobStore>(), provider.GetRequiredService<ISnapshotStore>(),
                provider.GetRequiredService<SnapshotManifests>(), provider.GetRequiredService<SnapshotPublisher>());
            return await action(context, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"{prefix}: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (BundleRefusedException e)
        {
            await Console.Error.WriteLineAsync($"{prefix}: REFUSED: {e.Message} Nothing was published.").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"{prefix}: FAILED: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private sealed class UsageException(string message) : Exception(message);

    private sealed record Context(
        IConfiguration Configuration, SafeHavenOptions Options, IBlobStore Blobs, ISnapshotStore Store, SnapshotManifests Manifests, SnapshotPublisher Publisher)
    {
        /// <summary>Each export and import is recorded in the appliance's audit log.</summary>
        public Task AuditAsync(AuditRecord record, CancellationToken ct) => ManagementStores.Open(Options).Audit.AppendAsync(record, ct);
    }
}
