using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using SafeHaven.Airlock.Api;
using SafeHaven.Airlock.Inspection;
using SafeHaven.Airlock.Integrity;
using SafeHaven.Airlock.Scanning;
using SafeHaven.Airlock.Submissions;
using SafeHaven.Airlock.Tokens;
using SafeHaven.Airlock.Uploads;
using SafeHaven.Airlock.Volumes;
using SafeHaven.Core.Blobs;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.Storage.Database;
using SafeHaven.Storage.S3;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SafeHaven.Airlock.Storage;

namespace SafeHaven.Airlock;

/// <summary><c>SafeHaven:Airlock</c>: inspection limits and the re-verification schedule.</summary>
public sealed class AirlockOptions
{
    public const string Section = "SafeHaven:Airlock";

    /// <summary>How often the integrity job re-hashes every stored volume.</summary>
    public double IntegrityIntervalHours { get; set; } = 24;

    /// <summary>
    /// The longest an inspection may run: past it the submission moves from <c>scanning</c> to <c>failed</c>
    /// (rescannable) with the reason.
    /// </summary>
    public int ScanTimeoutSeconds { get; set; } = 3600;

    /// <summary>How many inspections run at once on this appliance; more wait in <c>submitted</c> (default 1).</summary>
    public int MaxConcurrentScans { get; set; } = 1;

    /// <summary>How often the scan job looks for pending inspections and overdue ones (it is also nudged on every submit).</summary>
    public int ScanPollSeconds { get; set; } = 10;

    /// <summary>
    /// A worker's claim on an inspection lasts this long and is renewed every third of it; a worker that dies (another
    /// replica) is taken over once its lease lapses.
    /// </summary>
    public int ScanLeaseSeconds { get; set; } = 60;

    /// <summary>This appliance's name among replicas sharing the airlock store (default: the machine name). Claims of an
    /// earlier run of the same name are dropped at start, so its interrupted inspections resume at once.</summary>
    public string? ScanWorkerId { get; set; }

    /// <summary>Every problem with the scan settings (empty: none).</summary>
    public IReadOnlyList<string> ValidateScanning()
    {
        var problems = new List<string>();
        if (ScanTimeoutSeconds <= 0)
        {
            problems.Add($"{Section}:ScanTimeoutSeconds must be positive (is {ScanTimeoutSeconds}).");
        }
        // Scans run on the appliance's Quartz threads (10), which the mirror jobs share: leave them room.
        if (MaxConcurrentScans is < 1 or > 8)
        {
            problems.Add($"{Section}:MaxConcurrentScans must be 1 to 8 (is {MaxConcurrentScans}).");
        }
        if (ScanPollSeconds is < 1 or > 3600)
        {
            problems.Add($"{Section}:ScanPollSeconds must be 1 to 3600 (is {ScanPollSeconds}).");
        }
        if (ScanLeaseSeconds is < 3 or > 86400)
        {
            problems.Add($"{Section}:ScanLeaseSeconds must be 3 to 86400 (is {ScanLeaseSeconds}).");
        }
        if (ScanWorkerId is { } id && (id.Length is 0 or > 100 || id.Contains('/', StringComparison.Ordinal)))
        {
            problems.Add($"{Section}:ScanWorkerId must be 1 to 100 characters without '/'.");
        }
        return problems;
    }

    public InspectionOptions Inspection { get; set; } = new();

    public AirlockStorageOptions Storage { get; set; } = new();
}

/// <summary><c>SafeHaven:Airlock:Storage</c>: what deposits may declare, and the free space every store keeps.</summary>
public sealed class AirlockStorageOptions
{
    private const long GiB = 1024L * 1024 * 1024;

    /// <summary>Everything one submission may hold: its files plus what its open uploads declare (default 1 TiB).</summary>
    public long MaxSubmissionBytes { get; set; } = 1024 * GiB;

    /// <summary>Everything one airlock volume may hold, submission and document volumes alike (default 1 TiB).</summary>
    public long MaxVolumeBytes { get; set; } = 1024 * GiB;

    /// <summary>
    /// Free space every store (data directory, file-system blob store) keeps: below it <c>/healthz</c> is degraded,
    /// and a declaration that would leave less is refused with 507 (default 1 GiB).
    /// </summary>
    public long MinFreeBytes { get; set; } = GiB;

    /// <summary>Every problem with these values (empty: none).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxSubmissionBytes <= 0)
        {
            problems.Add($"{AirlockOptions.Section}:Storage:MaxSubmissionBytes must be positive (is {MaxSubmissionBytes}).");
        }
        if (MaxVolumeBytes <= 0)
        {
            problems.Add($"{AirlockOptions.Section}:Storage:MaxVolumeBytes must be positive (is {MaxVolumeBytes}).");
        }
        if (MinFreeBytes < 0)
        {
            problems.Add($"{AirlockOptions.Section}:Storage:MinFreeBytes must be 0 or more (is {MinFreeBytes}).");
        }
        return problems;
    }
}

public static class AirlockServiceCollectionExtensions
{
    /// <summary>
    /// Registers the airlock: its tables in the appliance's database (<see cref="SafeHavenDatabase"/>; a former
    /// <c>DATA/airlock.db</c> is adopted once), volumes and uploads (files in the appliance's <see cref="IBlobStore"/>, which
    /// must be registered; in-flight chunks in the <c>airlock-chunks</c> area of the same provider), the workflow, tokens,
    /// inspection, and the integrity job on the appliance's Quartz scheduler. Needs the management services.
    /// </summary>
    public static IServiceCollection AddSafeHavenAirlock(this IServiceCollection services, SafeHavenOptions options, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var airlock = configuration?.GetSection(AirlockOptions.Section).Get<AirlockOptions>() ?? new AirlockOptions();
        if (airlock.ValidateScanning() is { Count: > 0 } scanning)
        {
            throw new InvalidOperationException(string.Join(" ", scanning));
        }
        if (airlock.Storage.Validate() is { Count: > 0 } invalid)
        {
            throw new InvalidOperationException(string.Join(" ", invalid));
        }
        services.AddSingleton(airlock);
        var stores = AirlockStorageHealth.StoresOf(options);
        services.AddSingleton(new AirlockStorageHealth(stores, airlock.Storage.MinFreeBytes));
        services.AddSingleton<SafeHaven.Gateway.Health.IHealthContributor>(sp => sp.GetRequiredService<AirlockStorageHealth>());
        // The appliance's one metadata database (the management stores use the same singleton): the airlock's tables
        // sit beside the audit log, so a state change and its audit entry commit together.
        services.TryAddSingleton(_ => SafeHavenDatabase.Create(options));
        // Migrations run once, when the first airlock service is built (at start, by the hosted scan job at the latest);
        // an existing DATA/airlock.db of an earlier version is adopted then. Blocking here is safe: a DI factory runs
        // outside any synchronisation context.
        services.AddSingleton(sp => AirlockDatabase.OpenAsync(sp.GetRequiredService<SafeHavenDatabase>(), options.ResolveDataPath("airlock.db"), CancellationToken.None)
            .GetAwaiter().GetResult());
        services.AddSingleton<IBlobReferences>(sp => new AirlockBlobReferences(sp.GetRequiredService<AirlockDatabase>()));
        services.AddSingleton<IVolumeStore>(sp => new DatabaseVolumeStore(sp.GetRequiredService<AirlockDatabase>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<IUploadSessionStore>(sp => new DatabaseUploadSessionStore(sp.GetRequiredService<AirlockDatabase>()));
        // In-flight chunks live in the shared blob store (s3: the bucket's airlock-chunks/ prefix), so an upload begun
        // on one replica completes on another; never beside the files, since chunk blobs are deleted after joining.
        services.AddKeyedSingleton(ChunkStoreKey, (_, _) => BlobStoreServiceCollectionExtensions.CreateAreaBlobStore(options, ChunkStoreKey));
        services.AddSingleton(sp => new UploadService(sp.GetRequiredService<IUploadSessionStore>(), sp.GetRequiredService<IVolumeStore>(),
            sp.GetRequiredService<IBlobStore>(), sp.GetRequiredKeyedService<IBlobStore>(ChunkStoreKey), sp.GetService<TimeProvider>(),
            new UploadLimits(airlock.Storage.MaxVolumeBytes, airlock.Storage.MinFreeBytes, stores.Select(s => s.Path).ToList())));
        services.AddSingleton(sp => new AirlockTokens(sp.GetRequiredService<AirlockDatabase>(), sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new SubmissionStore(sp.GetRequiredService<AirlockDatabase>(), sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new AirlockInspector(airlock.Inspection, airlock.Inspection.ClamdscanPath is { Length: > 0 } clamd
            ? new ClamdscanScanner(clamd, TimeSpan.FromSeconds(airlock.Inspection.ClamAvTimeoutSeconds), sp.GetRequiredService<ILogger<ClamdscanScanner>>())
            : null));
        services.AddSingleton<AirlockAlerts>();
        services.AddSingleton<IScanTrigger, QuartzScanTrigger>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<AirlockWorkflow>(sp, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton(sp => new ScanClaims(sp.GetRequiredService<AirlockDatabase>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<SafeHaven.Gateway.Health.IHealthContributor>(sp => new ScanQueueHealth(sp.GetRequiredService<ScanClaims>(), airlock, sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new AirlockScanner(sp.GetRequiredService<AirlockWorkflow>(), sp.GetRequiredService<ScanClaims>(), airlock,
            sp.GetRequiredService<ILogger<AirlockScanner>>(), sp.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? default));
        services.AddSingleton(sp => new VolumeIntegrityVerifier(sp.GetRequiredService<IVolumeStore>(), sp.GetRequiredService<IBlobStore>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<AirlockIntegrityStatus>();
        services.AddSingleton<IIntegrityMismatchSink>(sp => sp.GetRequiredService<AirlockIntegrityStatus>());
        services.AddSingleton<SafeHaven.Gateway.Health.IHealthContributor, Api.AirlockHealth>();

        var interval = TimeSpan.FromHours(Math.Max(airlock.IntegrityIntervalHours, 1.0 / 60));
        services.AddQuartz(quartz =>
        {
            quartz.AddJob<VolumeIntegrityJob>(job => job.WithIdentity(IntegrityJobKey).StoreDurably());
            quartz.AddTrigger(trigger => trigger
                .ForJob(IntegrityJobKey)
                .WithIdentity("airlock-integrity-schedule", "airlock")
                .StartAt(DateTimeOffset.UtcNow + interval)
                .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever()));
            // Inspections: polled (pending and overdue ones; also what resumes them after a restart) and nudged on submit.
            quartz.AddJob<AirlockScanJob>(job => job.WithIdentity(AirlockScanJob.Key).StoreDurably());
            quartz.AddTrigger(trigger => trigger
                .ForJob(AirlockScanJob.Key)
                .WithIdentity("airlock-scan-poll", "airlock")
                .StartNow()
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(airlock.ScanPollSeconds)).RepeatForever()));
        });
        return services;
    }

    public static readonly JobKey IntegrityJobKey = new("airlock-integrity", "airlock");

    /// <summary>The keyed <see cref="IBlobStore"/> holding in-flight upload chunks, and its S3 prefix or data folder.</summary>
    public const string ChunkStoreKey = "airlock-chunks";

    /// <summary>Maps <c>/api/airlock/**</c>, <c>/airlock/deposit/**</c>, <c>/airlock/release/**</c> and <c>/healthz/airlock</c>.</summary>
    public static IEndpointRouteBuilder MapSafeHavenAirlock(this IEndpointRouteBuilder app)
    {
        AirlockEndpoints.Map(app);
        app.MapGet("/healthz/airlock", (AirlockIntegrityStatus status) =>
        {
            var (section, problems) = status.Health();
            return AirlockJson.Ok(new { status = problems.Count == 0 ? "healthy" : "degraded", problems, airlock = section });
        }).AllowAnonymous();
        app.MapPost("/api/airlock/integrity/run", RunIntegrityAsync)
            .RequireAuthorization(SafeHaven.Management.Api.ManagementPolicies.SystemManager)
            .WithSummary("Run the integrity re-verification now (System Manager); results appear on /healthz.");
        return app;
    }

    /// <summary>Runs the integrity job now (what the schedule does), for operators and tests: <c>POST /api/airlock/integrity/run</c>.</summary>
    internal static async Task<IResult> RunIntegrityAsync(ISchedulerFactory schedulers, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(IntegrityJobKey, cancellationToken).ConfigureAwait(false);
        return Results.Accepted();
    }
}
