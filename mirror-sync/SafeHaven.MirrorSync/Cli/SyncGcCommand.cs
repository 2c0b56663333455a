using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway;
using SafeHaven.MirrorSync.GarbageCollection;

namespace SafeHaven.MirrorSync.Cli;

/// <summary>
/// <c>safehaven sync gc [--dry-run]</c>: reclaims the blobs of snapshots retention forgot, keeping every blob a retained
/// snapshot, the airlock or the read-through artifact cache references; <c>--dry-run</c> reports what it would free.
/// Exit 0 when done, 1 when a reference source failed (nothing deleted), 2 for a bad configuration.
/// </summary>
public static class SyncGcCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config")
        {
            Description = "Configuration file (JSON), as for 'serve'. Default: safehaven.json beside the executable. Environment variables override it.",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be deleted and freed; delete nothing." };
        var command = new Command("gc", "Delete blobs no retained snapshot, airlock volume or cached artifact references (run while no sync runs).");
        command.Options.Add(config);
        command.Options.Add(dryRun);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(config);
            if (file is not null && !file.Exists)
            {
                await Console.Error.WriteLineAsync($"safehaven sync gc: configuration file {file.FullName} does not exist.").ConfigureAwait(false);
                return 2;
            }
            var configuration = new ConfigurationBuilder()
                .AddJsonFile(file?.FullName ?? Path.Combine(AppContext.BaseDirectory, "safehaven.json"), optional: file is null)
                .AddEnvironmentVariables()
                .Build();
            var options = configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>() ?? new SafeHavenOptions();
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            services.AddSafeHavenGateway(options);
            services.AddSnapshotSync(options);
            services.AddSingleton<IBlobReferences>(await AirlockBlobReferences.ForOptionsAsync(options, cancellationToken).ConfigureAwait(false));
            await using var provider = services.BuildServiceProvider();
            try
            {
                var collector = provider.GetRequiredService<SnapshotGarbageCollector>();
                var dry = parseResult.GetValue(dryRun);
                var report = await collector.CollectAsync(dry, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"{report.ForgottenSnapshots} forgotten snapshot(s), {report.Candidates} candidate blob(s)");
                foreach (var (source, kept) in report.KeptBy)
                {
                    Console.WriteLine($"  kept {kept}: referenced by {source}");
                }
                Console.WriteLine(dry
                    ? $"dry run: would delete {report.Deleted} blob(s), freeing {report.BytesFreed} bytes"
                    : $"deleted {report.Deleted} blob(s), freed {report.BytesFreed} bytes");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or InvalidDataException or IOException)
            {
                await Console.Error.WriteLineAsync($"safehaven sync gc: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
