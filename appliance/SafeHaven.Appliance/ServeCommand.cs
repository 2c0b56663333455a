using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SafeHaven.Airlock;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway;
using SafeHaven.Gateway.Snapshots;
using SafeHaven.Management;
using SafeHaven.MirrorSync;
using SafeHaven.MirrorSync.Sync;
using SafeHaven.Web;

namespace SafeHaven.Appliance;

/// <summary><c>safehaven serve</c>: runs the appliance (gateway, scheduled mirror jobs) until stopped.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config")
        {
            Description = "Configuration file (JSON). Default: safehaven.json beside the executable. Environment variables (SafeHaven__Tier=3, ...) override it.",
        };
        var command = new Command("serve", "Run the appliance: package mirrors, health and management API.");
        command.Options.Add(config);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(config);
            if (file is not null && !file.Exists)
            {
                await Console.Error.WriteLineAsync($"safehaven serve: configuration file {file.FullName} does not exist.").ConfigureAwait(false);
                return 2;
            }
            try
            {
                var app = ApplianceHost.Build(file?.FullName, []);
                await app.RunAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }
            catch (ApplianceConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"safehaven serve: invalid configuration:\n  {string.Join("\n  ", e.Problems)}").ConfigureAwait(false);
                return 2;
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync($"safehaven serve: invalid configuration:\n  {string.Join("\n  ", e.Failures)}").ConfigureAwait(false);
                return 2;
            }
            catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"safehaven serve: cannot listen: {e.Message}").ConfigureAwait(false);
                return 3;
            }
        });
        return command;
    }
}

/// <summary>A configuration the appliance refuses to start with, and every reason why.</summary>
internal sealed class ApplianceConfigurationException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Composes the appliance from its parts.</summary>
internal static class ApplianceHost
{
    public static WebApplication Build(string? configFile, string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        AddSources(builder.Configuration, configFile, args);

        var options = builder.Configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>() ?? new SafeHavenOptions();
        var problems = Validate(options);
        problems.AddRange(ManagementServiceCollectionExtensions.Validate(builder.Configuration));
        problems.AddRange(SyncSchedule.Validate(options));
        problems.AddRange(WebServiceCollectionExtensions.Validate(builder.Configuration));
        if (problems.Count > 0)
        {
            throw new ApplianceConfigurationException(problems);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Hosting's per-request diagnostics log only below Warning; while its category is enabled at all, it starts an
        // Activity and a log scope for every request, which costs the hot path for nothing here.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("Quartz", LogLevel.Warning);

        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        // Inline completions apply to every socket of the process, PostgreSQL's too: a store that waits on its database
        // on a socket event thread would stall that thread's other completions (the database's replies among them).
        // So with PostgreSQL the framework's default scheduling is kept, whatever the setting.
        if (options.Server.InlineScheduling && !SafeHaven.Core.Storage.Database.SafeHavenDatabase.IsPostgres(options.Database))
        {
            UseInlineScheduling(builder);
        }

        builder.Services.AddOptions<SafeHavenOptions>().BindConfiguration(SafeHavenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddProblemDetails();
        builder.Services.AddSafeHavenGateway(options);
        builder.Services.AddSafeHavenManagement(builder.Configuration, options);
        builder.Services.AddSafeHavenAirlock(options, builder.Configuration);
        builder.Services.AddSafeHavenWeb(builder.Configuration, options);
        var closureInterval = TimeSpan.FromMinutes(options.Mirrors.Values.Where(m => m.Enabled).Select(m => m.ClosureRefreshMinutes).DefaultIfEmpty(60).Min());
        builder.Services.AddMirrorSync(closureInterval, TimeSpan.FromMinutes(15), options);
        builder.Services.AddSnapshotSync(options);

        var app = builder.Build();
        MarkAuthenticationPlaced(app);
        app.UseExceptionHandler();
        // Snapshots (dated URLs, and the current snapshot of a mirror that serves them) come first; right after them
        // the capture point, so captures run the live mirrors in process; then routing, for everything after it.
        app.UseSafeHavenSnapshots();
        // The package mirrors and health probes are anonymous reads: they skip the authentication and authorisation
        // middleware entirely (a mirror must never answer 401, and this is the hot path); everything else goes through it.
        // Their handlers write their own bodies, so the status-code-pages middleware (problem details for bodiless
        // errors of the API) is left out of their path too.
        app.UseWhen(context => !IsAnonymousPath(context.Request.Path), secured =>
        {
            secured.UseStatusCodePages();
            secured.UseAuthentication();
            secured.UseAuthorization();
        });
        app.MapSafeHavenGateway();
        app.MapSafeHavenManagement();
        app.MapSnapshotSync();
        app.MapSafeHavenAirlock();
        app.MapSafeHavenWeb();
        MirrorSyncStartup.RequireClosures(app.Services, options);
        return app;
    }

    /// <summary>
    /// Socket completions and Kestrel's request processing run on the socket event threads (SafeHaven:Server:InlineScheduling).
    /// The runtime reads its switch once, when the first socket is created; nothing has opened one before the host
    /// is built, so setting it here takes effect for this process.
    /// </summary>
    private static void UseInlineScheduling(WebApplicationBuilder builder)
    {
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
    }

    /// <summary>
    /// WebApplication adds the authentication and authorisation middleware in front of everything unless the app
    /// placed them itself; it cannot see them inside the UseWhen branch below, so it would run them for the mirrors
    /// too. These are the markers it checks (set by UseAuthentication/UseAuthorization on the builder they run on).
    /// </summary>
    private static void MarkAuthenticationPlaced(IApplicationBuilder app)
    {
        app.Properties["__AuthenticationMiddlewareSet"] = true;
        app.Properties["__AuthorizationMiddlewareSet"] = true;
    }

    private static readonly PathString[] AnonymousPrefixes = ["/pypi", "/cran", "/nuget", "/conda", "/apt", "/healthz", "/readyz"];

    private static bool IsAnonymousPath(PathString path)
    {
        foreach (var prefix in AnonymousPrefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The configuration sources of every command: the JSON file, then environment variables, then arguments.</summary>
    public static IConfigurationBuilder AddSources(IConfigurationBuilder configuration, string? configFile, string[] args) =>
        configuration
            .AddJsonFile(configFile ?? Path.Combine(AppContext.BaseDirectory, "safehaven.json"), optional: configFile is null, reloadOnChange: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args);

    /// <summary>The configuration <c>serve</c> would run with, for commands that work on the same data (users, audit).</summary>
    public static (IConfiguration Configuration, SafeHavenOptions Options) LoadConfiguration(string? configFile)
    {
        var configuration = AddSources(new ConfigurationBuilder(), configFile, []).Build();
        var options = configuration.GetSection(SafeHavenOptions.Section).Get<SafeHavenOptions>() ?? new SafeHavenOptions();
        return (configuration, options);
    }

    /// <summary>Problems with the <c>SafeHaven:Database</c> section.</summary>
    public static IEnumerable<string> ValidateDatabase(DatabaseOptions database)
    {
        var provider = database.Provider?.Trim().ToLowerInvariant();
        if (provider is not ("" or null or "sqlite" or "postgres" or "postgresql"))
        {
            yield return $"SafeHaven:Database:Provider: '{database.Provider}' is not a database provider (supported: sqlite, postgres)";
            yield break;
        }
        if (provider is "postgres" or "postgresql")
        {
            if (string.IsNullOrWhiteSpace(database.ConnectionString))
            {
                yield return "SafeHaven:Database:ConnectionString: required with SafeHaven:Database:Provider=postgres (an Npgsql connection string, e.g. Host=db.example;Database=safehaven;Username=safehaven;Password=...)";
            }
        }
    }

    /// <summary>Everything wrong with a configuration, in the operator's terms (configuration keys).</summary>
    public static List<string> Validate(SafeHavenOptions options)
    {
        var problems = new List<string>();
        void Check(object instance, string prefix)
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true))
            {
                problems.AddRange(results.Select(r => $"{prefix}{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
            }
        }
        Check(options, "SafeHaven:");
        Check(options.Policy, "SafeHaven:Policy:");
        Check(options.Database, "SafeHaven:Database:");
        foreach (var (ecosystem, mirror) in options.Mirrors)
        {
            Check(mirror, $"SafeHaven:Mirrors:{ecosystem}:");
            if (ecosystem.ToLowerInvariant() is not ("pypi" or "cran" or "nuget" or "conda" or "apt"))
            {
                problems.Add($"SafeHaven:Mirrors:{ecosystem}: unknown ecosystem (pypi, cran, nuget, conda, apt)");
            }
            if (mirror.Enabled && !string.IsNullOrWhiteSpace(mirror.Upstream)
                && (!Uri.TryCreate(mirror.Upstream, UriKind.Absolute, out var upstream) || upstream.Scheme is not ("http" or "https")))
            {
                problems.Add($"SafeHaven:Mirrors:{ecosystem}:Upstream: '{mirror.Upstream}' is not an absolute http(s) URL");
            }
            if (mirror.Enabled)
            {
                problems.AddRange(SafeHaven.Gateway.Upstreams.UpstreamAccess.Validate(ecosystem, mirror));
            }
            if (!mirror.HasUpstream)
            {
                // A snapshot-only mirror (an import-only appliance): nothing upstream to check; its snapshots are served.
                if (!string.IsNullOrWhiteSpace(mirror.Sync.Schedule))
                {
                    problems.Add($"SafeHaven:Mirrors:{ecosystem}:Sync:Schedule: a scheduled sync needs an upstream (Upstream, Repositories or Channels)");
                }
            }
            else if (ecosystem.Equals(SafeHaven.Gateway.Ecosystems.Apt.AptMirror.Ecosystem, StringComparison.OrdinalIgnoreCase))
            {
                problems.AddRange(SafeHaven.Gateway.Ecosystems.Apt.AptConfiguration.Validate(mirror));
            }
            else if (mirror.Repositories.Count > 0)
            {
                problems.Add($"SafeHaven:Mirrors:{ecosystem}:Repositories: only the apt mirror has repositories");
            }
            if (mirror.HasUpstream && ecosystem.Equals(SafeHaven.Gateway.Ecosystems.Conda.CondaMirror.Ecosystem, StringComparison.OrdinalIgnoreCase))
            {
                problems.AddRange(SafeHaven.Gateway.Ecosystems.Conda.Channels.CondaConfiguration.Validate(mirror));
            }
            else if (mirror.Channels.Count > 0)
            {
                problems.Add($"SafeHaven:Mirrors:{ecosystem}:Channels: only the conda mirror has channels");
            }
            for (var i = 0; i < mirror.TrustedSigners.Count; i++)
            {
                if (!SafeHaven.Gateway.Ecosystems.NuGet.NuGetMirror.IsValidFingerprint(mirror.TrustedSigners[i]))
                {
                    problems.Add($"SafeHaven:Mirrors:{ecosystem}:TrustedSigners:{i}: '{mirror.TrustedSigners[i]}' is not a SHA-256 certificate fingerprint (64 hex digits)");
                }
            }
            for (var i = 0; i < mirror.TargetFrameworks.Count; i++)
            {
                if (global::NuGet.Frameworks.NuGetFramework.Parse(mirror.TargetFrameworks[i]).IsUnsupported)
                {
                    problems.Add($"SafeHaven:Mirrors:{ecosystem}:TargetFrameworks:{i}: '{mirror.TargetFrameworks[i]}' is not a NuGet target framework (e.g. net10.0)");
                }
            }
        }
        problems.AddRange(ValidateDatabase(options.Database));
        problems.AddRange(SafeHaven.Storage.S3.BlobStoreServiceCollectionExtensions.ValidateBlobStore(options));
        if (options.Tier >= 2 && options.Policy.MinimumAgeDays > options.Policy.MaximumLagDays)
        {
            problems.Add($"SafeHaven:Policy:MinimumAgeDays ({options.Policy.MinimumAgeDays}) exceeds MaximumLagDays ({options.Policy.MaximumLagDays}): the mirror could never be within its staleness bound");
        }
        foreach (var (ecosystem, file) in options.Policy.AllowlistFiles)
        {
            if (!string.IsNullOrWhiteSpace(file) && !File.Exists(file))
            {
                problems.Add($"SafeHaven:Policy:AllowlistFiles:{ecosystem}: {Path.GetFullPath(file)} does not exist");
            }
        }
        if (options.Tier >= 3)
        {
            foreach (var (ecosystem, _) in options.Mirrors.Where(m => m.Value.Enabled && m.Value.HasUpstream))
            {
                if (!options.Policy.AllowlistFiles.TryGetValue(ecosystem, out var file) || string.IsNullOrWhiteSpace(file))
                {
                    problems.Add($"SafeHaven:Policy:AllowlistFiles:{ecosystem}: required at tier {options.Tier}, where only approved packages are served");
                }
            }
        }
        return problems;
    }
}
